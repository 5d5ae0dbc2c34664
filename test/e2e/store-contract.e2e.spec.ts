import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { queueKeys, takeRecordKey, type QueueKeys } from '../../lib/engine/keys.js';
import { MemoryDb } from '../../lib/engine/memory/memory-db.js';
import type { FlumeStore, TakeRequest } from '../../lib/engine/store.js';
import { uniqueNamespace } from '../support/redis.js';
import { memoryTestStore, redisTestStore, type TestStore } from '../support/store.js';

/**
 * The two stores side by side: each scenario runs on RedisStore (the Lua scripts) and
 * on MemoryStore (their port), from the same starting data, and what they answer and
 * leave behind must be the same, times aside (Redis' clock and the process's differ by
 * the round trip). The behaviour specs (test/e2e/behaviour/) check the same through the
 * engine; this checks the formats the engine never looks at: lease ids, take records,
 * recovery counts, dead-set documents, the order of members with equal scores.
 */
describe.skipIf(process.env.FLUME_TEST_CLUSTER === '1')('the memory store answers as Redis', () => {
  const redis = redisTestStore();
  const used: string[] = [];

  afterAll(async () => {
    for (const namespace of used) await redis.deleteNamespace(namespace);
    redis.close();
  });

  interface Side {
    store: FlumeStore;
    raw: TestStore;
    keys: QueueKeys;
  }

  /** Runs `scenario` on both stores, each in a namespace of its own; resolves to both results. */
  async function both<T>(scenario: (side: Side) => Promise<T>): Promise<[T, T]> {
    const namespace = uniqueNamespace('store-contract');
    used.push(namespace);
    const onRedis = { store: redis.flumeStore(), raw: redis, keys: queueKeys(namespace, 'q') };
    const raw = memoryTestStore(new MemoryDb());
    const inMemory = { store: raw.flumeStore(), raw, keys: queueKeys(namespace, 'q') };
    return [await scenario(onRedis), await scenario(inMemory)];
  }

  /**
   * `value` with the documents stored as strings read as JSON, fields in their order
   * (cjson on Redis escapes "/" where JSON.stringify does not: the same document), and
   * the times the two clocks disagree on (failed_at) replaced by "T".
   */
  function timeless(value: unknown): unknown {
    if (typeof value === 'string' && value.startsWith('{')) {
      try {
        return { json: timeless(JSON.parse(value)) };
      } catch {
        return value;
      }
    }
    if (Array.isArray(value)) return value.map(timeless);
    if (value === null || typeof value !== 'object') return value;
    return Object.entries(value).map(([key, field]) => [
      key,
      key === 'failed_at' ? 'T' : timeless(field),
    ]);
  }

  async function expectSame<T>(scenario: (side: Side) => Promise<T>): Promise<T> {
    const [onRedis, inMemory] = await both(scenario);
    expect(timeless(inMemory)).toEqual(timeless(onRedis));
    return inMemory;
  }

  const request = (over: Partial<TakeRequest> = {}): TakeRequest => ({
    count: 10,
    leaseMs: 60_000,
    token: 'taker:2',
    previous: 'taker:1',
    recordMs: 60_000,
    maxPayloadBytes: 1_000,
    dead: { maxJobs: 100, maxAgeMs: 3_600_000 },
    ...over,
  });

  /** A job payload, the same bytes on every call (enqueued_at is fixed). */
  const job = (tag: string, extra = '') =>
    JSON.stringify({
      jid: `jid-${tag}`,
      queue: 'q',
      class: 'W',
      args: [tag + extra],
      retry_count: 0,
      enqueued_at: 1_800_000_000.5,
    });

  /** Scores as offsets from the first one: the two clocks differ, the gaps do not. */
  async function members(raw: TestStore, key: string) {
    const flat = await raw.zrange(key, 0, -1, 'WITHSCORES');
    const list: [string, number][] = [];
    for (let i = 0; i < flat.length; i += 2) list.push([flat[i], Number(flat[i + 1])]);
    return list.map(([member, score]) => [member, score - (list[0]?.[1] ?? 0)]);
  }

  it('takes: lease ids from the counter, payloads in the leases hash, a record, oversized jobs set aside', async () => {
    const result = await expectSame(async ({ store, raw, keys }) => {
      await raw.set(takeRecordKey(keys, 'taker:1'), 'old');
      await raw.rpush(keys.waiting, job('a'), job('b', 'x'.repeat(2_000)), job('c'), job('d'));
      const first = await store.take(keys, 'q', request({ count: 3 }));
      const second = await store.take(
        keys,
        'q',
        request({ count: 3, token: 'taker:3', previous: 'taker:2' }),
      );
      const record = await raw.get(takeRecordKey(keys, 'taker:3'));
      return {
        first,
        second,
        processing: (await members(raw, keys.processing)).map(([member]) => member),
        leases: await raw.hgetall(keys.leases),
        // "<first id> <last id> <deadline>": the deadline is a clock reading.
        record: record?.split(' ').slice(0, 2),
        oldRecords: [
          await raw.exists(takeRecordKey(keys, 'taker:1')),
          await raw.exists(takeRecordKey(keys, 'taker:2')),
        ],
        dead: await raw.zrange(keys.dead, 0, -1),
        waiting: await raw.llen(keys.waiting),
      };
    });
    expect(result.first.leases.map((lease) => lease.id)).toEqual(['1', '2']);
    expect(result.first.oversized).toEqual([Buffer.byteLength(job('b', 'x'.repeat(2_000)))]);
    expect(result.record).toEqual(['3', '3']);
  });

  it('counts recoveries by sha1(payload), reports them at take, and forgets them at ack and settle', async () => {
    await expectSame(async ({ store, raw, keys }) => {
      const [a, b, c] = [job('a'), job('b'), job('c')];
      const sha1 = (payload: string) => createHash('sha1').update(payload).digest('hex');
      await raw.hset(keys.recoveries, sha1(a), 2);
      await raw.hset(keys.recoveries, sha1(c), 1);
      await raw.rpush(keys.waiting, a, b, c);
      const taken = await store.take(keys, 'q', request());
      const acked = await store.ack(keys, [taken.leases[0].id, taken.leases[0].id, '999']);
      const settled = await store.settle(
        keys,
        'q',
        taken.leases[2].id,
        { kind: 'retry', delayMs: 1_000.4, document: c },
        request().dead,
      );
      const again = await store.settle(
        keys,
        'q',
        taken.leases[2].id,
        { kind: 'dead', document: c },
        request().dead,
      );
      return {
        recoveries: taken.leases.map((lease) => lease.recoveries),
        acked,
        settled,
        again,
        left: await raw.hgetall(keys.recoveries),
        retry: await raw.zrange(keys.retry, 0, -1),
      };
    });
  });

  it('settles: retry, dead and aside documents, the dead set bounded by age then size', async () => {
    const result = await expectSame(async ({ store, raw, keys }) => {
      const now = Date.now();
      await raw.zadd(keys.dead, now - 7_200_000, '{"jid":"too-old"}', now - 1, '{"jid":"recent"}');
      await raw.rpush(keys.waiting, job('a'), 'not json at all', job('c'), job('d/e'));
      const ids = (await store.take(keys, 'q', request())).leases.map((lease) => lease.id);
      const dead = { maxJobs: 3, maxAgeMs: 3_600_000 };
      const results = [
        await store.settle(keys, 'q', ids[0], { kind: 'dead', document: job('a', '!') }, dead),
        await store.settle(keys, 'q', ids[1], { kind: 'aside', reason: 'not "JSON"' }, dead),
        await store.settle(
          keys,
          'q',
          ids[2],
          { kind: 'aside', reason: 'no / such', jid: 'jid-c' },
          dead,
        ),
        await store.settle(keys, 'q', ids[3], { kind: 'dead', document: job('d/e', '!') }, dead),
      ];
      return {
        results,
        // Jobs that died in the same millisecond share a score: compare the sets.
        dead: (await raw.zrange(keys.dead, 0, -1)).sort(),
        processing: await raw.zcard(keys.processing),
        leases: await raw.hlen(keys.leases),
      };
    });
    expect(result.results).toEqual([true, true, true, true]);
    expect(result.dead).toHaveLength(3);
  });

  it('recovers expired leases oldest first, then buries a job past maxRecoveries with the reason', async () => {
    const result = await expectSame(async ({ store, raw, keys }) => {
      const dead = { maxJobs: 100, maxAgeMs: 3_600_000 };
      await raw.rpush(keys.waiting, job('a'), job('b'), '[1,2]');
      const rounds = [];
      for (let round = 0; round < 3; round++) {
        await store.take(keys, 'q', request({ leaseMs: 1 }));
        await sleep(5);
        const recovered = await store.recover(keys, 'q', 100, 1, dead);
        rounds.push({ recovered, waiting: await raw.lrange(keys.waiting, 0, -1) });
      }
      return {
        rounds,
        dead: (await raw.zrange(keys.dead, 0, -1)).sort(),
        recoveries: await raw.hlen(keys.recoveries),
        seq: await raw.get(keys.leaseSeq),
      };
    });
    expect(result.rounds.map((round) => round.recovered.handedBack)).toEqual([3, 0, 0]);
    expect(result.dead).toHaveLength(3);
  });

  it('renews held leases only, requeues in order, and hands back an abandoned take', async () => {
    await expectSame(async ({ store, raw, keys }) => {
      await raw.rpush(keys.waiting, job('a'), job('b'), job('c'), job('d'));
      const taken = await store.take(keys, 'q', request({ count: 2 }));
      const ids = taken.leases.map((lease) => lease.id);
      const renewed = await store.renew(keys, [...ids, '77'], 120_000);
      const requeued = await store.requeue(keys, [...ids, '77']);
      const afterRequeue = await raw.lrange(keys.waiting, 0, -1);
      await store.take(keys, 'q', request({ count: 3, token: 'lost' }));
      const abandoned = await store.abandonTake(keys, 'lost');
      const twice = await store.abandonTake(keys, 'lost');
      return {
        renewed,
        requeued,
        afterRequeue,
        abandoned,
        twice,
        waiting: await raw.lrange(keys.waiting, 0, -1),
        processing: await raw.zcard(keys.processing),
      };
    });
  });

  it('promotes due scheduled and retry jobs in score order, and says when the next is due', async () => {
    const result = await expectSame(async ({ store, raw, keys }) => {
      const now = Date.now();
      await raw.zadd(keys.scheduled, now - 10, 's2', now - 10, 's1', now + 60_000, 'later');
      await raw.zadd(keys.retry, now - 20, 'r1');
      const { moved, nextDueMs } = await store.promote(keys, 100);
      const empty = await store.promote(queueKeys('elsewhere', 'none'), 100);
      return {
        moved,
        nextSoon: nextDueMs > 55_000 && nextDueMs <= 60_000,
        empty,
        waiting: await raw.lrange(keys.waiting, 0, -1),
      };
    });
    expect(result.waiting).toEqual(['s1', 's2', 'r1']);
  });

  it('finds, lists, moves and deletes jobs of a set', async () => {
    await expectSame(async ({ store, raw, keys }) => {
      const now = Date.now();
      await raw.zadd(keys.dead, now, job('a'), now + 1, job('b'), now + 2, '{"jid":null}');
      const found = await store.findByJid(keys.dead, 'jid-b');
      const missing = await store.findByJid(keys.dead, 'jid-z');
      const page = (await store.range(keys.dead, 1, 5)).map(({ member }) => member);
      const moved = await store.moveToQueue(keys.dead, keys, found!, 'revived');
      const movedAgain = await store.moveToQueue(keys.dead, keys, found!, 'revived');
      const removed = [
        await store.remove(keys.dead, job('a')),
        await store.remove(keys.dead, job('a')),
      ];
      return {
        found,
        missing: missing ?? null,
        page,
        moved,
        movedAgain,
        removed,
        stats: await store.stats(keys),
        counts: await store.waitingCounts([keys, queueKeys('elsewhere', 'none')]),
      };
    });
  });

  it('grants rate-limit permits in a sliding window, gives them back, and restamps only later', async () => {
    await expectSame(async ({ store, raw, keys }) => {
      const key = `${keys.waiting}:limit`;
      const first = await store.limit(key, 3, 1_000, 2, 'p1:');
      const second = await store.limit(key, 3, 1_000, 5, 'p2:');
      const third = await store.limit(key, 3, 1_000, 1, 'p3:');
      await store.releasePermits(key, ['p2:1', 'nope']);
      const fourth = await store.limit(key, 3, 1_000, 2, 'p4:');
      await store.restampPermits(key, ['p1:1', 'gone'], first.stampedAt + 500);
      await store.restampPermits(key, ['p1:2'], first.stampedAt - 500);
      const times = (await members(raw, key)) as [string, number][];
      return {
        granted: [first.granted, second.granted, third.granted, fourth.granted],
        waits: [first.waitMs, second.waitMs, third.waitMs > 900 && third.waitMs <= 1_001],
        members: times.map(([member]) => member).sort(),
        restamped: times.find(([member]) => member === 'p1:1')![1] >= 500,
        notEarlier: times.find(([member]) => member === 'p1:2')![1] >= 0,
      };
    });
  });

  it('stores pauses for every instance', async () => {
    await expectSame(async ({ store, keys }) => {
      const key = `${keys.waiting}:paused`;
      await store.setPaused(key, ['a', 'b'], true);
      await store.setPaused(key, ['a', 'c'], false);
      return (await store.pausedPipelines(key)).sort();
    });
  });
});
