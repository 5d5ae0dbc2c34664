import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { queueKeys } from '../../lib/engine/keys.js';
import { RedisStore } from '../../lib/engine/redis-store.js';
import type { TakeRequest } from '../../lib/engine/store.js';
import { deleteNamespace, inspector, REDIS_URL, uniqueNamespace } from '../support/redis.js';

// A take whose reply is lost (the connection dropped after the script ran) leaves its
// jobs leased to nobody. Its token lets the taker hand exactly those back.
describe.skipIf(process.env.FLUME_TEST_CLUSTER === '1')(
  'abandoning a take whose reply was lost',
  () => {
    const namespace = uniqueNamespace('abandon-take');
    const keys = queueKeys(namespace, 'q');
    const redis = inspector() as Redis;
    const engine = new Redis(REDIS_URL);
    const store = new RedisStore(engine);
    const request = (token: string, previous: string): TakeRequest => ({
      count: 2,
      leaseMs: 60_000,
      token,
      previous,
      recordMs: 60_000,
      maxPayloadBytes: 1_000_000,
      dead: { maxJobs: 100, maxAgeMs: 60_000 },
    });

    afterAll(async () => {
      await deleteNamespace(redis, namespace);
      redis.disconnect();
      engine.disconnect();
    });

    it('puts that take’s jobs back at the head, unchanged, and nothing else', async () => {
      await redis.rpush(keys.waiting, 'a', 'b', 'c', 'd', 'e');
      const kept = (await store.take(keys, 'q', request('p1:1', 'none'))).leases;
      const lost = (await store.take(keys, 'q', request('p1:2', 'p1:1'))).leases;
      expect(kept.map((lease) => lease.payload)).toEqual(['a', 'b']);
      expect(lost.map((lease) => lease.payload)).toEqual(['c', 'd']);

      expect(await store.abandonTake(keys, 'p1:2')).toBe(2);

      expect(await redis.lrange(keys.waiting, '0', '-1')).toEqual(['c', 'd', 'e']);
      const keptIds = kept.map((lease) => lease.id).sort();
      expect((await redis.zrange(keys.processing, '0', '-1')).sort()).toEqual(keptIds);
      expect((await redis.hkeys(keys.leases)).sort()).toEqual(keptIds);
      // Once only, and a take that never ran has nothing to give back.
      expect(await store.abandonTake(keys, 'p1:2')).toBe(0);
      expect(await store.abandonTake(keys, 'p1:never')).toBe(0);
    });
  },
);
