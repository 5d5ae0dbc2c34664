import { once } from 'node:events';
import { Cluster, Redis } from 'ioredis';
import type { FlumeConnectionOptions, FlumeMemoryConnection } from '../../lib/index.js';
import { clusterConnectionFromEnv } from './cluster.js';

/** Where the tests find Redis: REDIS_URL, or the local default. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A namespace no other spec (or earlier run) uses. */
export function uniqueNamespace(spec: string): string {
  return `flume-test:${spec}:${process.pid}:${Date.now().toString(36)}`;
}

/**
 * Whether this run goes to the local Redis Cluster (FLUME_TEST_CLUSTER=1, see
 * cluster-global-setup.ts) rather than the single Redis.
 */
export const ON_CLUSTER = clusterConnectionFromEnv() !== undefined;

/**
 * Whether this run goes to the memory store (FLUME_TEST_STORE=memory, set by the
 * "memory" project of vitest.config.ts for the shared specs of test/e2e/behaviour/).
 */
export const ON_MEMORY = process.env.FLUME_TEST_STORE === 'memory';

/** The `connection` option of the e2e specs: the memory store, the run's cluster, or the single Redis. */
export function testConnection(): FlumeConnectionOptions | FlumeMemoryConnection {
  if (ON_MEMORY) return { memory: true };
  return clusterConnectionFromEnv() ?? { url: REDIS_URL };
}

/** A client of the Redis the specs run on: one Redis, or a Cluster client. */
export type TestRedis = Redis | Cluster;

/**
 * A connection for inspecting and arranging Redis state in a test: on the run's
 * cluster when there is one; to `url` (a server of the test's own) when given.
 */
export function inspector(): TestRedis;
export function inspector(url: string): Redis;
export function inspector(url?: string): TestRedis {
  const cluster = url === undefined ? clusterConnectionFromEnv()?.cluster : undefined;
  if (cluster) return new Cluster(cluster);
  return new Redis(url ?? REDIS_URL, { lazyConnect: false });
}

/** SCAN on one server for the keys of `namespace`. */
async function scanNode(redis: Redis, namespace: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${namespace}:*`, 'COUNT', 1000);
    cursor = next;
    found.push(...keys);
  } while (cursor !== '0');
  return found;
}

/**
 * Every key of `namespace`. On a cluster, each master holds only its own slots'
 * keys, so every master is scanned; the Cluster client must be ready first, or it
 * knows no master yet and the answer would be an empty list that checks nothing.
 */
export async function namespaceKeys(redis: TestRedis, namespace: string): Promise<string[]> {
  if (!(redis instanceof Cluster)) return scanNode(redis, namespace);
  if (redis.status !== 'ready') await once(redis, 'ready');
  const masters = redis.nodes('master');
  if (masters.length === 0) throw new Error('the Cluster client knows no master');
  return (await Promise.all(masters.map((node) => scanNode(node, namespace)))).flat();
}

/**
 * The keys of `namespace` that hold jobs or their state: every key but the heartbeats
 * of the app's processes (`ns:processes:{processes}...`), which a booted app writes
 * whatever it enqueues.
 */
export async function jobKeys(redis: TestRedis, namespace: string): Promise<string[]> {
  const heartbeats = `${namespace}:processes:{processes}`;
  return (await namespaceKeys(redis, namespace)).filter((key) => !key.startsWith(heartbeats));
}

/** Deletes every key of `namespace`. */
export async function deleteNamespace(redis: TestRedis, namespace: string): Promise<void> {
  const keys = await namespaceKeys(redis, namespace);
  if (redis instanceof Cluster) {
    // One key per DEL: a DEL of keys in several slots is refused with CROSSSLOT.
    await Promise.all(keys.map((key) => redis.del(key)));
    return;
  }
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
    leases: `${waiting}:leases`,
    recoveries: `${waiting}:recoveries`,
    leaseSeq: `${waiting}:lease_seq`,
    prioritized: `${waiting}:prioritized`,
    prioritySeq: `${waiting}:priority_seq`,
    groups: `${waiting}:groups`,
    groupLeases: `${waiting}:group_leases`,
    groupsPaused: `${waiting}:groups_paused`,
    groupPrefix: `${waiting}:group:`,
    groupLimitPrefix: `${waiting}:group_limit:`,
    scheduled: `${waiting}:scheduled`,
    retry: `${waiting}:retry`,
    dead: `${waiting}:dead`,
    periodic: `${waiting}:periodic`,
    periodicPaused: `${waiting}:periodic_paused`,
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
