import { Inject, Injectable, Optional } from '@nestjs/common';
import {
  FlumeConfigError,
  type FlumeEngine,
  type FoundJob,
  type JobSetName,
  type PeriodicStatus,
  type ListedJob,
  type QueueStats,
} from './engine/index.js';
import { FLUME_ENGINE } from './flume.constants.js';

/**
 * Looks into queues and edits their scheduled, retry and dead sets: for admin
 * endpoints and operations. Jobs are found by id.
 */
@Injectable()
export class FlumeInspector {
  constructor(@Optional() @Inject(FLUME_ENGINE) private readonly redis: FlumeEngine | null) {}

  /** Counts of `queue`: waiting, processing (leased), scheduled, retry and dead. */
  async queueStats(queue: string): Promise<QueueStats> {
    return this.engine.inspector.queueStats(queue);
  }

  /**
   * Where job `jid` of `queue` is and what it holds: `running` (leased), `waiting`,
   * `scheduled`, `retry`, `dead`, or `gone` (it succeeded, or was deleted). Reads the
   * waiting list in chunks, so it costs O(queue length): for admin use.
   */
  async find(queue: string, jid: string): Promise<FoundJob> {
    return this.engine.inspector.find(queue, jid);
  }

  /**
   * Every periodic job of this app with its next tick (by this process's clock), the
   * last tick any instance claimed, and whether it is paused.
   */
  async periodic(): Promise<PeriodicStatus[]> {
    const engine = this.engine;
    return engine.send('did not list the periodic jobs', () => engine.periodic.list());
  }

  /** Jobs of a set, soonest due (or oldest death) first; `limit` defaults to 50. */
  async list(
    queue: string,
    set: JobSetName,
    opts: { offset?: number; limit?: number } = {},
  ): Promise<ListedJob[]> {
    return this.engine.inspector.list(queue, set, opts.offset ?? 0, opts.limit ?? 50);
  }

  /**
   * Moves job `jid` of a set to its queue to run now (a dead job starts over with
   * its full retries). Resolves to false when the set holds no such job.
   */
  async retryNow(queue: string, set: JobSetName, jid: string): Promise<boolean> {
    return this.engine.inspector.retryNow(queue, set, jid);
  }

  /** Deletes job `jid` of a set. Resolves to false when the set holds no such job. */
  async delete(queue: string, set: JobSetName, jid: string): Promise<boolean> {
    return this.engine.inspector.remove(queue, set, jid);
  }

  private get engine(): FlumeEngine {
    if (!this.redis) {
      throw new FlumeConfigError(
        "FlumeInspector reads the engine's store, and the 'fake' and 'inline' test modes have none: " +
          "use FlumeTesting, or mode 'memory', which has one.",
      );
    }
    return this.redis;
  }
}
