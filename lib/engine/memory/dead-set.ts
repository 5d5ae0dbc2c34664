import type { DeadSetBounds } from '../store.js';
import type { MemoryDb } from './memory-db.js';

// lua/includes/dead-set.lua, over the memory keyspace: the same documents, the same bounds.

/** Adds a document to the dead set, then trims the set to its bounds (age, then size). */
export function bury(
  db: MemoryDb,
  deadKey: string,
  nowMs: number,
  document: string,
  dead: DeadSetBounds,
): void {
  db.zadd(deadKey, nowMs, document);
  db.zremUpTo(deadKey, nowMs - dead.maxAgeMs, false);
  db.zremRanks(deadKey, 0, -(dead.maxJobs + 1));
}

/**
 * The dead-set document of a payload set aside without running: the payload kept
 * verbatim (as a JSON string) beside the reason. `jid` is the job's id when known, or ''.
 */
export function setAsideDocument(
  jid: string,
  queue: string,
  reason: string,
  nowMs: number,
  payload: string,
): string {
  return (
    `{"jid":${jid === '' ? 'null' : JSON.stringify(jid)}` +
    `,"queue":${JSON.stringify(queue)}` +
    `,"error_message":${JSON.stringify(reason)}` +
    `,"failed_at":${nowMs / 1000}` +
    `,"payload":${JSON.stringify(payload)}}`
  );
}
