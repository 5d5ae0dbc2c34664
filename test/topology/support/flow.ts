import 'reflect-metadata';
import { FlumeClient, FlumeContext, Worker } from '../../../lib/index.js';
import { JobLog } from '../../support/job-log.js';

/** The queue the topology specs push jobs through. */
export const FLOW_QUEUE = 'flow';

/**
 * Records each job's id (its first arg). A job with `failFirst` fails its first
 * attempt; one with `runMs` takes that long.
 */
@Worker(FLOW_QUEUE, { name: 'flow' })
export class FlowWorker {
  constructor(private readonly log: JobLog) {}

  async perform(id: string, failFirst = false, runMs = 0): Promise<void> {
    if (failFirst && FlumeContext.current()!.retryCount === 0) throw new Error('first attempt');
    if (runMs > 0) await new Promise((resolve) => setTimeout(resolve, runMs));
    this.log.record('flow', [id]);
  }
}

/** Ids of the jobs `log` saw performed. */
export function performedIds(log: JobLog): Set<string> {
  return new Set(log.performed.filter((p) => p.worker === 'flow').map((p) => p.args[0] as string));
}

/**
 * Enqueues a job every `everyMs` until stopped, and keeps the ids whose enqueue
 * resolved (accepted: they must run) apart from the ones that rejected (the caller
 * knows those may not be stored).
 */
export class Producer {
  readonly accepted: string[] = [];
  readonly rejected: Error[] = [];
  private running = true;
  private readonly loop: Promise<void>;

  constructor(client: FlumeClient, everyMs = 5) {
    this.loop = (async () => {
      for (let i = 0; this.running; i++) {
        const id = `job-${i}`;
        try {
          await client.enqueue(FLOW_QUEUE, 'flow', [id]);
          this.accepted.push(id);
        } catch (err) {
          this.rejected.push(err as Error);
        }
        await new Promise((resolve) => setTimeout(resolve, everyMs));
      }
    })();
  }

  /** Stops producing; resolves once the last enqueue settled. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}
