import { Cluster } from 'ioredis';
import { processMemoryDb } from '../../lib/engine/memory/memory-backend.js';
import type { MemoryDb } from '../../lib/engine/memory/memory-db.js';
import { MemoryStore } from '../../lib/engine/memory/memory-store.js';
import { RedisStore } from '../../lib/engine/redis-store.js';
import type { FlumeStore } from '../../lib/engine/store.js';
import { deleteNamespace, inspector, jobKeys, ON_MEMORY, type TestRedis } from './redis.js';

/**
 * What a spec reads and arranges in the store its apps run on, in Redis' commands and
 * key names (see keysOf), whichever store that is: the run's Redis, or the memory
 * store the apps of this process share (`connection: { memory: true }`).
 */
export interface TestStore {
  llen(key: string): Promise<number>;
  lrange(key: string, start: number, stop: number): Promise<string[]>;
  lpush(key: string, ...values: string[]): Promise<number>;
  rpush(key: string, ...values: string[]): Promise<number>;
  zcard(key: string): Promise<number>;
  /** Members by rank; with 'WITHSCORES', member and score alternate (as ioredis gives them). */
  zrange(
    key: string,
    start: number | string,
    stop: number | string,
    withScores?: 'WITHSCORES',
  ): Promise<string[]>;
  /** ZADD key score member [score member ...]; resolves to how many were new. */
  zadd(key: string, ...scoresAndMembers: (number | string)[]): Promise<number>;
  hget(key: string, field: string): Promise<string | null>;
  hset(key: string, field: string, value: string | number): Promise<number>;
  hlen(key: string): Promise<number>;
  hexists(key: string, field: string): Promise<number>;
  hgetall(key: string): Promise<Record<string, string>>;
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<unknown>;
  exists(key: string): Promise<number>;
  del(...keys: string[]): Promise<number>;
  /** The engine's own store over the same data, to act as a worker of another process would. */
  flumeStore(): FlumeStore;
  /** Every key of `namespace`. */
  /** Every key of `namespace` but the heartbeats of running apps (see jobKeys). */
  namespaceKeys(namespace: string): Promise<string[]>;
  /** Deletes every key of `namespace`. */
  deleteNamespace(namespace: string): Promise<void>;
  close(): void;
}

/** The store of this run: a connection to the run's Redis, or the process's memory store. */
export function testStore(): TestStore {
  return ON_MEMORY ? memoryTestStore(processMemoryDb()) : redisTestStore();
}

/** A TestStore on the run's Redis, whatever the run. */
export function redisTestStore(): TestStore {
  return new RedisTestStore(inspector());
}

/** A TestStore on `db`, whatever the run. */
export function memoryTestStore(db: MemoryDb): TestStore {
  return new MemoryTestStore(db);
}

class RedisTestStore implements TestStore {
  constructor(private readonly redis: TestRedis) {}

  llen = (key: string) => this.redis.llen(key);
  lrange = (key: string, start: number, stop: number) => this.redis.lrange(key, start, stop);
  lpush = (key: string, ...values: string[]) => this.redis.lpush(key, ...values);
  rpush = (key: string, ...values: string[]) => this.redis.rpush(key, ...values);
  zcard = (key: string) => this.redis.zcard(key);
  zadd = (key: string, ...args: (number | string)[]) => this.redis.zadd(key, ...args);
  hget = (key: string, field: string) => this.redis.hget(key, field);
  hset = (key: string, field: string, value: string | number) => this.redis.hset(key, field, value);
  hlen = (key: string) => this.redis.hlen(key);
  hexists = (key: string, field: string) => this.redis.hexists(key, field);
  hgetall = (key: string) => this.redis.hgetall(key);
  exists = (key: string) => this.redis.exists(key);
  get = (key: string) => this.redis.get(key);
  set = (key: string, value: string) => this.redis.set(key, value);

  zrange(key: string, start: number | string, stop: number | string, withScores?: 'WITHSCORES') {
    const [from, to] = [String(start), String(stop)];
    return withScores
      ? this.redis.zrange(key, from, to, withScores)
      : this.redis.zrange(key, from, to);
  }

