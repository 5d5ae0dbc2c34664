import { describe, expect, it } from 'vitest';
import { FlumePayloadError } from '../../lib/engine/errors/index.js';
import {
  assertJsonSafe,
  decodeJob,
  describe as describeValue,
  encodeJob,
  encodeNewJob,
  encodeUnreadable,
} from '../../lib/engine/payload.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function refusal(value: unknown): string {
  try {
    assertJsonSafe(value, 'args');
  } catch (err) {
    expect(err).toBeInstanceOf(FlumePayloadError);
    return (err as Error).message;
  }
  throw new Error(`accepted ${String(value)}`);
}

describe('assertJsonSafe', () => {
  it('accepts plain JSON data', () => {
    const shared = { a: 1 };
    for (const value of [
      [],
      [1, 'two', true, null, -0.5, 1e300],
      [{ nested: { deeper: [1, [2, [3]]] } }],
      [Object.create(null)],
      [shared, shared], // the same object twice is a tree, not a cycle
      [{ '': 'empty key', 'with.dot': 1 }],
    ]) {
      expect(() => assertJsonSafe(value, 'args')).not.toThrow();
    }
  });

  it('refuses what JSON would silently change, naming where and how to fix it', () => {
    expect(refusal([() => 1])).toBe(
      'args[0] is a function, which JSON cannot carry unchanged. Pass data only; the worker holds the code.',
    );
    expect(refusal([1n])).toMatch(/^args\[0\] is a BigInt.*value\.toString\(\)/);
    expect(refusal([Symbol('s')])).toMatch(/^args\[0\] is a symbol/);
    expect(refusal([1, undefined])).toMatch(/^args\[1\] is undefined.*Pass null/);
    expect(refusal({ a: { b: undefined } })).toMatch(/^args\.a\.b is undefined/);
    // eslint-disable-next-line no-sparse-arrays
    expect(refusal([1, , 3])).toMatch(/^args has a hole at index 1.*Fill it with null/);
    expect(refusal(new Array(2))).toMatch(/^args has a hole at index 0/);
    expect(refusal([NaN])).toMatch(/^args\[0\] is NaN.*finite number/);
    expect(refusal([{ x: Infinity }])).toMatch(/^args\[0\]\.x is Infinity/);
    expect(refusal([-Infinity])).toMatch(/^args\[0\] is -Infinity/);
    expect(refusal([new Date(0)])).toMatch(/^args\[0\] is a Date.*toISOString\(\)/);
    expect(refusal([new Map([[1, 2]])])).toMatch(/^args\[0\] is a Map.*plain object or array/);
    expect(refusal([new Set([1])])).toMatch(/^args\[0\] is a Set/);
    expect(refusal([/re/])).toMatch(/^args\[0\] is a RegExp/);
    expect(refusal([new (class Point {})()])).toMatch(/^args\[0\] is a Point/);
    expect(refusal([new Uint8Array(2)])).toMatch(/^args\[0\] is a Uint8Array/);
  });

  it('refuses cycles, through objects and arrays', () => {
    const node: Record<string, unknown> = { name: 'a' };
    node.self = node;
    expect(refusal([node])).toMatch(/^args\[0\]\.self refers back to itself \(a cycle\)/);
    const list: unknown[] = [1];
    list.push({ back: list });
    expect(refusal(list)).toMatch(/^args\[1\]\.back refers back to itself/);
  });
});

describe('encodeNewJob', () => {
  it('writes a Flume-shaped document, jid first, and no function when none is known', () => {
    const now = 1_700_000_000_123;
    const { jid, payload } = encodeNewJob({ queue: 'q', worker: 'W', args: [1, 'a'] }, now);
    expect(jid).toMatch(UUID);
    expect(payload.startsWith(`{"jid":"${jid}"`)).toBe(true);
    expect(JSON.parse(payload)).toEqual({
      jid,
      queue: 'q',
      class: 'W',
      args: [1, 'a'],
      retry_count: 0,
      enqueued_at: 1_700_000_000.123,
    });
  });

  it('keeps the function and the context when given', () => {
    const { payload } = encodeNewJob({
      queue: 'q',
      worker: 'W',
      function: 'run',
      args: [],
      context: { requestId: 'r1', nested: { n: 1 } },
    });
    expect(JSON.parse(payload)).toMatchObject({
      function: 'run',
      context: { requestId: 'r1', nested: { n: 1 } },
    });
  });

  it('gives every job its own id', () => {
    const ids = new Set(
      Array.from({ length: 200 }, () => encodeNewJob({ queue: 'q', worker: 'W', args: [] }).jid),
    );
    expect(ids.size).toBe(200);
  });

  it('refuses args that are not an array, and bad args or context', () => {
    const job = { queue: 'q', worker: 'W' };
    expect(() => encodeNewJob({ ...job, args: 'x' as never })).toThrow(
      new FlumePayloadError(`args must be an array (the handler's arguments, in order), got: "x"`),
    );
    expect(() => encodeNewJob({ ...job, args: [1n] })).toThrow(FlumePayloadError);
    expect(() => encodeNewJob({ ...job, args: [], context: [] as never })).toThrow(
      /context must be a plain object, got: \[\]/,
    );
    expect(() => encodeNewJob({ ...job, args: [], context: null as never })).toThrow(
      /context must be a plain object, got: null/,
    );
    expect(() => encodeNewJob({ ...job, args: [], context: { at: new Date() } })).toThrow(
      /^context\.at is a Date/,
    );
  });
});

