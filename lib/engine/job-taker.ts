import type { Acker } from './acker.js';
import type { Instrumentation } from './instrumentation.js';
import type { QueueKeys } from './keys.js';
import type { TakeReply } from './lease.js';
import type { RateLimiter } from './rate-limiter.js';
import type { DeadSetBounds, FlumeStore, GroupLimits, TakeResult } from './store.js';
import { uniqueToken } from './unique-token.js';

/**
 * What one take brought: leases (out of `asked`: fewer means the queue ran out), or a
 * wait because the rate limit is used up.
 */
export type TakeOutcome =
  ({ kind: 'taken'; asked: number } & TakeReply) | { kind: 'limited'; waitMs: number };

export interface JobTakerDeps {
  pipeline: string;
  queue: string;
  keys: QueueKeys;
  store: FlumeStore;
  leaseMs: number;
  maxPayloadBytes: number;
  dead: DeadSetBounds;
  limiter?: RateLimiter;
  /** Its pending acknowledgements travel with each take. */
  acker: Acker;
  /** Set when the pipeline publishes events. */
  instrumentation?: Instrumentation;
  /** The pipeline's group limits, if it sets any. */
  groups?: GroupLimits;
  globalConcurrency?: number;
}

/** How long Redis keeps the record of a take: ample for a reconnection to ask for it. */
const TAKE_RECORD_MS = 10 * 60_000;

/** Leases jobs of one queue: as many as asked, never more than the rate limit allows. */
export class JobTaker {
  /** A take that failed on our side: it may have run in Redis, its reply lost. */
  private unconfirmed?: string;
  /** The last take whose reply arrived: the next take deletes its record. */
  private confirmed = 'none';

  constructor(private readonly deps: JobTakerDeps) {}

  /**
   * Hands back the jobs of a take whose reply was lost, if it ran. Call before the
   * next take, and at shutdown; rejects while Redis is away (then call again).
   */
  async settleLostTake(): Promise<void> {
    const token = this.unconfirmed;
    if (token === undefined) return;
    await this.deps.store.abandonTake(this.deps.keys, token);
    if (this.unconfirmed === token) this.unconfirmed = undefined;
  }

  /** At shutdown: hands back a lost take's jobs and deletes the last take's record. */
  async close(): Promise<void> {
    await this.settleLostTake();
    await this.deps.store.forgetTake(this.deps.keys, this.confirmed);
  }

  /** After a 'limited' take: waits `waitMs`, or less when permits on the key are given back. */
  waitForPermits(waitMs: number, signal: AbortSignal): Promise<void> {
    return this.deps.limiter!.waitForPermits(waitMs, signal);
  }

  /**
   * Leases up to `free` jobs (fewer when the rate limit says so). With `withAcks`, the
   * acknowledgements pending travel with the take; a take that must be quick (the first
   * after a wake-up: an idle pipeline's job waits for it) goes alone.
   */
  async take(free: number, withAcks: boolean): Promise<TakeOutcome> {
    await this.settleLostTake();
    const { limiter, store, keys, queue } = this.deps;
    const permit = limiter ? await limiter.acquire(free) : undefined;
    if (permit?.granted === 0) return { kind: 'limited', waitMs: permit.waitMs };
    const wanted = permit?.granted ?? free;
    const started = Date.now();
    const token = uniqueToken();
    const acks = withAcks ? this.deps.acker.forTake() : undefined;
    let reply: TakeResult;
    try {
      reply = await store.take(keys, queue, {
        count: wanted,
        leaseMs: this.deps.leaseMs,
        token,
        previous: this.confirmed,
        recordMs: TAKE_RECORD_MS,
        maxPayloadBytes: this.deps.maxPayloadBytes,
        dead: this.deps.dead,
        acks,
        groups: this.deps.groups,
        globalConcurrency: this.deps.globalConcurrency,
      });
    } catch (err) {
      this.unconfirmed = token;
      if (acks) void this.deps.acker.sent(acks, err);
      throw err;
    }
    if (acks) void this.deps.acker.sent(acks, reply.ackError);
    this.confirmed = token;
    const { leases } = reply;
    if (permit) {
      // Neither is awaited: the jobs start right after this, and the restamp bounds
      // their start time only if no round trip comes in between. Redis applies both
      // long before the window they protect could free up.
      void permit.release(wanted - leases.length).catch(() => undefined);
      void permit.beforeStart(leases.length);
    }
    if (leases.length > 0) this.emitDequeue(reply, Date.now() - started);
    return {
      kind: 'taken',
      asked: wanted,
      leases,
      oversized: reply.oversized,
      blockedMs: reply.blockedMs,
    };
  }

  private emitDequeue({ leases }: TakeReply, latencyMs: number): void {
    const { instrumentation, pipeline, queue } = this.deps;
    if (!instrumentation) return;
    let payloadBytes = 0;
    for (const lease of leases) payloadBytes += Buffer.byteLength(lease.payload);
    instrumentation.emit({
      type: 'dequeue',
      pipeline,
      queue,
      count: leases.length,
      latencyMs,
      payloadBytes,
    });
  }
}
