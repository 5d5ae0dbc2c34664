import { randomUUID } from 'node:crypto';
import { describe } from './describe.js';
import { FlumePayloadError } from './errors/index.js';
import { unixSeconds, type Job } from './job.js';
import { checkGroup } from './groups.js';
import { checkPriority } from './priority.js';
import { resolveUnique, type ResolvedUnique } from './unique.js';

/**
 * Throws a FlumePayloadError unless `value` comes back from a JSON round trip
 * unchanged. JSON.stringify alone would silently turn `undefined` into null or drop
 * it, NaN into null, a Date into a string and a Map into `{}`.
 */
export function assertJsonSafe(value: unknown, path: string, seen = new Set<object>()): void {
  const refuse = (what: string, fix: string): never => {
    throw new FlumePayloadError(`${path} ${what}, which JSON cannot carry unchanged. ${fix}`);
  };
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) refuse(`is ${value}`, 'Pass a finite number or null.');
      return;
    case 'undefined':
      return refuse('is undefined', 'Pass null, or leave the key out.');
    case 'bigint':
      return refuse('is a BigInt', 'Pass it as a string: value.toString().');
    case 'function':
      return refuse('is a function', 'Pass data only; the worker holds the code.');
    case 'symbol':
      return refuse('is a symbol', 'Pass a string.');
  }
  if (value === null) return;
  const object = value as object;
  if (seen.has(object)) refuse('refers back to itself (a cycle)', 'Pass a tree of plain data.');
  seen.add(object);
  if (Array.isArray(object)) {
    for (let i = 0; i < object.length; i++) {
      if (!(i in object)) refuse(`has a hole at index ${i}`, 'Fill it with null.');
      assertJsonSafe(object[i], `${path}[${i}]`, seen);
    }
  } else {
    const proto = Object.getPrototypeOf(object);
    if (proto !== Object.prototype && proto !== null) {
      const kind = (object.constructor as { name?: string } | undefined)?.name ?? 'class instance';
      refuse(
        `is a ${kind}`,
        kind === 'Date'
          ? 'Pass date.toISOString() or date.getTime().'
          : 'Pass a plain object or array.',
      );
    }
    for (const [key, item] of Object.entries(object)) {
      assertJsonSafe(item, `${path}.${key}`, seen);
    }
  }
  seen.delete(object);
}

export interface NewJob {
  queue: string;
  worker: string;
  /** Handler method; left out when unknown here, so the worker's default method runs. */
  function?: string;
  args: unknown[];
  context?: Record<string, unknown>;
  /** Trace context to store in the job's `trace_context` (set by a tracing integration). */
  traceContext?: Record<string, string>;
  /** The `unique` option as given (true or UniqueOptions); checked by resolveUnique. */
  unique?: unknown;
  /** The `priority` option as given; checked by checkPriority. */
  priority?: unknown;
  /** The `group` option as given; checked by checkGroup. */
  group?: unknown;
}

/** A new job, checked and encoded. */
export interface EncodedNewJob {
  jid: string;
  payload: string;
  /** Set for a unique job: its lock. */
  unique?: ResolvedUnique;
  /** 1 to MAX_PRIORITY for a job with a priority; 0 for none. */
  priority: number;
  /** The job's group, if it has one. */
  group?: string;
}

/**
 * Validates a new job's args and context and encodes it. Throws a FlumePayloadError
 * before anything is written when they cannot round-trip through JSON, or when the
 * payload is over `maxBytes`.
 */
