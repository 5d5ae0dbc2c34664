import { Inject, Injectable } from '@nestjs/common';
import { FlumeConfigError, type JobSink, type ResolvedOptions } from '../engine/index.js';
import { keyNameProblem } from '../engine/keys.js';
import { describe } from '../engine/payload.js';
import { FLUME_JOB_SINK, FLUME_RESOLVED_OPTIONS } from '../flume.constants.js';
import { drainJobs } from './drainer.js';
import { FakeJobSink } from './fake-job-sink.js';
import { fakeModeOnly } from './testing.messages.js';
import type { FlumeDrainOptions, FlumeDrainResult, FlumeTestJob } from './testing.interfaces.js';

/**
 * The jobs of the fake test mode (`testing: 'fake'`), for a test to look at and run.
 * Inject it, or `app.get(FlumeTesting)`. Every method throws a FlumeConfigError in
 * any other mode, so a test cannot pass by looking at an empty list.
 *
 * ```ts
 * await signups.register('ada@example.com');
 * expect(flume.enqueued('email')).toMatchObject([{ class: 'WelcomeEmailWorker', args: ['ada@example.com'] }]);
 * const { performed, failed } = await flume.drain('email');
 * expect(failed).toEqual([]);
 * ```
 */
@Injectable()
export class FlumeTesting {
  constructor(
    @Inject(FLUME_JOB_SINK) private readonly sink: JobSink,
    @Inject(FLUME_RESOLVED_OPTIONS) private readonly options: ResolvedOptions,
  ) {}

  /**
   * The jobs waiting (of `queue`, or of every queue), oldest first, shaped as Redis
   * stores them (`jid`, `queue`, `class`, `function`, `args`, `context`,
   * `enqueued_at`, and `scheduled_at` for `enqueueIn` / `enqueueAt`). Args come back
   * from JSON, as a worker would get them. The objects are copies.
   */
  enqueued(queue?: string): FlumeTestJob[] {
    return this.fake('enqueued').list(this.queueArg('enqueued', queue));
  }

  /** Forgets the waiting jobs (of `queue`, or all), e.g. in `afterEach`. */
  clear(queue?: string): void {
    this.fake('clear').clear(this.queueArg('clear', queue));
  }

  /**
   * Runs the waiting jobs (of `queue`, or of every queue) through the app's `@Worker`
   * instances, one at a time, oldest first, until none is left: jobs enqueued while
   * draining run too. Jobs scheduled for later run last, without waiting for their
   * time, unless `withScheduled: false`. A job that throws is reported in `failed` and
   * dropped (no retry); so is a job no worker of this app can run. Rejects only when
   * more than `limit` jobs would run (a job re-enqueuing itself).
   */
  drain(queue?: string, options?: FlumeDrainOptions): Promise<FlumeDrainResult>;
  drain(options: FlumeDrainOptions): Promise<FlumeDrainResult>;
  async drain(
    queueOrOptions?: string | FlumeDrainOptions,
    options: FlumeDrainOptions = {},
  ): Promise<FlumeDrainResult> {
    const [queue, opts] =
      queueOrOptions !== null && typeof queueOrOptions === 'object'
        ? [undefined, queueOrOptions]
        : [queueOrOptions, options];
    const sink = this.fake('drain');
    return drainJobs(sink, this.queueArg('drain', queue), checked(opts));
  }

  private fake(method: string): FakeJobSink {
    if (this.sink instanceof FakeJobSink) return this.sink;
    throw new FlumeConfigError(fakeModeOnly(method, this.options.testing));
  }

  private queueArg(method: string, queue: string | undefined): string | undefined {
    const problem = queue === undefined ? undefined : keyNameProblem(queue);
    if (problem) {
      throw new FlumeConfigError(
        `FlumeTesting.${method}(queue): ${problem}, got: ${describe(queue)}`,
      );
    }
    return queue;
  }
}

function checked(options: FlumeDrainOptions): FlumeDrainOptions {
  const { withScheduled, limit } = options ?? {};
  if (withScheduled !== undefined && typeof withScheduled !== 'boolean') {
    throw new FlumeConfigError(
      `drain: expected withScheduled to be a boolean, got: ${describe(withScheduled)}`,
    );
  }
  if (limit !== undefined && !(Number.isSafeInteger(limit) && limit >= 1)) {
    throw new FlumeConfigError(
      `drain: expected limit to be an integer >= 1, got: ${describe(limit)}`,
    );
  }
  return { withScheduled, limit };
}
