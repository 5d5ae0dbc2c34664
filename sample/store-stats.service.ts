import { Inject, Injectable } from '@nestjs/common';
import { Redis } from 'ioredis';
import { FlumeInspector, type Job } from '../lib/index.js';
import { NAMESPACE, QUEUES, SAMPLE_STORE } from './sample.config.js';
import type { SampleStore } from './sample-store.js';

/** Counts across the sample's queues. */
export interface StoreCounts {
  /** Jobs ready to run. */
  waiting: number;
  /** Jobs leased to a worker. */
  running: number;
  /** Jobs due later (enqueueIn / enqueueAt). */
  scheduled: number;
  /** Failed jobs waiting for their next attempt. */
  retry: number;
  /** Jobs out of retries. */
  dead: number;
}

const NONE: StoreCounts = { waiting: 0, running: 0, scheduled: 0, retry: 0, dead: 0 };

/**
 * What Flume holds for the sample, read through FlumeInspector: the same on Redis and
 * on the memory store.
 */
@Injectable()
export class StoreStatsService {
  constructor(
    private readonly inspector: FlumeInspector,
    @Inject(SAMPLE_STORE) private readonly store: SampleStore,
  ) {}

  /** "Redis" or "memory": where the jobs are, for messages. */
  get where(): string {
    return this.store.kind === 'redis' ? 'Redis' : 'memory';
  }

  async counts(): Promise<StoreCounts> {
    const counts = { ...NONE };
    for (const queue of QUEUES) {
      const stats = await this.inspector.queueStats(queue);
      counts.waiting += stats.waiting;
      counts.running += stats.processing;
      counts.scheduled += stats.scheduled;
      counts.retry += stats.retry;
      counts.dead += stats.dead;
    }
    return counts;
  }

  /** The dead jobs of `queue`, oldest death first. */
  async deadJobs(queue: string): Promise<Job[]> {
    const listed = await this.inspector.list(queue, 'dead', { limit: 100 });
    return listed.flatMap(({ job }) => (job ? [job] : []));
  }

  /**
   * After Flume has shut down (and closed its connections): what is left, read with a
   * connection of the sample's own on Redis; undefined on memory, where it is lost.
   */
  async leftAfterShutdown(): Promise<StoreCounts | undefined> {
    if (this.store.kind !== 'redis') return undefined;
    const redis = new Redis(this.store.url, { maxRetriesPerRequest: 1 });
    redis.on('error', () => undefined); // a failed read below says it
    try {
      const counts = { ...NONE };
      for (const queue of QUEUES) {
        const key = `${NAMESPACE}:queue:{${queue}}`;
        counts.waiting += await redis.llen(key);
        counts.running += await redis.zcard(`${key}:processing`);
        counts.scheduled += await redis.zcard(`${key}:scheduled`);
        counts.retry += await redis.zcard(`${key}:retry`);
        counts.dead += await redis.zcard(`${key}:dead`);
      }
      return counts;
    } finally {
      redis.disconnect();
    }
  }
}