export function encodeNewJob(job: NewJob, now = Date.now(), maxBytes = Infinity): EncodedNewJob {
  if (!Array.isArray(job.args)) {
    throw new FlumePayloadError(
      `args must be an array (the handler's arguments, in order), got: ${describe(job.args)}`,
    );
  }
  assertJsonSafe(job.args, 'args');
  if (job.context !== undefined) {
    if (job.context === null || typeof job.context !== 'object' || Array.isArray(job.context)) {
      throw new FlumePayloadError(`context must be a plain object, got: ${describe(job.context)}`);
    }
    assertJsonSafe(job.context, 'context');
  }
  const priority = checkPriority(job.priority);
  const group = checkGroup(job.group);
  if (group !== undefined && priority > 0) {
    throw new FlumePayloadError(
      `A job cannot have both a group and a priority (got group ${JSON.stringify(group)}, ` +
        `priority ${priority}): within a group, jobs run in their order. Leave one out.`,
    );
  }
  const jid = randomUUID();
  const stored: Job = {
    jid,
    queue: job.queue,
    class: job.worker,
    function: job.function,
    args: job.args,
    retry_count: 0,
    enqueued_at: unixSeconds(now),
  };
  if (job.context !== undefined) stored.context = job.context;
  if (priority > 0) stored.priority = priority;
  if (group !== undefined) stored.group = group;
  // Checked before anything else is built, and keyed by what the caller asked for.
  const unique =
    job.unique === undefined || job.unique === false
      ? undefined
      : resolveUnique(job.unique, () => [job.worker, job.function ?? null, job.args]);
  if (unique) stored.unique = { key: unique.key, until: unique.until };
  if (job.traceContext !== undefined) stored.trace_context = traceCarrier(job.traceContext);
  const payload = JSON.stringify(stored);
  // A UTF-16 unit is at most 3 UTF-8 bytes: only long payloads need counting.
  if (payload.length * 3 > maxBytes && Buffer.byteLength(payload) > maxBytes) {
    throw new FlumePayloadError(
      `The job is ${Buffer.byteLength(payload)} bytes of JSON, over maxPayloadBytes (${maxBytes}). ` +
        'Store large data elsewhere (a database, object storage) and pass its id.',
    );
  }
  return { jid, payload, unique, priority, group };
}

/** A trace context carrier as stored: its string entries only. */
function traceCarrier(carrier: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(carrier).filter(([, v]) => typeof v === 'string'));
}

/** Encodes a job read back from Redis after its fields changed (a retry, a death). */
export function encodeJob(job: Job): string {
  // May throw (a RangeError for a document nested too deep): callers set the job aside.
  return JSON.stringify(job);
}

export type DecodeResult = { ok: true; job: Job } | { ok: false; reason: string };

/** Parses a payload read from Redis; never throws. */
export function decodeJob(payload: string): DecodeResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch (err) {
    return { ok: false, reason: `payload is not valid JSON (${(err as Error).message})` };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { ok: false, reason: `payload is not a JSON object, got: ${describe(parsed)}` };
  }
  const job = parsed as Record<string, unknown>;
  if (job.retry_count === undefined) job.retry_count = 0;
  // The common case in one pass, without building the list of problems.
  if (
    isName(job.jid) &&
    isName(job.queue) &&
    isName(job.class) &&
    (job.function === undefined || isName(job.function)) &&
    Array.isArray(job.args) &&
    Number.isInteger(job.retry_count) &&
    (job.retry_count as number) >= 0 &&
    (job.context === undefined || (typeof job.context === 'object' && job.context !== null))
  ) {
    return { ok: true, job: job as unknown as Job };
  }
  const problems: string[] = [];
  for (const field of ['jid', 'queue', 'class'] as const) {
    if (!isName(job[field])) problems.push(`"${field}" must be a non-empty string`);
  }
  // Left out when the enqueuing process did not know the worker: its default method runs.
  if (job.function !== undefined && !isName(job.function)) {
    problems.push('"function", when present, must be a non-empty string');
  }
  if (!Array.isArray(job.args)) problems.push('"args" must be an array');
  if (!Number.isInteger(job.retry_count) || (job.retry_count as number) < 0) {
    problems.push('"retry_count" must be a non-negative integer');
  }
  if (job.context !== undefined && (typeof job.context !== 'object' || job.context === null)) {
    problems.push('"context" must be an object');
  }
  return { ok: false, reason: `malformed job: ${problems.join('; ')}` };
}

/** A non-empty string: what `jid`, `queue`, `class` and `function` must be. */
function isName(value: unknown): boolean {
  return typeof value === 'string' && value !== '';
}

/**
 * The document stored in the dead set for a payload that is not a job at all:
 * the original text is kept verbatim in `payload` beside the reason.
 */
export function encodeUnreadable(queue: string, payload: string, reason: string): string {
  return JSON.stringify({
    jid: null,
    queue,
    error_message: reason,
    failed_at: unixSeconds(),
    payload,
  });
}

export { describe };
