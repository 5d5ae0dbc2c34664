import type { Instrumentation } from './instrumentation.js';
import type { QueueKeys } from './keys.js';
import type { RateLimiter } from './rate-limiter.js';
import type { Scripts } from './scripts.js';

/** What one take brought: leases, or a wait because the rate limit is used up. */
export type TakeOutcome = { kind: 'taken'; leases: string[] } | { kind: 'limited'; waitMs: number };

export interface JobTakerDeps {
  pipeline: string;
  queue: string;
  keys: QueueKeys;
  scripts: Scripts;
  leaseMs: number;
  limiter?: RateLimiter;
  /** Set when the pipeline publishes events. */
  instrumentation?: Instrumentation;
}

/** Leases jobs of one queue: as many as asked, never more than the rate limit allows. */
export class JobTaker {
  constructor(private readonly deps: JobTakerDeps) {}

  async take(free: number): Promise<TakeOutcome> {
    const { limiter, scripts, keys, leaseMs } = this.deps;
    const permit = limiter ? await limiter.acquire(free) : undefined;
    if (permit?.granted === 0) return { kind: 'limited', waitMs: permit.waitMs };
    const wanted = permit?.granted ?? free;
    const started = Date.now();
    const leases = await scripts.take(keys, wanted, leaseMs);
    if (permit) {
      // Neither is awaited: the jobs start right after this, and the restamp bounds
      // their start time only if no round trip comes in between. Redis applies both
      // long before the window they protect could free up.
      void permit.release(wanted - leases.length).catch(() => undefined);
      void permit.beforeStart(leases.length);
    }
    if (leases.length > 0) this.emitDequeue(leases, Date.now() - started);
    return { kind: 'taken', leases };
  }

  private emitDequeue(leases: string[], latencyMs: number): void {
    const { instrumentation, pipeline, queue } = this.deps;
    instrumentation?.emit({
      type: 'dequeue',
      pipeline,
      queue,
      count: leases.length,
      latencyMs,
      // The payload only, as at enqueue: not the "<lease id>|" in front of it (ASCII).
      payloadBytes: leases.reduce(
        (sum, lease) => sum + Buffer.byteLength(lease) - lease.indexOf('|') - 1,
        0,
      ),
    });
  }
}
