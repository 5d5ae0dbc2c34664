import type { ReadyJob } from './job-runner.js';
import type { BatchOptions } from './worker-registry.js';

interface Group {
  options: BatchOptions;
  jobs: ReadyJob[];
  timer?: NodeJS.Timeout;
}

/**
 * Groups the jobs of batch workers by worker and hands them over `size` at a time.
 * A partial batch goes at once when its worker has no batch timeout, or after the
 * timeout when more jobs may still come.
 */
export class Batcher {
  private readonly groups = new Map<string, Group>();

  constructor(private readonly dispatch: (batch: ReadyJob[]) => void) {}

  add(ready: ReadyJob, options: BatchOptions): void {
    // One handler call per batch: jobs naming another method of the worker form their own.
    const key = `${ready.worker.name}#${ready.job.function ?? ready.worker.method}`;
    let group = this.groups.get(key);
    if (!group) {
      group = { options, jobs: [] };
      this.groups.set(key, group);
    }
    group.jobs.push(ready);
    if (group.jobs.length >= options.size) this.flush(key, group, false);
  }

  /** After a take: hands over partial batches that do not wait, arms the timers of the rest. */
  settle(): void {
    for (const [name, group] of this.groups) {
      if (group.jobs.length === 0) continue;
      if (group.options.timeout === 0) this.flush(name, group, true);
      else group.timer ??= setTimeout(() => this.flush(name, group, true), group.options.timeout);
    }
  }

  /** Empties the buffer without running anything (shutdown hands these jobs back). */
  takeAll(): ReadyJob[] {
    const all: ReadyJob[] = [];
    for (const group of this.groups.values()) {
      clearTimeout(group.timer);
      all.push(...group.jobs);
    }
    this.groups.clear();
    return all;
  }

  private flush(name: string, group: Group, partial: boolean): void {
    clearTimeout(group.timer);
    group.timer = undefined;
    const { size } = group.options;
    while (group.jobs.length >= size || (partial && group.jobs.length > 0)) {
      this.dispatch(group.jobs.splice(0, size));
    }
    if (group.jobs.length === 0) this.groups.delete(name);
  }
}
