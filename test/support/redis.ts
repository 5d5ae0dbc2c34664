import { Redis } from 'ioredis';

/** Where the tests find Redis: REDIS_URL, or the local default. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A namespace no other spec (or earlier run) uses. */
export function uniqueNamespace(spec: string): string {
  return `flume-test:${spec}:${process.pid}:${Date.now().toString(36)}`;
}

/** A plain connection for inspecting and arranging Redis state in a test. */
export function inspector(url = REDIS_URL): Redis {
  return new Redis(url, { lazyConnect: false });
}

/** Every key of `namespace`. */
export async function namespaceKeys(redis: Redis, namespace: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${namespace}:*`, 'COUNT', 1000);
    cursor = next;
    found.push(...keys);
  } while (cursor !== '0');
  return found;
}

/** Deletes every key of `namespace`. */
export async function deleteNamespace(redis: Redis, namespace: string): Promise<void> {
  const keys = await namespaceKeys(redis, namespace);
  for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
}

/**
 * The keys of one queue, spelled from the documented layout (not from lib/engine/keys.ts),
 * so a test also checks that the engine writes where the README says.
 */
export function keysOf(namespace: string, queue: string) {
  const waiting = `${namespace}:queue:{${queue}}`;
  return {
    waiting,
    processing: `${waiting}:processing`,
    leaseSeq: `${waiting}:lease_seq`,
    scheduled: `${waiting}:scheduled`,
    retry: `${waiting}:retry`,
    dead: `${waiting}:dead`,
  };
}

/** A job payload as an enqueue in another process would write it. */
export function rawJob(fields: {
  queue: string;
  class: string;
  args?: unknown;
  function?: string;
  jid?: string;
  retry_count?: number;
}): string {
  return JSON.stringify({
    jid: fields.jid ?? `raw-${Math.random().toString(36).slice(2)}`,
    queue: fields.queue,
    class: fields.class,
    function: fields.function,
    args: fields.args ?? [],
    retry_count: fields.retry_count ?? 0,
    enqueued_at: Date.now() / 1000,
  });
}
