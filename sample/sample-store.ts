import { Redis } from 'ioredis';
import type { FlumeConnectionOptions, FlumeMemoryConnection } from '../lib/index.js';
import { NAMESPACE } from './sample.config.js';

/** Where the sample keeps its jobs: Redis when one answers, else Flume's memory store. */
export type SampleStore =
  | { kind: 'redis'; url: string; connection: FlumeConnectionOptions; deletedKeys: number }
  | { kind: 'memory'; url: string; why: string; connection: FlumeMemoryConnection };

/** Host and port of a Redis URL, for messages: a URL may hold a password. */
export function hostOf(url: string): string {
  try {
    const { hostname, port } = new URL(url);
    return `${hostname || '127.0.0.1'}:${port || 6379}`;
  } catch {
    return 'an unparsable REDIS_URL';
  }
}

/**
 * Redis when one answers at `url` within `timeoutMs`, after deleting what a previous
 * run of the sample left in its namespace; otherwise Flume's memory store, and why.
 * (Flume itself would boot without Redis and wait for it: the sample decides up front.)
 */
export async function chooseStore(url: string, timeoutMs = 1_000): Promise<SampleStore> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  let cause: Error | undefined;
  redis.on('error', (err: Error) => (cause ??= err)); // reported below, once
  try {
    await redis.connect();
    await redis.ping();
    const deletedKeys = await clearNamespace(redis);
    return { kind: 'redis', url, connection: { url }, deletedKeys };
  } catch (err) {
    const why = (cause ?? (err as Error)).message;
    return { kind: 'memory', url, why, connection: { memory: true } };
  } finally {
    redis.disconnect();
  }
}

/** The memory store, chosen without asking Redis: for tests, where a test mode decides anyway. */
export function inMemory(why = 'not asked'): SampleStore {
  return { kind: 'memory', url: '', why, connection: { memory: true } };
}

/** What the sample says first: where its jobs are. */
export function describeStore(store: SampleStore): string {
  if (store.kind === 'redis') {
    const deleted =
      store.deletedKeys > 0 ? ` (deleted ${store.deletedKeys} key(s) a previous run left)` : '';
    return `Jobs are kept in Redis at ${hostOf(store.url)}${deleted}.`;
  }
  return (
    `No Redis answers at ${hostOf(store.url)} (${store.why}): running on Flume's memory store ` +
    'instead (this process only; nothing is kept after it exits). Start redis-server, or point ' +
    'REDIS_URL at one, to run on Redis.'
  );
}

/** Deletes the keys of the sample's namespace; resolves to how many there were. */
async function clearNamespace(redis: Redis): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${NAMESPACE}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.del(...keys);
  } while (cursor !== '0');
  return deleted;
}
