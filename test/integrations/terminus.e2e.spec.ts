import 'reflect-metadata';
import { Controller, Get, Inject, type INestApplication } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  FlumeClient,
  FlumeModule,
  FlumeProducer,
  FlumeTestingModule,
  Worker,
  type FlumeModuleOptions,
} from '../../lib/index.js';
import { FlumeEngine } from '../../lib/engine/index.js';
import { FLUME_ENGINE } from '../../lib/flume.constants.js';
import {
  FlumeHealthIndicator,
  type FlumeHealthCheckOptions,
} from '../../lib/integrations/terminus/index.js';
import { CaptureLogger } from '../support/capture-logger.js';
import {
  deleteNamespace,
  inspector,
  testConnection,
  type TestRedis,
  uniqueNamespace,
} from '../support/redis.js';
import { RedisServer } from '../support/redis-server.js';

const CHECK = Symbol('CHECK');

@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly flume: FlumeHealthIndicator,
    @Inject(CHECK) private readonly opts: FlumeHealthCheckOptions,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.flume.isHealthy('flume', this.opts)]);
  }
}

@Worker('hc')
class HcWorker {
  perform(): void {}
}

/** A Nest HTTP app with FlumeModule and a /health endpoint, listening on a free port. */
async function httpApp(
  flume: ReturnType<typeof FlumeModule.forRoot>,
  opts: FlumeHealthCheckOptions,
) {
  const moduleRef = await Test.createTestingModule({
    imports: [flume, TerminusModule.forRoot({ logger: false })],
    controllers: [HealthController],
    providers: [HcWorker, FlumeHealthIndicator, { provide: CHECK, useValue: opts }],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.listen(0, '127.0.0.1');
  return app;
}

async function health(app: INestApplication) {
  const response = await fetch(`${await app.getUrl()}/health`);
  return { status: response.status, body: (await response.json()) as any };
}

describe('FlumeHealthIndicator (nestjs-flume/terminus)', () => {
  const namespace = uniqueNamespace('terminus');
  const open = new Set<INestApplication>();
  let redis: TestRedis;
  const options = (over: Partial<FlumeModuleOptions> = {}): FlumeModuleOptions => ({
    connection: testConnection(),
    namespace,
    logger: new CaptureLogger(),
    pipelines: [{ name: 'hc', queue: 'hc' }],
    ...over,
  });
  const boot = async (flume: FlumeModuleOptions, opts: FlumeHealthCheckOptions = {}) => {
    const app = await httpApp(FlumeModule.forRoot(flume), opts);
    open.add(app);
    return app;
  };

  beforeAll(() => {
    redis = inspector();
  });

  afterEach(async () => {
    await Promise.allSettled([...open].map((app) => app.close()));
    open.clear();
  });

  afterAll(async () => {
    await deleteNamespace(redis, namespace);
    redis.disconnect();
  });

  it('is up when Redis answers and the pipelines run, paused or not', async () => {
    const app = await boot(options());
    const up = await health(app);
    expect(up.status).toBe(200);
    expect(up.body).toMatchObject({ status: 'ok' });
    expect(up.body.details.flume).toEqual({
      status: 'up',
      redis: 'up',
      pipelines: { hc: { status: 'running', paused: false, running: 0 } },
    });

    await app.get(FlumeProducer).pause('hc', { temporary: true });
    const paused = await health(app);
    expect(paused.status).toBe(200);
    expect(paused.body.details.flume.pipelines.hc).toMatchObject({ paused: true });
  });

  it('is down past the thresholds on waiting or dead jobs, naming the queue', async () => {
    const app = await boot(options(), { maxWaiting: 2, maxDead: 0, queues: ['hc-idle'] });
    const client = app.get(FlumeClient);
    expect((await health(app)).body.details.flume.queues).toEqual({
      'hc-idle': { waiting: 0, dead: 0 },
    });
    await client.bulkEnqueue(
      'hc-idle',
      [1, 2, 3].map((n) => ({ worker: 'Remote', args: [n] })),
    );
    const down = await health(app);
    expect(down.status).toBe(503);
    expect(down.body.status).toBe('error');
    expect(down.body.error.flume).toMatchObject({
      status: 'down',
      redis: 'up',
      queues: { 'hc-idle': { waiting: 3, dead: 0 } },
    });
    expect(down.body.error.flume.message).toBe('Queue "hc-idle" has 3 waiting job(s), over 2');
  });

  it('is down when a pipeline of this process stopped taking jobs', async () => {
    const app = await boot(options());
    const runner = (app.get(FLUME_ENGINE) as FlumeEngine).runner('hc');
    vi.spyOn(runner, 'state', 'get').mockReturnValue({ status: 'failed', error: new Error('x') });
    const down = await health(app);
    expect(down.status).toBe(503);
    expect(down.body.error.flume.pipelines.hc.status).toBe('failed');
    expect(down.body.error.flume.message).toMatch(
      /Pipeline\(s\) "hc" of this process are not running/,
    );
  });

  it('is down while Redis is down, and up again once it is back', async () => {
    const server = await RedisServer.start();
    try {
      const app = await boot(options({ connection: { url: server.url } }), { timeout: 300 });
      expect((await health(app)).status).toBe(200);

      await server.stop();
      const down = await health(app);
      expect(down.status).toBe(503);
      expect(down.body.error.flume).toMatchObject({ status: 'down', redis: 'down' });
      expect(down.body.error.flume.message).toMatch(/^Redis did not answer/);

      await server.start();
      // Up again once the connection is back (it reconnects by itself).
      await expect.poll(async () => (await health(app)).status, { timeout: 10_000 }).toBe(200);
    } finally {
      await Promise.allSettled([...open].map((app) => app.close()));
      open.clear();
      await server.dispose();
    }
  });

  it('is down for an app whose Redis never answered (a closed port)', async () => {
    const closed = await RedisServer.create();
    const app = await boot(options({ connection: { url: closed.url }, commandTimeout: 300 }), {
      timeout: 300,
    });
    const down = await health(app);
    expect(down.status).toBe(503);
    expect(down.body.error.flume.redis).toBe('down');
  });

  it('is up in test mode, saying there is no Redis', async () => {
    const app = await httpApp(FlumeTestingModule.forRoot({ mode: 'fake' }), {});
    open.add(app);
    const up = await health(app);
    expect(up.status).toBe(200);
    expect(up.body.details.flume.message).toMatch(/test mode/);
  });
});
