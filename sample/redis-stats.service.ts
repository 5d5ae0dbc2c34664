import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Redis } from 'ioredis';
import { FlumeClient } from '../lib/index.js';
import { NAMESPACE, QUEUES, REDIS_URL } from './sample.config.js';

/** Counts across the sample's queues, read from Redis. */
export interface RedisCounts {
  /** Jobs ready to run (FlumeClient.jobCounts). */
  waiting: number;
  /** Jobs leased to a worker: the processing sets. */
  running: number;
  /** Jobs due later (enqueueIn / enqueueAt). */
  scheduled: number;
  /** Failed jobs waiting for their next attempt. */
  retry: number;
  /** Jobs out of retries. */
  dead: number;
}

/** The key of one of a queue's sorted sets, as README's key layout spells it. */
export const setKey = (queue: string, set: 'processing' | 'scheduled' | 'retry' | 'dead') =>
  `${NAMESPACE}:queue:{${queue}}:${set}`;

/**
 * The sample's own Redis connection, to look at what Flume keeps there. It also
 * clears the sample's namespace at start; that runs in onModuleInit, so before
 * FlumeProducer starts the pipelines (on bootstrap).
 */
@Injectable()
export class RedisStatsService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Sample');
  private readonly redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 2 });

  constructor(private readonly flume: FlumeClient) {}

  async onModuleInit(): Promise<void> {
    // ioredis reconnects by itself; the demo reports failed reads where they happen.
    this.redis.on('error', () => undefined);
    await this.redis.connect();
    const deleted = await this.clearNamespace();
    if (deleted > 0)
      this.logger.log(`Deleted ${deleted} key(s) left under "${NAMESPACE}:" by a previous run.`);
  }

  /**
   * Counts across the queues. Waiting jobs come from FlumeClient.jobCounts, or, once
   * Flume has shut down and closed its connections, from the lists themselves.
   */
  async counts(flumeClosed = false): Promise<RedisCounts> {
    const waiting = flumeClosed
      ? await this.waitingDirect()
      : await this.flume.jobCounts([...QUEUES]);
    const sets = ['processing', 'scheduled', 'retry', 'dead'] as const;
    const pipeline = this.redis.pipeline();
    for (const set of sets) for (const queue of QUEUES) pipeline.zcard(setKey(queue, set));
    const results = (await pipeline.exec()) ?? [];
    const sum = (index: number) =>
      QUEUES.reduce((total, _, i) => {
        const [err, count] = results[index * QUEUES.length + i];
        if (err) throw err;
        return total + (count as number);
      }, 0);
    return {
      waiting: Object.values(waiting).reduce((a, b) => a + b, 0),
      running: sum(0),
      scheduled: sum(1),
      retry: sum(2),
      dead: sum(3),
    };
  }

  private async waitingDirect(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const queue of QUEUES)
      counts[queue] = await this.redis.llen(`${NAMESPACE}:queue:{${queue}}`);
    return counts;
  }

  /** The dead jobs of `queue`, as stored: JSON documents. */
  async deadJobs(queue: string): Promise<Record<string, unknown>[]> {
    const members = await this.redis.zrange(setKey(queue, 'dead'), 0, '-1');
    return members.map((member) => JSON.parse(member) as Record<string, unknown>);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private async clearNamespace(): Promise<number> {
    let cursor = '0';
    let deleted = 0;
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${NAMESPACE}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await this.redis.del(...keys);
    } while (cursor !== '0');
    return deleted;
  }
}
