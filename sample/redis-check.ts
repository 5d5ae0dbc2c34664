import { Redis } from 'ioredis';

/**
 * Fails fast, with a message that says what to do, when Redis is not there: the
 * demo needs it. (Flume itself boots without Redis and waits for it.)
 */
export async function assertRedisReachable(url: string, timeoutMs = 3_000): Promise<void> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  let cause: Error | undefined;
  redis.on('error', (err: Error) => (cause ??= err)); // reported below, once
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new Error(
      `The sample needs Redis >= 6.2 at ${url} (${(cause ?? (err as Error)).message}). ` +
        'Start redis-server, or point REDIS_URL at one.',
    );
  } finally {
    redis.disconnect();
  }
}
