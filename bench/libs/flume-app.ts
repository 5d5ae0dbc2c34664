import { Module, type Type } from '@nestjs/common';
import * as flume from '../../lib/index.js';
import { FlumeModule, Worker } from '../../lib/index.js';
import { Probe } from '../probe.js';
import { sleep } from './sleep.js';

export const QUEUE = 'bench';
export const BATCH_QUEUE = 'bench_batch';

/** How long the handler of a bench worker takes: 0 for a no-op, else an awaited timer. */
export class HandlerDelay {
  constructor(readonly ms: number) {}
}

/** The worker of the bench: gets the probe by constructor injection, like any provider. */
@Worker(QUEUE)
export class BenchWorker {
  constructor(
    private readonly probe: Probe,
    private readonly delay: HandlerDelay,
  ) {}

  async perform(index: number): Promise<void> {
    this.probe.hit(index);
    if (this.delay.ms > 0) await sleep(this.delay.ms);
  }
}

/** The batch worker of row 8: each call gets up to `size` jobs' args, `[[i], [j], ...]`. */
@Worker(BATCH_QUEUE)
export class BenchBatchWorker {
  constructor(private readonly probe: Probe) {}

  async perform(...params: unknown[]): Promise<void> {
    const [items] = params;
    if (params.length === 1 && Array.isArray(items) && items.every(Array.isArray)) {
      for (const args of items as unknown[][]) this.probe.hit(args[0] as number);
    } else {
      this.probe.hit(params[0] as number); // not handed a batch: counted per job all the same
    }
  }
}

type BatchDecorator = (options: { size: number; timeout?: number }) => ClassDecorator;

/**
 * `@Batch` is being built in lib/ while this bench is: it is looked up at run time so
 * the bench compiles either way, and row 8 is skipped (with that reason) until it exists.
 */
export const batchDecorator: BatchDecorator | undefined = (() => {
  const exported = (flume as Record<string, unknown>).Batch;
  return typeof exported === 'function' ? (exported as BatchDecorator) : undefined;
})();

let batchSizeApplied: number | undefined;

/** Decorates BenchBatchWorker with @Batch({ size }) once, before any app boots with it. */
function applyBatch(size: number): void {
  if (!batchDecorator) throw new Error('lib/index.ts exports no Batch decorator');
  if (batchSizeApplied === size) return;
  if (batchSizeApplied !== undefined) throw new Error('one batch size per bench process');
  batchDecorator({ size })(BenchBatchWorker);
  batchSizeApplied = size;
}

export interface FlumeAppOptions {
  port: number;
  namespace: string;
  probe?: Probe;
  concurrency?: number;
  handlerMs?: number;
  batchSize?: number;
  /** Row 12: the pipeline's groupConcurrency. */
  groupConcurrency?: number;
  /** The pipeline's prefetch (rows 2 and 10 run once with it). */
  prefetch?: number;
}

/**
 * The root module of a bench app: FlumeModule.forRoot on the bench's Redis, and
 * the worker with one pipeline when the app consumes (none when it only enqueues).
 */
export function benchAppModule(options: FlumeAppOptions): Type<unknown> {
  const consume = options.probe !== undefined;
  const batch = options.batchSize !== undefined;
  if (batch) applyBatch(options.batchSize!);
  const queue = batch ? BATCH_QUEUE : QUEUE;

  @Module({
    imports: [
      FlumeModule.forRoot({
        connection: { host: '127.0.0.1', port: options.port },
        namespace: options.namespace,
        pipelines: consume
          ? [
              {
                name: `${queue}_pipeline`,
                queue,
                maxDemand: options.concurrency ?? 100,
                ...(options.prefetch ? { prefetch: options.prefetch } : {}),
                ...(options.groupConcurrency === undefined
                  ? {}
                  : { groupConcurrency: options.groupConcurrency }),
              },
            ]
          : [],
        logger: false,
      }),
    ],
    providers: consume
      ? [
          { provide: Probe, useValue: options.probe },
          { provide: HandlerDelay, useValue: new HandlerDelay(options.handlerMs ?? 0) },
          batch ? BenchBatchWorker : BenchWorker,
        ]
      : [],
  })
  class BenchAppModule {}
  return BenchAppModule;
}
