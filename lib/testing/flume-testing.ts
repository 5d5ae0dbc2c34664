import { Inject, Injectable, Optional } from '@nestjs/common';
import {
  FlumeConfigError,
  type FlumeEngine,
  type JobSink,
  type ResolvedOptions,
} from '../engine/index.js';
import { keyNameProblem } from '../engine/keys.js';
import { describe } from '../engine/payload.js';
import { FLUME_ENGINE, FLUME_JOB_SINK, FLUME_RESOLVED_OPTIONS } from '../flume.constants.js';
import { drainJobs } from './drainer.js';
import { FakeJobSink } from './fake-job-sink.js';
import { fakeModeOnly, untilIdleNeedsEngine } from './testing.messages.js';
import type { FlumeDrainOptions, FlumeDrainResult, FlumeTestJob } from './testing.interfaces.js';

/**
 * The jobs of the fake test mode (`testing: 'fake'`), for a test to look at and run;
 * in the memory mode (`testing: 'memory'`), a wait for the pipelines to be idle.
 * Inject it, or `app.get(FlumeTesting)`. Each method throws a FlumeConfigError in a
 * mode it does not serve, so a test cannot pass by looking at an empty list.
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
    @Optional() @Inject(FLUME_ENGINE) private readonly engine: FlumeEngine | null,
  ) {}

  /**
   * Memory mode (`testing: 'memory'`, or `connection: { memory: true }`): resolves
   * once the pipelines of this app have nothing left to do now: no job running, their
   * queues empty (or paused), no scheduled or retry job due. Jobs due later do not
   * count: move the clock (fake timers) to make them due, then wait again.
   *
   * ```ts
   * vi.useFakeTimers();
   * await client.enqueue('email', EmailWorker, ['ada@example.com']); // fails once
   * await flume.untilIdle(); // the first attempt failed; the retry waits for its time
   * await vi.advanceTimersByTimeAsync(1_000); // past the backoff
   * await flume.untilIdle(); // the retry ran
   * ```
   *
   * Rejects with a FlumeConfigError on Redis and in the fake and inline modes.
   */
  async untilIdle(): Promise<void> {
    if (!this.engine) throw new FlumeConfigError(untilIdleNeedsEngine(this.options.testing));
    await this.engine.untilIdle();
  }

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
