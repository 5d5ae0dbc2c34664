import { FlumeConfigError } from '../engine/index.js';
import { handlerOf, type FakeJobSink } from './fake-job-sink.js';
import type { FlumeDrainOptions, FlumeDrainResult, FlumeTestJob } from './testing.interfaces.js';
import { runawayDrain } from './testing.messages.js';

const DEFAULT_LIMIT = 10_000;

/**
 * Runs the fake mode's jobs (of `queue`, or all) through their workers, one handler
 * call at a time, until none is left: jobs enqueued meanwhile run too. A batch worker
 * gets up to its batch size of its jobs at once. Failures are recorded, not retried.
 */
export async function drainJobs(
  sink: FakeJobSink,
  queue: string | undefined,
  { withScheduled = true, limit = DEFAULT_LIMIT }: FlumeDrainOptions,
): Promise<FlumeDrainResult> {
  const result: FlumeDrainResult = { performed: [], failed: [] };
  let ran = 0;
  for (;;) {
    if (ran >= limit && sink.hasNext({ queue, withScheduled })) {
      throw new FlumeConfigError(runawayDrain(limit));
    }
    const first = sink.takeNext({ queue, withScheduled });
    if (!first) return result;
    let resolved;
    try {
      resolved = sink.performer.resolve(first);
    } catch (err) {
      result.failed.push({ job: first, error: err as Error });
      ran++;
      continue;
    }
    const jobs: FlumeTestJob[] = [first];
    while (resolved.batch && jobs.length < resolved.batch.size) {
      const mate = sink.takeNext({ queue: first.queue, handler: handlerOf(first), withScheduled });
      if (!mate) break;
      jobs.push(mate);
    }
    const failures = await sink.performer.perform(jobs, resolved);
    jobs.forEach((job, index) => {
      const error = failures.get(index);
      if (error) result.failed.push({ job, error });
      else result.performed.push(job);
    });
    ran += jobs.length;
  }
}
