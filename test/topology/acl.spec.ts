import 'reflect-metadata';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  FlumeClient,
  FlumeConnectionError,
  FlumeInspector,
  FlumeProducer,
  type FlumeModuleOptions,
} from '../../lib/index.js';
import { RedisConnections } from '../../lib/engine/connection.js';
import { Apps } from '../support/apps.js';
import { CaptureLogger } from '../support/capture-logger.js';
import { JobLog } from '../support/job-log.js';
import { keysOf, rawJob } from '../support/redis.js';
import { documentedAclRule } from './support/acl-rule.js';
import { FLOW_QUEUE, FlowWorker } from './support/flow.js';
import { Topology, type StartedRedis } from './support/servers.js';

const PASSWORD = 'flume-acl-S3cret-pw';
const WRONG_PASSWORD = 'wrong-S3cret-never-shown';
const NAMESPACE = 'acl-app';

describe('ACL: a user with the minimal documented rule', () => {
  const topology = new Topology('acl');
  const apps = new Apps();
  let server: StartedRedis;
  const consoleLines: string[] = [];

  beforeAll(async () => {
    server = await topology.redis();
    expect(await server.admin.call('ACL', ...documentedAclRule(NAMESPACE, PASSWORD))).toBe('OK');
    // ioredis warns on the console (e.g. a skipped ready check): keep those lines too.
    for (const method of ['log', 'warn', 'error'] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        consoleLines.push(args.map((a) => inspect(a, { depth: 10 })).join(' '));
      });
    }
  });

  afterEach(() => apps.closeAll());

  afterAll(async () => {
    vi.restoreAllMocks();
    await apps.closeAll();
    await topology.stop();
  });

  function boot(
    connection: FlumeModuleOptions['connection'],
    extra: Partial<FlumeModuleOptions> = {},
    log = new JobLog(),
  ) {
    const logger = new CaptureLogger();
    return apps
      .boot(
        {
          connection,
          namespace: NAMESPACE,
          logger,
          commandTimeout: 1_000,
          backoffInitial: 20,
          backoffMax: 40,
          visibilityTimeout: 1_000,
          ...extra,
        },
        [{ provide: JobLog, useValue: log }, FlowWorker],
      )
      .then((app) => ({ app, log, logger }));
  }

  it('runs the engine as that user with no command or key refused', async () => {
    await server.admin.call('ACL', 'LOG', 'RESET');
    // A lease left by a dead worker, for the recoverer to hand back.
    const flowKeys = keysOf(NAMESPACE, FLOW_QUEUE);
    const abandoned = rawJob({ queue: FLOW_QUEUE, class: 'flow', args: ['recovered'] });
    await server.admin.hset(flowKeys.leases, '1', abandoned);
    await server.admin.zadd(flowKeys.processing, Date.now() - 1_000, '1');
    const { app, log, logger } = await boot(
      { host: '127.0.0.1', port: server.port, username: 'flume', password: PASSWORD },
      {
        pipelines: [
          {
            name: 'flow',
            queue: FLOW_QUEUE,
            maxDemand: 5,
            rateLimitCount: 100,
            rateLimitScale: 1_000,
          },
        ],
      },
    );
    // An API-only process with the credentials in the URL.
    const api = await boot(
      { url: `redis://flume:${PASSWORD}@127.0.0.1:${server.port}` },
      { pipelines: [] },
    );
    const client = api.app.get(FlumeClient);
    await client.enqueue(FLOW_QUEUE, 'flow', ['now']);
    await client.enqueue(FLOW_QUEUE, 'flow', ['retried', true]);
    await client.enqueueIn(FLOW_QUEUE, 100, 'flow', ['scheduled']);
    await client.bulkEnqueue(FLOW_QUEUE, [{ worker: 'flow', args: ['bulk'] }]);
    // Past 5,000 jobs a bulk enqueue is a MULTI of RPUSHes.
    const many = Array.from({ length: 5_001 }, (_, i) => ({ worker: 'nobody', args: [i] }));
    await client.bulkEnqueue('not-consumed', many);
    expect(await client.jobCounts(['not-consumed'])).toEqual({ 'not-consumed': 5_001 });
    // A job no worker handles goes to the dead set.
    const deadId = await client.enqueue(FLOW_QUEUE, 'nobody', [1]);
    await log.until(
      () =>
        ['now', 'retried', 'scheduled', 'bulk', 'recovered'].every((id) =>
          log.performed.some((p) => p.args[0] === id),
        ),
      'every job',
    );

    // Pause and resume for every instance: the paused hash.
    const producer = app.get(FlumeProducer);
    await producer.pause('flow', { temporary: false });
    await producer.resume('flow', { temporary: false });

    // The inspector: counts, lists, retry now, delete.
    const inspector = app.get(FlumeInspector);
    await vi.waitFor(async () => expect((await inspector.queueStats(FLOW_QUEUE)).dead).toBe(1));
    const [dead] = await inspector.list(FLOW_QUEUE, 'dead');
    expect(dead.jid).toBe(deadId);
    expect(await inspector.retryNow(FLOW_QUEUE, 'dead', deadId)).toBe(true);
    await vi.waitFor(async () => expect((await inspector.queueStats(FLOW_QUEUE)).dead).toBe(1));
    expect(await inspector.delete(FLOW_QUEUE, 'dead', deadId)).toBe(true);

    // A job longer than a third of the visibility timeout: its lease is renewed.
    await client.enqueue(FLOW_QUEUE, 'flow', ['slow', false, 500]);
    await log.until(() => log.performed.some((p) => p.args[0] === 'slow'), 'the slow job');
    await apps.closeAll();

    const refused = (await server.admin.call('ACL', 'LOG')) as unknown[][];
    expect(refused.map((entry) => inspect(entry))).toEqual([]);
    expect(logger.find(/NOPERM|no permissions/)).toEqual([]);
    expect(consoleLines.filter((line) => /NOPERM|ready check/.test(line))).toEqual([]);
    const everything = [...logger.entries.map((e) => e.message), ...consoleLines].join('\n');
    expect(everything).not.toContain(PASSWORD);
  });

  it('keeps the user to its namespace and to the commands it needs', async () => {
    const redis = topology.connect({ port: server.port, username: 'flume', password: PASSWORD });
    expect(await redis.llen(`${NAMESPACE}:queue:{x}`)).toBe(0);
    await expect(redis.get('other-app:secret')).rejects.toThrow(/NOPERM/);
    await expect(redis.llen('other-app:queue:{x}')).rejects.toThrow(/NOPERM/);
    await expect(redis.call('FLUSHALL')).rejects.toThrow(/NOPERM/);
    await expect(redis.call('CONFIG', 'GET', 'maxmemory')).rejects.toThrow(/NOPERM/);
    await expect(redis.keys('*')).rejects.toThrow(/NOPERM/);
  });

  it('never shows a wrong password: not in errors, their causes, or any log line', async () => {
    const attempts: FlumeModuleOptions['connection'][] = [
      { host: '127.0.0.1', port: server.port, username: 'flume', password: WRONG_PASSWORD },
      { url: `redis://flume:${WRONG_PASSWORD}@127.0.0.1:${server.port}` },
    ];
    for (const connection of attempts) {
      const { app, logger } = await boot(connection, {
        pipelines: [{ name: 'flow', queue: FLOW_QUEUE, maxDemand: 1 }],
        commandTimeout: 500,
      });
      const error = await app
        .get(FlumeClient)
        .enqueue(FLOW_QUEUE, 'flow', ['x'])
        .catch((err: unknown) => err);
      expect(error).toBeInstanceOf(FlumeConnectionError);
      await vi.waitFor(() => expect(logger.find(/WRONGPASS/)).not.toEqual([]));
      await apps.closeAll();
      const shown = [inspect(error, { depth: Infinity }), ...logger.entries.map((e) => e.message)];
      expect(shown.join('\n')).not.toContain(WRONG_PASSWORD);
    }
    expect(consoleLines.join('\n')).not.toContain(WRONG_PASSWORD);
  });

  it('blanks the password on the errors ioredis emits and rejects queued commands with', async () => {
    const logger = new CaptureLogger();
    const connections = new RedisConnections(
      { host: '127.0.0.1', port: server.port, username: 'flume', password: WRONG_PASSWORD },
      'flume:acl-test',
      500,
      logger,
    );
    try {
      // The failed HELLO ... AUTH carries its arguments; a listener of the app sees the error.
      const emitted = new Promise<unknown>((resolve) => connections.command.once('error', resolve));
      // A command queued on a connection whose AUTH fails is rejected with that error.
      const blocking = connections.createBlocking('probe');
      const rejected = blocking.blmove('a', 'a', 'LEFT', 'LEFT', 1).catch((err: unknown) => err);
      const errors = [await emitted, await rejected];
      for (const err of errors) {
        expect(String(err)).toMatch(/WRONGPASS/);
        const shown = inspect(err, { depth: Infinity });
        expect(shown).toMatch(/hello|auth/i);
        expect(shown).not.toContain(WRONG_PASSWORD);
      }
    } finally {
      await connections.close();
    }
  });
});
