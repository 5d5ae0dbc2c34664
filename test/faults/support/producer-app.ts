import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { FlumeClient, FlumeModule } from '../../../lib/index.js';
import { FAULT_QUEUE, type FaultJobArgs, type JobMode } from '../fixtures/fixture-config.js';

export interface FaultJob {
  id: string;
  ms: number;
  mode: JobMode;
  /** The enqueue option `group`, when set. */
  group?: string;
}

/** Jobs `prefix0..prefix{n-1}`, each running `ms` ms; `mode(i)` picks what job i does. */
export function faultJobs(
  n: number,
  ms: number,
  mode: (i: number) => JobMode = () => 'ok',
  prefix = 'j',
): FaultJob[] {
  return Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i}`, ms, mode: mode(i) }));
}

/**
 * An enqueue-only app in the test process: jobs reach Redis through the public
 * FlumeClient, exactly as an application's would. The worker is named, not
 * imported: it lives in the fixture processes.
 */
export class ProducerApp {
  private constructor(
    private readonly app: INestApplicationContext,
    readonly client: FlumeClient,
  ) {}

  static async open(
    redisUrl: string,
    namespace: string,
    options: { maxPayloadBytes?: number } = {},
  ): Promise<ProducerApp> {
    const moduleRef = await Test.createTestingModule({
      imports: [
        FlumeModule.forRoot({
          connection: { url: redisUrl },
          namespace,
          logger: false,
          ...options,
        }),
      ],
    }).compile();
    const app = await moduleRef.init();
    const client = app.get(FlumeClient);
    // One call first: calls made while the connection is still connecting each wait for it.
    await client.jobCounts([FAULT_QUEUE]);
    return new ProducerApp(app, client);
  }

  /** Enqueues `jobs` to run now, in bulk calls of `chunk` jobs. */
  async enqueue(jobs: readonly FaultJob[], chunk = 5_000): Promise<void> {
    for (let i = 0; i < jobs.length; i += chunk) {
      await this.client.bulkEnqueue(
        FAULT_QUEUE,
        jobs.slice(i, i + chunk).map((job) => ({
          worker: 'FaultWorker',
          args: argsOf(job),
          ...(job.group === undefined ? {} : { group: job.group }),
        })),
      );
    }
  }

  /** Enqueues every job to run at `at`, many calls in flight at once. */
  async enqueueAt(jobs: readonly FaultJob[], at: Date, inFlight = 500): Promise<void> {
    for (let i = 0; i < jobs.length; i += inFlight) {
      await Promise.all(
        jobs
          .slice(i, i + inFlight)
          .map((job) => this.client.enqueueAt(FAULT_QUEUE, at, 'FaultWorker', argsOf(job))),
      );
    }
  }

  close(): Promise<void> {
    return this.app.close();
  }
}

function argsOf(job: FaultJob): FaultJobArgs {
  return [job.id, job.ms, job.mode];
}
