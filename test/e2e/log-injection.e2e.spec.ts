import 'reflect-metadata';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FlumeClient, Worker } from '../../lib/index.js';
import { Apps } from '../support/apps.js';
import { CaptureLogger } from '../support/capture-logger.js';
import {
  deleteNamespace,
  inspector,
  keysOf,
  rawJob,
  testConnection,
  type TestRedis,
  uniqueNamespace,
} from '../support/redis.js';

const FAKE_LINE = '[Nest] 4242  - 01/01/2026, 10:00:00 AM     LOG [Auth] admin login OK';

/** Captures like CaptureLogger, and resolves `firstError` on the first error line. */
class ErrorWaiter extends CaptureLogger {
  private seen!: () => void;
  readonly firstError = new Promise<void>((resolve) => (this.seen = resolve));

  override error(message: string): void {
    super.error(message);
    this.seen();
  }
}

@Worker('inject')
class InjectWorker {
  perform(): void {}
}

describe('text from Redis in log lines and results', () => {
  const namespace = uniqueNamespace('log-injection');
  const apps = new Apps();
  const redis: TestRedis = inspector();

  afterEach(() => apps.closeAll());
  afterAll(async () => {
    await deleteNamespace(redis, namespace);
    redis.disconnect();
  });

  it('is escaped: a worker name holding a line break prints one line, not a fake one', async () => {
    const logger = new ErrorWaiter();
    await apps.boot(
      {
        connection: testConnection(),
        namespace,
        pipelines: [{ name: 'inject', queue: 'inject', maxDemand: 1 }],
        // An unknown worker is retried (another instance may have it): no retry here, so
        // its one attempt ends in the dead set with one error line.
        maxRetries: 0,
        logger,
      },
      [InjectWorker],
    );
    // As anyone who can write to Redis could: an unknown worker, so the engine logs its name.
    await redis.lpush(
      keysOf(namespace, 'inject').waiting,
      rawJob({ queue: 'inject', class: `Mailer\n${FAKE_LINE}\u2028\u001b[2J`, jid: 'j\r1' }),
    );
    await logger.firstError;

    const mentions = logger.entries.filter((entry) => entry.message.includes('admin login OK'));
    expect(mentions).toHaveLength(1);
    const [line] = mentions;
    expect(line.level).toBe('error');
    expect(line.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
    expect(line.message).toContain(`Mailer\\n${FAKE_LINE}\\u2028\\x1b[2J`);
  });

  it('keeps every queue name in jobCounts, __proto__ and constructor included', async () => {
    const app = await apps.boot({ connection: testConnection(), namespace, logger: false }, [
      InjectWorker,
    ]);
    const client = app.get(FlumeClient);
    await redis.lpush(
      keysOf(namespace, '__proto__').waiting,
      rawJob({ queue: '__proto__', class: 'x' }),
    );
    const counts = await client.jobCounts(['__proto__', 'constructor', 'toString']);
    expect(Object.keys(counts)).toEqual(['__proto__', 'constructor', 'toString']);
    expect(counts['__proto__']).toBe(1);
    expect(counts.constructor).toBe(0);
    expect(counts.toString).toBe(0);
  });
});
