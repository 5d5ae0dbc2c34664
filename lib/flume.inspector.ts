import { Inject, Injectable, Optional } from '@nestjs/common';
import {
  FlumeConfigError,
  type FlumeEngine,
  type FoundJob,
  type FlumeProcess,
  type JobListName,
  type JobPage,
  type JobSetName,
  type PeriodicStatus,
  type ListedJob,
  type PageRequest,
  type QueueHistory,
  type QueueStats,
  type GroupStats,
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

  /**
   * The groups of `queue` (see the enqueue option `group`) that have waiting or running
   * jobs, or are paused, by name: how many of their jobs wait and run (across every
   * instance), and whether they are paused.
   */
  async groups(queue: string): Promise<GroupStats[]> {
    return this.engine.inspector.groups(queue);
  }

  /**
   * Pauses group `group` of `queue` for every instance: its jobs wait (the other groups'
   * jobs and the jobs of no group keep running) until `resumeGroup`. Running jobs finish.
   */
  async pauseGroup(queue: string, group: string): Promise<void> {
    return this.engine.inspector.setGroupPaused(queue, group, true);
  }

  /** Lets the jobs of group `group` of `queue` start again, on every instance. */
  async resumeGroup(queue: string, group: string): Promise<void> {
    return this.engine.inspector.setGroupPaused(queue, group, false);
  }

  /**
   * Jobs of a list: `'waiting'` (head first), `'running'` (leased), or a set
   * (soonest due, or oldest death, first); `limit` defaults to 50.
   */
  async list(
    queue: string,
    list: JobListName,
    opts: { offset?: number; limit?: number } = {},
  ): Promise<ListedJob[]> {
    return this.engine.inspector.list(queue, list, opts.offset ?? 0, opts.limit ?? 50);
  }

  /**
   * A page of a list, from index `from` (a page's `next`), filtered by `worker` or
   * `jid` when given: `{ total, jobs, next }`. Running jobs name the process holding them.
   */
  async page(queue: string, list: JobListName, request: PageRequest = {}): Promise<JobPage> {
    return this.engine.inspector.page(queue, list, request);
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

  /**
   * Retries now the first `limit` jobs of a set (at most 1,000 a call; default 500):
   * `{ done, left }`. Call again while `left` is above 0 to empty a bigger set.
   */
  async retryAll(
    queue: string,
    set: JobSetName,
    opts: { limit?: number } = {},
  ): Promise<{ done: number; left: number }> {
    return this.engine.inspector.retryAll(queue, set, opts.limit ?? 500);
  }

  /** Deletes the first `limit` jobs of a set, as `retryAll` moves them: `{ done, left }`. */
  async deleteAll(
    queue: string,
    set: JobSetName,
    opts: { limit?: number } = {},
  ): Promise<{ done: number; left: number }> {
    return this.engine.inspector.deleteAll(queue, set, opts.limit ?? 500);
  }

  /** The processes of the app that are alive (from their heartbeats), oldest first. */
  async processes(): Promise<FlumeProcess[]> {
    return this.engine.inspector.processes();
  }

  /**
   * Jobs that succeeded (`processed`) and failed attempts (`failed`) per minute, per
   * queue, over the last `minutes` (at most a day; default 60).
   */
  async history(queues: readonly string[], opts: { minutes?: number } = {}): Promise<QueueHistory> {
    return this.engine.inspector.history(queues, opts.minutes ?? 60);
  }

  /** Names of the pipelines paused for every instance. */
  async pausedPipelines(): Promise<string[]> {
    return this.engine.inspector.pausedPipelines();
  }

  /**
   * Pauses pipeline `name` for every instance, by name: also one this app does not
   * declare. A declared one is paused as `FlumeProducer.pause(name, { temporary: false,
   * async: true })` does; the others follow within a second.
   */
  async pausePipeline(name: string): Promise<void> {
    return this.setPaused(name, true);
  }

  /** Resumes pipeline `name` for every instance (see `pausePipeline`). */
  async resumePipeline(name: string): Promise<void> {
    return this.setPaused(name, false);
  }

  private async setPaused(name: string, paused: boolean): Promise<void> {
    const engine = this.engine;
    if (!engine.options.pipelines.some((pipeline) => pipeline.name === name)) {
      return engine.inspector.setPaused(name, paused);
    }
    const opts = { temporary: false, async: true };
    return paused ? engine.pause([name], opts) : engine.resume([name], opts);
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
