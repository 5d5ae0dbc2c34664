import { Signal } from '../wait.js';
import { now } from './clock.js';
import { SortedSet, type Scored } from './sorted-set.js';

/**
 * The memory store's keyspace: the lists, sorted sets, hashes and strings Redis holds
 * for the engine, under the same key names (lib/engine/keys.ts), so that namespaces
 * keep apps apart as they do on one Redis. Like Redis, a key whose list, set or hash
 * becomes empty is gone, and a key past its expiry is gone when next read. Calls are
 * synchronous: a store method that makes several of them is atomic, as a Lua script is.
 */
export class MemoryDb {
  private readonly lists = new Map<string, string[]>();
  private readonly zsets = new Map<string, SortedSet>();
  private readonly hashes = new Map<string, Map<string, string>>();
  private readonly strings = new Map<string, string>();
  private readonly expiries = new Map<string, number>();
  private readonly pushWaiters = new Map<string, Set<() => void>>();
  private readonly writes = new Signal();

  // --- Lists ---

  llen(key: string): number {
    return this.list(key)?.length ?? 0;
  }

  /** Items `start` to `stop` inclusive; negative indexes count from the end (LRANGE). */
  lrange(key: string, start: number, stop: number): string[] {
    const list = this.list(key) ?? [];
    const n = list.length;
    const from = Math.max(0, start < 0 ? n + start : start);
    const to = stop < 0 ? n + stop : stop;
    return list.slice(from, to + 1);
  }

  rpush(key: string, values: readonly string[]): void {
    if (values.length === 0) return;
    const list = this.listForWrite(key);
    for (const value of values) list.push(value);
    this.pushed(key);
  }

  lpush(key: string, value: string): void {
    this.listForWrite(key).unshift(value);
    this.pushed(key);
  }

  /** Removes and returns the first item (LPOP). */
  lpop(key: string): string | undefined {
    const list = this.list(key);
    if (!list) return undefined;
    const first = list.shift();
    this.tidy(key, list.length);
    return first;
  }

  /** Moves the first item to the tail and returns it (LMOVE key key LEFT RIGHT). */
  rotate(key: string): string | undefined {
    const list = this.list(key);
    const first = list?.shift();
    if (first !== undefined) list!.push(first);
    return first;
  }

  /** Removes the last occurrence of `value` (LREM key -1 value). */
  removeLast(key: string, value: string): void {
    const list = this.list(key);
    if (!list) return;
    const at = list.lastIndexOf(value);
    if (at >= 0) list.splice(at, 1);
    this.tidy(key, list.length);
  }

  /** Drops the first `count` items (LTRIM key count -1). */
  dropHead(key: string, count: number): void {
    const list = this.list(key);
    if (!list) return;
    list.splice(0, count);
    this.tidy(key, list.length);
  }

