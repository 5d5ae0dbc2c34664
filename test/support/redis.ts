import { Redis } from 'ioredis';

/** Where the tests find Redis: REDIS_URL, or the local default. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A namespace no other spec (or earlier run) uses. */
export function uniqueNamespace(spec: string): string {
  return `flume-test:${spec}:${process.pid}:${Date.now().toString(36)}`;
}

/** A plain connection for inspecting and arranging Redis state in a test. */
export function inspector(): Redis {
  return new Redis(REDIS_URL, { lazyConnect: false });
}

/** Deletes every key of `namespace`. */
export async function deleteNamespace(redis: Redis, namespace: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${namespace}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}
