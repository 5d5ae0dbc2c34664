import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  FlumeClient,
  FlumeConnectionError,
  Worker,
  type FlumeModuleOptions,
} from '../../lib/index.js';
import { Apps } from '../support/apps.js';
import { CaptureLogger } from '../support/capture-logger.js';
import { within } from '../support/gate.js';
import { JobLog } from '../support/job-log.js';
import { inspector, keysOf, ON_CLUSTER, rawJob } from '../support/redis.js';
import { RedisServer } from '../support/redis-server.js';

@Worker('outage')
class OutageWorker {
  constructor(private readonly log: JobLog) {}

  perform(tag: string): void {
    this.log.record('OutageWorker', [tag]);
  }
}

const COMMAND_TIMEOUT = 500;
const namespace = 'flume-test-outage';

/**
 * Redis of our own, so the shared one on 6379 is never stopped. It stops and starts
 * one single redis-server: runs in the single-Redis run only.
 */
describe.skipIf(ON_CLUSTER)('Redis trouble', () => {
  const apps = new Apps();
  const servers: RedisServer[] = [];
  const inspectors: Redis[] = [];

  function options(server: RedisServer, logger: CaptureLogger): FlumeModuleOptions {
    return {
      connection: { url: server.url },
      namespace,
      pipelines: [{ name: 'outage_pipeline', queue: 'outage', maxDemand: 5 }],
      commandTimeout: COMMAND_TIMEOUT,
      shutdownTimeout: 200,
      logger,
    };
  }

  async function newServer(): Promise<RedisServer> {
    const server = await RedisServer.create();
    servers.push(server);
    return server;
  }

  function inspect(server: RedisServer): Redis {
    const redis = inspector(server.url);
    inspectors.push(redis);
    return redis;
  }

  /** Enqueues, trying again while the connection comes back; resolves once one enqueue went through. */
  async function enqueueOnceBack(client: FlumeClient, tag: string): Promise<void> {
    await expect
      .poll(
        () =>
          client.enqueue('outage', OutageWorker, [tag]).then(
            () => true,
            () => false,
          ),
        { timeout: 10_000, interval: 100 },
      )
      .toBe(true);
  }

  async function expectConnectionError(client: FlumeClient): Promise<void> {
    const started = Date.now();
    const error = await client.enqueue('outage', OutageWorker, ['lost']).catch((err) => err);
    const elapsed = Date.now() - started;
    expect(error).toBeInstanceOf(FlumeConnectionError);
    expect(error.message).toMatch(/127\.0\.0\.1:\d+/);
    // Bounded by commandTimeout (plus timer slack), never hanging.
    expect(elapsed).toBeLessThanOrEqual(COMMAND_TIMEOUT + 1_000);
  }

  afterEach(async () => {
    await apps.closeAll();
    for (const redis of inspectors.splice(0)) redis.disconnect();
  });

  afterAll(async () => {
    for (const server of servers) await server.dispose();
  });

  it('boots while Redis is down, fails enqueues clearly, and starts processing when Redis comes up', async () => {
    const server = await newServer();
    const logger = new CaptureLogger();
    const app = await within(
      apps.boot(options(server, logger), [JobLog, OutageWorker]),
      10_000,
      'the app to boot without Redis',
    );
    const client = app.get(FlumeClient);
    const log = app.get(JobLog);

    await expectConnectionError(client);
    await expectConnectionError(client);
    const downErrors = logger.entries.filter((e) => e.level === 'error' || e.level === 'warn');
    expect(downErrors.length).toBeGreaterThan(0);
    expect(
      logger.find(new RegExp(`127\\.0\\.0\\.1:${server.port}`), 'error').length,
    ).toBeGreaterThan(0);

    await server.start();
    const redis = inspect(server);
    // A job another process enqueued while we were waiting for Redis.
    await redis.rpush(
      keysOf(namespace, 'outage').waiting,
      rawJob({ queue: 'outage', class: 'OutageWorker', args: ['waited'] }),
    );
    await log.untilCount(1, 'OutageWorker', 10_000);
    await enqueueOnceBack(client, 'after');
    await log.untilCount(2, 'OutageWorker');
    expect(log.performed.map((p) => p.args[0])).toEqual(['waited', 'after']);
    expect(logger.find(/is back after \d+ ms/, 'log').length).toBeGreaterThan(0);
    // Logged once per connection and outage, not per reconnect attempt (there were
    // several: the outage lasted over a second, with retries from 50 ms on).
    const failures = logger.find(/^Redis connection "[^"]+" to .* failed: /, 'error');
    const labels = failures.map((e) => /^Redis connection "([^"]+)"/.exec(e.message)![1]);
    expect(labels.length).toBeGreaterThan(0);
    expect(new Set(labels).size).toBe(labels.length);
  });

  it('keeps going when Redis dies under it and comes back', async () => {
    const server = await newServer();
    await server.start();
    const logger = new CaptureLogger();
    const app = await apps.boot(options(server, logger), [JobLog, OutageWorker]);
    const client = app.get(FlumeClient);
    const log = app.get(JobLog);
    await client.enqueue('outage', OutageWorker, ['before']);
    await log.untilCount(1, 'OutageWorker');

    await server.stop('SIGKILL'); // an outage, not a clean shutdown
    await expectConnectionError(client);

    await server.start();
    await enqueueOnceBack(client, 'after-restart');
    await log.untilCount(2, 'OutageWorker', 10_000);
    expect(log.performed.map((p) => p.args[0])).toEqual(['before', 'after-restart']);
    const redis = inspect(server);
    await expect.poll(() => redis.zcard(keysOf(namespace, 'outage').processing)).toBe(0);
  });

  it('closes promptly while Redis is down', async () => {
    const server = await newServer();
    const app: INestApplicationContext = await apps.boot(options(server, new CaptureLogger()), [
      JobLog,
      OutageWorker,
    ]);
    await within(apps.close(app), 5_000, 'app.close() with Redis down');
  });
});