  /**
   * Resolves once list `key` has an item (at once when it has one), or when `signal`
   * aborts; a push to it wakes every waiter, as BLMOVE's clients are woken.
   */
  untilPushed(key: string, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (this.llen(key) > 0 || signal.aborted) return resolve();
      let waiters = this.pushWaiters.get(key);
      if (!waiters) this.pushWaiters.set(key, (waiters = new Set()));
      const done = () => {
        waiters.delete(done);
        if (waiters.size === 0) this.pushWaiters.delete(key);
        signal.removeEventListener('abort', done);
        resolve();
      };
      waiters.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  // --- Sorted sets ---

  zcard(key: string): number {
    return this.zset(key)?.size ?? 0;
  }

  zscore(key: string, member: string): number | undefined {
    return this.zset(key)?.score(member);
  }

  zadd(key: string, score: number, member: string): void {
    let set = this.zset(key);
    if (!set) this.zsets.set(key, (set = new SortedSet()));
    set.add(member, score);
    this.wrote();
  }

  zrem(key: string, member: string): boolean {
    const set = this.zset(key);
    if (!set?.remove(member)) return false;
    this.tidy(key, set.size);
    return true;
  }

  /** Members scored at most `max`, lowest first, at most `limit` (ZRANGEBYSCORE -inf max). */
  zupTo(key: string, max: number, limit?: number): Scored[] {
    return this.zset(key)?.upTo(max, limit) ?? [];
  }

  /** Members scored exactly `score`. */
  zat(key: string, score: number): Scored[] {
    return this.zset(key)?.at(score) ?? [];
  }

  /** Members by rank (ZRANGE start stop WITHSCORES). */
  zrange(key: string, start: number, stop: number): Scored[] {
    return this.zset(key)?.range(start, stop) ?? [];
  }

  /** Removes members scored at most `max` (or below it unless `inclusive`). */
  zremUpTo(key: string, max: number, inclusive: boolean): void {
    const set = this.zset(key);
    if (!set) return;
    set.removeUpTo(max, inclusive);
    this.tidy(key, set.size);
  }

  /** Removes members by rank (ZREMRANGEBYRANK). */
  zremRanks(key: string, start: number, stop: number): void {
    const set = this.zset(key);
    if (!set) return;
    set.removeRanks(start, stop);
    this.tidy(key, set.size);
  }

  // --- Hashes ---

  hget(key: string, field: string): string | undefined {
    return this.hash(key)?.get(field);
  }

  hlen(key: string): number {
    return this.hash(key)?.size ?? 0;
  }

  hkeys(key: string): string[] {
    return [...(this.hash(key)?.keys() ?? [])];
  }

  hset(key: string, field: string, value: string): void {
    let hash = this.hash(key);
    if (!hash) this.hashes.set(key, (hash = new Map()));
    hash.set(field, value);
    this.wrote();
  }

  hdel(key: string, field: string): void {
    const hash = this.hash(key);
    if (!hash?.delete(field)) return;
    this.tidy(key, hash.size);
  }

  hincrby(key: string, field: string, by: number): number {
    const value = Number(this.hget(key, field) ?? 0) + by;
    this.hset(key, field, String(value));
    return value;
  }

  // --- Strings ---

  get(key: string): string | undefined {
    this.expire(key);
    return this.strings.get(key);
  }

  /** Sets `key`, with an expiry `pxMs` from now when given (SET key value [PX ms]). */
  set(key: string, value: string, pxMs?: number): void {
    this.del(key);
    this.strings.set(key, value);
    if (pxMs !== undefined) this.pexpire(key, pxMs);
    this.wrote();
  }

  incrby(key: string, by: number): number {
    const value = Number(this.get(key) ?? 0) + by;
    this.strings.set(key, String(value));
    this.wrote();
    return value;
  }

  // --- Keys ---

  del(key: string): void {
    const existed =
      this.lists.delete(key) ||
      this.zsets.delete(key) ||
      this.hashes.delete(key) ||
      this.strings.delete(key);
    this.expiries.delete(key);
    if (existed) this.wrote();
  }

  /** Expires `key` `ms` from now (PEXPIRE); keys past their time are dropped as met. */
  pexpire(key: string, ms: number): void {
    const at = now();
    // Few keys expire (take records, rate-limit windows): sweep them all here.
    for (const [other, expiresAt] of this.expiries) if (expiresAt <= at) this.del(other);
    this.expiries.set(key, at + ms);
  }

  /** Names of the keys that start with `prefix`, of any type. */
  keys(prefix: string): string[] {
    const all = [
      ...this.lists.keys(),
      ...this.zsets.keys(),
      ...this.hashes.keys(),
      ...this.strings.keys(),
    ];
    return all.filter((key) => key.startsWith(prefix) && (this.expire(key), this.exists(key)));
  }

  exists(key: string): boolean {
    this.expire(key);
    return (
      this.lists.has(key) || this.zsets.has(key) || this.hashes.has(key) || this.strings.has(key)
    );
  }

  /** Resolves at the next write to any key. */
  changed(): Promise<void> {
    return this.writes.wait();
  }

  private list(key: string): string[] | undefined {
    this.expire(key);
    return this.lists.get(key);
  }

  private listForWrite(key: string): string[] {
    let list = this.list(key);
    if (!list) this.lists.set(key, (list = []));
    return list;
  }

  private zset(key: string): SortedSet | undefined {
    this.expire(key);
    return this.zsets.get(key);
  }

  private hash(key: string): Map<string, string> | undefined {
    this.expire(key);
    return this.hashes.get(key);
  }

  /** Drops `key` when its time has come. */
  private expire(key: string): void {
    const at = this.expiries.get(key);
    if (at !== undefined && at <= now()) this.del(key);
  }

  /** After a removal: an empty list, set or hash is no key at all, as in Redis. */
  private tidy(key: string, size: number): void {
    if (size === 0) this.del(key);
    this.wrote();
  }

  private pushed(key: string): void {
    for (const wake of [...(this.pushWaiters.get(key) ?? [])]) wake();
    this.wrote();
  }

  private wrote(): void {
    this.writes.notify();
  }
}
