import type { QueueKeys } from '../keys.js';
import { PRIORITY_MARK, priorityScore } from '../priority.js';
import type { MemoryDb } from './memory-db.js';

/**
 * push_job of lua/includes/push-job.lua: a plain job to the tail of its queue; a job
 * with a priority to the prioritized set, and a mark to the head of the queue.
 */
export function pushJob(db: MemoryDb, keys: QueueKeys, payload: string, priority: number): void {
  if (priority > 0) {
    const seq = db.incrby(keys.prioritySeq, 1);
    db.zadd(keys.prioritized, priorityScore(priority, seq), payload);
    db.lpush(keys.waiting, PRIORITY_MARK);
  } else {
    db.rpush(keys.waiting, [payload]);
  }
}
