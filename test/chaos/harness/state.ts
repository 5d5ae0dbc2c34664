import { Cluster, Redis } from 'ioredis';
import { queueKeys } from '../../../lib/engine/keys.js';
import {
  ledgerKeys,
  QUEUES,
  type CallRecord,
  type CheckRecord,
  type LogRecord,
  type QueueRole,
  type RunRecord,
} from '../fixtures/config.js';

/** A job of a dead set: its document, and when it died. */
export interface DeadJob {
  q: QueueRole;
  at: number;
  jid?: string;
  /** The workload's id (args[0]) when the job has one. */
  id?: string;
  reason?: string;
}

/** What is left of one queue once the run is over. */
export interface QueueLeft {
  waiting: number;
  processing: number;
  leases: number;
  scheduled: number;
  retry: number;
  recoveries: number;
}

/** Everything the checks read once the run is over: the ledger and Redis. */
export interface FinalState {
  calls: CallRecord[];
  runs: RunRecord[];
  logs: LogRecord[];
  checks: CheckRecord[];
  dead: DeadJob[];
  left: Record<QueueRole, QueueLeft>;
  /** Unique locks still held: key -> id of the job holding it. */
  uniqueLocks: { key: string; jid: string }[];
}

async function readList<T>(redis: Redis, key: string): Promise<T[]> {
  const out: T[] = [];
  for (let start = 0; ; start += 5_000) {
    const chunk = await redis.lrange(key, start, start + 4_999);
    for (const item of chunk) out.push(JSON.parse(item) as T);
    if (chunk.length < 5_000) return out;
  }
}

async function readDead(redis: Redis | Cluster, q: QueueRole, key: string): Promise<DeadJob[]> {
  const dead: DeadJob[] = [];
  for (let start = 0; ; start += 5_000) {
    const flat = await redis.zrange(key, String(start), String(start + 4_999), 'WITHSCORES');
    for (let i = 0; i < flat.length; i += 2) {
      const doc = JSON.parse(flat[i]) as { jid?: string; args?: unknown[]; error_message?: string };
      const first = Array.isArray(doc.args) ? doc.args[0] : undefined;
      dead.push({
        q,
        at: Number(flat[i + 1]),
        jid: doc.jid ?? undefined,
        id: typeof first === 'string' ? first : undefined,
        reason: doc.error_message,
      });
    }
    if (flat.length < 10_000) return dead;
  }
}

/** Reads the ledger and what the queues hold in Redis (`reader`: not through a proxy). */
export async function readFinalState(
  ledger: Redis,
  ledgerPrefix: string,
  reader: Redis | Cluster,
  namespace: string,
  allKeys: string[],
): Promise<FinalState> {
  const keys = ledgerKeys(ledgerPrefix);
  const left = {} as Record<QueueRole, QueueLeft>;
  const dead: DeadJob[] = [];
  const uniqueLocks: { key: string; jid: string }[] = [];
  for (const [role, queue] of Object.entries(QUEUES) as [QueueRole, string][]) {
    const k = queueKeys(namespace, queue);
    left[role] = {
      waiting: await reader.llen(k.waiting),
      processing: await reader.zcard(k.processing),
      leases: await reader.hlen(k.leases),
      scheduled: await reader.zcard(k.scheduled),
      retry: await reader.zcard(k.retry),
      recoveries: await reader.hlen(k.recoveries),
    };
    dead.push(...(await readDead(reader, role, k.dead)));
    const lockPrefix = `${k.waiting}:unique:`;
    for (const key of allKeys.filter((name) => name.startsWith(lockPrefix))) {
      const jid = await reader.get(key);
      if (jid !== null) uniqueLocks.push({ key: key.slice(lockPrefix.length), jid });
    }
  }
  return {
    calls: await readList<CallRecord>(ledger, keys.calls),
    runs: await readList<RunRecord>(ledger, keys.runs),
    logs: await readList<LogRecord>(ledger, keys.logs),
    checks: await readList<CheckRecord>(ledger, keys.checks),
    dead,
    left,
    uniqueLocks,
  };
}