  async del(...keys: string[]): Promise<number> {
    // One key per DEL on a cluster: a DEL of keys in several slots is refused (CROSSSLOT).
    if (!(this.redis instanceof Cluster)) return this.redis.del(...keys);
    const deleted = await Promise.all(keys.map((key) => this.redis.del(key)));
    return deleted.reduce((a, b) => a + b, 0);
  }

  flumeStore(): FlumeStore {
    return new RedisStore(this.redis);
  }

  namespaceKeys(namespace: string): Promise<string[]> {
    return jobKeys(this.redis, namespace);
  }

  deleteNamespace(namespace: string): Promise<void> {
    return deleteNamespace(this.redis, namespace);
  }

  close(): void {
    this.redis.disconnect();
  }
}

/** The same commands on a MemoryDb, answered as Redis would. */
class MemoryTestStore implements TestStore {
  constructor(private readonly db: MemoryDb) {}

  async llen(key: string): Promise<number> {
    return this.db.llen(key);
  }

  async lrange(key: string, start: number, stop: number): Promise<string[]> {
    return this.db.lrange(key, start, stop);
  }

  async lpush(key: string, ...values: string[]): Promise<number> {
    for (const value of values) this.db.lpush(key, value);
    return this.db.llen(key);
  }

  async rpush(key: string, ...values: string[]): Promise<number> {
    this.db.rpush(key, values);
    return this.db.llen(key);
  }

  async zcard(key: string): Promise<number> {
    return this.db.zcard(key);
  }

  async zrange(
    key: string,
    start: number | string,
    stop: number | string,
    withScores?: 'WITHSCORES',
  ): Promise<string[]> {
    const entries = this.db.zrange(key, Number(start), Number(stop));
    return entries.flatMap(({ member, score }) =>
      withScores ? [member, String(score)] : [member],
    );
  }

  async zadd(key: string, ...args: (number | string)[]): Promise<number> {
    let added = 0;
    for (let i = 0; i < args.length; i += 2) {
      const member = String(args[i + 1]);
      if (this.db.zscore(key, member) === undefined) added++;
      this.db.zadd(key, Number(args[i]), member);
    }
    return added;
  }

  async hget(key: string, field: string): Promise<string | null> {
    return this.db.hget(key, field) ?? null;
  }

  async hset(key: string, field: string, value: string | number): Promise<number> {
    const added = this.db.hget(key, field) === undefined ? 1 : 0;
    this.db.hset(key, field, String(value));
    return added;
  }

  async hlen(key: string): Promise<number> {
    return this.db.hlen(key);
  }

  async hexists(key: string, field: string): Promise<number> {
    return this.db.hget(key, field) === undefined ? 0 : 1;
  }

  async hgetall(key: string): Promise<Record<string, string>> {
    return Object.fromEntries(
      this.db.hkeys(key).map((field) => [field, this.db.hget(key, field)!]),
    );
  }

  async exists(key: string): Promise<number> {
    return this.db.exists(key) ? 1 : 0;
  }

  async get(key: string): Promise<string | null> {
    return this.db.get(key) ?? null;
  }

  async set(key: string, value: string): Promise<unknown> {
    this.db.set(key, value);
    return 'OK';
  }

  async del(...keys: string[]): Promise<number> {
    let deleted = 0;
    for (const key of keys) {
      if (this.db.exists(key)) deleted++;
      this.db.del(key);
    }
    return deleted;
  }

  flumeStore(): FlumeStore {
    return new MemoryStore(this.db);
  }

  async namespaceKeys(namespace: string): Promise<string[]> {
    const heartbeats = `${namespace}:processes:{processes}`;
    return this.db.keys(`${namespace}:`).filter((key) => !key.startsWith(heartbeats));
  }

  async deleteNamespace(namespace: string): Promise<void> {
    for (const key of this.db.keys(`${namespace}:`)) this.db.del(key);
  }

  close(): void {}
}
