import type { Redis } from 'ioredis';
import { spansKey } from '../fixtures/fixture-config.js';

/** One run of a job as the fixture recorded it in Redis (see Marks.recordSpan). */
export interface Span {
  id: string;
  /** "<pid>.<n>": which process ran it, and which of its runs. */
  run: string;
  start: number;
  /** When the run was about to return; undefined when it never did (killed, handed back). */
  end?: number;
}

/** Reads the spans the fixture recorded, one per run that started. */
export async function readSpans(redis: Redis, marks: string): Promise<Span[]> {
  const byRun = new Map<string, Span>();
  for (const entry of await redis.lrange(spansKey(marks), 0, -1)) {
    const [edge, id, run, at] = entry.split('|');
    const span = byRun.get(run) ?? { id, run, start: NaN };
    if (edge === 'start') span.start = Number(at);
    else span.end = Number(at);
    byRun.set(run, span);
  }
  return [...byRun.values()];
}

/** The pid that ran a span. */
export const pidOf = (span: Span): number => Number(span.run.split('.')[0]);

/**
 * The most spans of one group seen running at once, by group. A run ends at its `end`,
 * or, when it has none, at `endOf(span)` (the time its process was killed, say). Spans
 * that end and start on the same millisecond do not overlap: a job ends before its ack,
 * and the next job of its group starts after its take.
 */
export function mostAtOnce(
  spans: readonly Span[],
  groupOf: (id: string) => string,
  endOf: (span: Span) => number,
): Map<string, number> {
  const edges = new Map<string, { at: number; delta: number }[]>();
  for (const span of spans) {
    const group = groupOf(span.id);
    const list = edges.get(group) ?? [];
    list.push({ at: span.start, delta: 1 }, { at: span.end ?? endOf(span), delta: -1 });
    edges.set(group, list);
  }
  const most = new Map<string, number>();
  for (const [group, list] of edges) {
    // Ends first on a tie.
    list.sort((a, b) => a.at - b.at || a.delta - b.delta);
    let running = 0;
    let peak = 0;
    for (const edge of list) {
      running += edge.delta;
      peak = Math.max(peak, running);
    }
    most.set(group, peak);
  }
  return most;
}