describe('decodeJob', () => {
  const good = { jid: 'j1', queue: 'q', class: 'W', args: [1], retry_count: 2, enqueued_at: 1 };

  it('reads back what encodeJob wrote', () => {
    const job = { ...good, function: 'run', context: { a: 1 }, error_message: 'boom' };
    expect(decodeJob(encodeJob(job))).toEqual({ ok: true, job });
  });

  it('treats a missing retry_count as 0 (jobs written by other Flume clients)', () => {
    const { retry_count: _, ...rest } = good;
    const decoded = decodeJob(JSON.stringify(rest));
    expect(decoded.ok && decoded.job.retry_count).toBe(0);
  });

  it('says why a payload cannot run, without throwing', () => {
    const reason = (payload: string) => {
      const decoded = decodeJob(payload);
      expect(decoded.ok).toBe(false);
      return (decoded as { reason: string }).reason;
    };
    expect(reason('not json')).toMatch(/^payload is not valid JSON \(/);
    expect(reason('')).toMatch(/^payload is not valid JSON/);
    expect(reason('[1,2]')).toBe('payload is not a JSON object, got: [1,2]');
    expect(reason('null')).toBe('payload is not a JSON object, got: null');
    expect(reason('"text"')).toBe('payload is not a JSON object, got: "text"');
    expect(reason('{}')).toBe(
      'malformed job: "jid" must be a non-empty string; "queue" must be a non-empty string; ' +
        '"class" must be a non-empty string; "args" must be an array',
    );
    expect(reason(JSON.stringify({ ...good, args: 'x' }))).toBe(
      'malformed job: "args" must be an array',
    );
    expect(reason(JSON.stringify({ ...good, args: { 0: 1 } }))).toBe(
      'malformed job: "args" must be an array',
    );
    expect(reason(JSON.stringify({ ...good, function: '' }))).toBe(
      'malformed job: "function", when present, must be a non-empty string',
    );
    expect(reason(JSON.stringify({ ...good, function: 3 }))).toMatch(/"function", when present/);
    expect(reason(JSON.stringify({ ...good, retry_count: -1 }))).toBe(
      'malformed job: "retry_count" must be a non-negative integer',
    );
    expect(reason(JSON.stringify({ ...good, retry_count: 1.5 }))).toMatch(/"retry_count"/);
    expect(reason(JSON.stringify({ ...good, context: null }))).toBe(
      'malformed job: "context" must be an object',
    );
    expect(reason(JSON.stringify({ ...good, class: '' }))).toBe(
      'malformed job: "class" must be a non-empty string',
    );
  });
});

describe('encodeUnreadable', () => {
  it('keeps the original text verbatim beside the reason', () => {
    const stored = JSON.parse(encodeUnreadable('q', '{broken', 'payload is not valid JSON'));
    expect(stored).toMatchObject({
      jid: null,
      queue: 'q',
      error_message: 'payload is not valid JSON',
      payload: '{broken',
    });
    expect(stored.failed_at).toBeCloseTo(Date.now() / 1000, 0);
  });
});

describe('describe (values in messages)', () => {
  it('shows values the way a user wrote them, briefly', () => {
    expect(describeValue(undefined)).toBe('undefined');
    expect(describeValue(() => 1)).toBe('a function');
    expect(describeValue(12n)).toBe('12n');
    expect(describeValue('x')).toBe('"x"');
    expect(describeValue(NaN)).toBe('NaN');
    expect(describeValue(-Infinity)).toBe('-Infinity');
    expect(describeValue({ a: 1 })).toBe('{"a":1}');
    expect(describeValue('y'.repeat(200))).toHaveLength(80);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(describeValue(cyclic)).toBe('[object Object]');
  });
});
