import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  FlumePayloadError,
  type FlumeProcess,
  type GroupStats,
  type JobListName,
  type JobSetName,
} from '../engine/index.js';
import { escapingLogger } from '../engine/logger.js';
import { FlumeInspector } from '../flume.inspector.js';
import { FlumeProducer } from '../flume.producer.js';
import { FLUME_DASHBOARD_RESOLVED } from './dashboard.constants.js';
import type { ResolvedDashboardOptions } from './dashboard-options.js';
import { jobView, type JobView } from './job-view.js';

/** A pipeline as the overview shows it: declared here, run by live processes, or paused. */
export interface PipelineView {
  name: string;
  queue: string | null;
  pausedEverywhere: boolean;
  /** Live processes that run it, and how many of them have it paused. */
  processes: number;
  pausedIn: number;
  /** Jobs it holds in all those processes, and their maxDemand added up. */
  running: number;
  maxDemand: number;
}

type ProcessView = Omit<FlumeProcess, 'startedAt' | 'heartbeatAt'> & {
  startedAt: number;
  heartbeatAt: number;
};

/** Query parameters are strings: an integer, or the default when absent. */
function integer(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  if (!/^\d{1,15}$/.test(value)) {
    throw new FlumePayloadError(`Expected ${name} to be a non-negative integer, got: ${value}`);
  }
  return Number(value);
}

const processView = (p: FlumeProcess): ProcessView => ({
  ...p,
  startedAt: p.startedAt.getTime(),
  heartbeatAt: p.heartbeatAt.getTime(),
});

/**
 * What the dashboard's JSON API answers and does, through FlumeInspector and
 * FlumeProducer: the same calls an app can make. Every action is logged.
 */
@Injectable()
export class DashboardApi {
  /** Names come from the request: escaped, so none can print a fake log line. */
  private readonly logger = escapingLogger(new Logger('FlumeDashboard'));

  constructor(
    private readonly inspector: FlumeInspector,
    private readonly producer: FlumeProducer,
    @Inject(FLUME_DASHBOARD_RESOLVED) private readonly options: ResolvedDashboardOptions,
  ) {}

  async overview() {
    const [processes, paused] = await Promise.all([
      this.inspector.processes(),
      this.inspector.pausedPipelines(),
    ]);
    const pipelines = this.pipelines(processes, paused);
    const queues = this.queues(pipelines);
    const stats = await Promise.all(queues.map((queue) => this.inspector.queueStats(queue)));
    return {
      now: Date.now(),
      actions: this.options.actions,
      refreshInterval: this.options.refreshInterval,
      queues: queues.map((name, i) => ({ name, ...stats[i] })),
      pipelines,
      processes: processes.map(processView),
    };
  }

  async history(minutesParam: string | undefined) {
    const minutes = integer(minutesParam, 'minutes', 60);
    const [processes, paused] = await Promise.all([
      this.inspector.processes(),
      this.inspector.pausedPipelines(),
    ]);
    const queues = this.queues(this.pipelines(processes, paused));
    const history = await this.inspector.history(queues, { minutes });
    return { ...history, from: history.from.getTime() };
  }

  async processes(): Promise<ProcessView[]> {
    return (await this.inspector.processes()).map(processView);
  }

  async page(
    queue: string,
    list: string,
    query: { from?: string; limit?: string; worker?: string; jid?: string },
  ): Promise<{ total: number; next: number | null; jobs: JobView[]; workers: string[] }> {
    const page = await this.inspector.page(queue, list as JobListName, {
      from: integer(query.from, 'from', 0),
      limit: integer(query.limit, 'limit', 25),
      worker: query.worker || undefined,
      jid: query.jid || undefined,
    });
    const workers = new Set<string>();
    for (const process of await this.inspector.processes()) {
      for (const name of Object.hasOwn(process.workers, queue) ? process.workers[queue] : []) {
        workers.add(name);
      }
    }
    return {
      total: page.total,
      next: page.next,
      jobs: page.jobs.map(jobView),
      workers: [...workers].sort(),
    };
  }

  async retry(queue: string, set: string, jid: string): Promise<{ done: boolean }> {
    const done = await this.inspector.retryNow(queue, set as JobSetName, jid);
    this.logger.log(
      `Retry now of job ${jid} (${set} of queue "${queue}"): ${done ? 'done' : 'not found'}.`,
    );
    return { done };
  }

  async remove(queue: string, set: string, jid: string): Promise<{ done: boolean }> {
    const done = await this.inspector.delete(queue, set as JobSetName, jid);
    this.logger.log(
      `Delete of job ${jid} (${set} of queue "${queue}"): ${done ? 'done' : 'not found'}.`,
    );
    return { done };
  }

  async retryAll(queue: string, set: string, limit: string | undefined) {
    const result = await this.inspector.retryAll(queue, set as JobSetName, {
      limit: integer(limit, 'limit', 500),
    });
    this.logger.log(
      `Retry all of ${set} of queue "${queue}": ${result.done} moved to the queue, ${result.left} left.`,
    );
    return result;
  }

  async deleteAll(queue: string, set: string, limit: string | undefined) {
    const result = await this.inspector.deleteAll(queue, set as JobSetName, {
      limit: integer(limit, 'limit', 500),
    });
    this.logger.log(
      `Delete all of ${set} of queue "${queue}": ${result.done} deleted, ${result.left} left.`,
    );
    return result;
  }

  async setPaused(name: string, paused: boolean): Promise<{ done: true }> {
    if (paused) await this.inspector.pausePipeline(name);
    else await this.inspector.resumePipeline(name);
    this.logger.log(`Pipeline "${name}" ${paused ? 'paused' : 'resumed'} for every instance.`);
    return { done: true };
  }

  groups(queue: string): Promise<GroupStats[]> {
    return this.inspector.groups(queue);
  }

  async setGroupPaused(queue: string, group: string, paused: boolean): Promise<{ done: true }> {
    if (paused) await this.inspector.pauseGroup(queue, group);
    else await this.inspector.resumeGroup(queue, group);
    this.logger.log(
      `Group "${group}" of queue "${queue}" ${paused ? 'paused' : 'resumed'} for every instance.`,
    );
    return { done: true };
  }

  /** Declared here, seen in a live process, or stored as paused: every pipeline there is. */
  private pipelines(processes: FlumeProcess[], paused: string[]): PipelineView[] {
    const views = new Map<string, PipelineView>();
    const view = (name: string, queue: string | null): PipelineView => {
      let found = views.get(name);
      if (!found) {
        found = {
          name,
          queue,
          pausedEverywhere: paused.includes(name),
          processes: 0,
          pausedIn: 0,
          running: 0,
          maxDemand: 0,
        };
        views.set(name, found);
      }
      found.queue ??= queue;
      return found;
    };
    for (const pipeline of this.producer.pipelines()) view(pipeline.name, pipeline.queue);
    for (const process of processes) {
      for (const pipeline of process.pipelines) {
        const found = view(pipeline.name, pipeline.queue);
        found.processes++;
        if (pipeline.paused) found.pausedIn++;
        found.running += pipeline.running;
        found.maxDemand += pipeline.maxDemand;
      }
    }
    for (const name of paused) view(name, null);
    return [...views.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  private queues(pipelines: PipelineView[]): string[] {
    const queues = new Set(this.options.queues);
    for (const { queue } of pipelines) if (queue !== null) queues.add(queue);
    return [...queues].sort();
  }
}
