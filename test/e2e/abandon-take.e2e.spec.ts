import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { queueKeys } from '../../lib/engine/keys.js';
import { Scripts } from '../../lib/engine/scripts.js';
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
    const scripts = new Scripts(engine);

    afterAll(async () => {
      await deleteNamespace(redis, namespace);
      redis.disconnect();
      engine.disconnect();
    });

    it('puts that take’s jobs back at the head, unchanged, and nothing else', async () => {
      await redis.rpush(keys.waiting, 'a', 'b', 'c', 'd', 'e');
      const kept = await scripts.take(keys, 2, 60_000, 'p1:1', 'none', 60_000);
      const lost = await scripts.take(keys, 2, 60_000, 'p1:2', 'p1:1', 60_000);
      expect(kept.map((lease) => lease.split('|')[1])).toEqual(['a', 'b']);
      expect(lost.map((lease) => lease.split('|')[1])).toEqual(['c', 'd']);

      expect(await scripts.abandonTake(keys, 'p1:2')).toBe(2);

      expect(await redis.lrange(keys.waiting, '0', '-1')).toEqual(['c', 'd', 'e']);
      expect((await redis.zrange(keys.processing, '0', '-1')).sort()).toEqual([...kept].sort());
      // Once only, and a take that never ran has nothing to give back.
      expect(await scripts.abandonTake(keys, 'p1:2')).toBe(0);
      expect(await scripts.abandonTake(keys, 'p1:never')).toBe(0);
    });
  },
);
