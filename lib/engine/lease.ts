/**
 * The lease format, on the TypeScript side (the Lua scripts are the only other place
 * that knows it). A job leased by a take is known to Redis by its lease id alone: the
 * processing set holds ids, the leases hash holds each payload once. Renewals, acks,
 * settles and hand-backs send ids, never payload bytes, and a lease id is never reused,
 * so a late acknowledgement of an expired lease cannot end the lease of whoever holds
 * the same job now.
 */
export interface Lease {
  /** The lease id (a decimal number from the queue's lease counter). */
  readonly id: string;
  /** The job's payload as stored (decoded as UTF-8; it never goes back to Redis). */
  readonly payload: string;
  /** Times this job was handed back after its worker stopped mid-job (from Redis). */
  readonly recoveries: number;
}

/** What one take brought back. */
export interface TakeReply {
  /** The jobs leased, oldest first. */
  leases: Lease[];
  /** Sizes (bytes) of payloads over `maxPayloadBytes`, moved to the dead set unrun. */
  oversized: number[];
  /**
   * Set when jobs wait that a limit (`globalConcurrency`, a group's concurrency or rate
   * limit, a paused group) keeps from starting now: ms until a group's rate window lets
   * one start, or 0 when it takes a running job to end.
   */
  blockedMs?: number;
}

const NOTHING: TakeReply = { leases: [], oversized: [] };

/**
 * Reads the reply of take-12.lua: `[first id, [index, recoveries, ...], [bytes, ...],
 * blocked, payload 1, ..., payload n]`, payload i leased under id first + i - 1.
 */
export function parseTakeReply(reply: unknown): TakeReply {
  const [first, recovered, oversized, blocked, ...payloads] = reply as [
    number,
    number[],
    number[],
    number,
    ...string[],
  ];
  const blockedMs = blocked >= 0 ? blocked : undefined;
  if (payloads.length === 0 && oversized.length === 0) {
    return blockedMs === undefined ? NOTHING : { ...NOTHING, blockedMs };
  }
  const times = new Map<number, number>();
  for (let i = 0; i < recovered.length; i += 2) times.set(recovered[i], recovered[i + 1]);
  const leases = payloads.map((payload, i) => ({
    id: String(first + i),
    payload,
    recoveries: times.get(i + 1) ?? 0,
  }));
  return blockedMs === undefined ? { leases, oversized } : { leases, oversized, blockedMs };
}
