import { describeRuns, iso, type CheckResult, type Violation } from './checker.js';
import type { History } from './history.js';
import type { FinalState } from './state.js';

/** Around the first broken invariant, how far back and forward the summary looks. */
const BEFORE_MS = 15_000;
const AFTER_MS = 5_000;
/** Most lines of each kind in the summary. */
const MOST = 60;

/**
 * What happened around the first broken invariant: the violation, the job's story
 * (its enqueue, each run with its process, the dead set), and the timeline of faults,
 * processes, pauses and the engine's warnings of the processes concerned, from a little
 * before the job's first run to a little after the violation.
 */
export function failureSummary(
  first: Violation,
  result: CheckResult,
  state: FinalState,
  history: History,
): string {
  const lines: string[] = [];
  lines.push(
    `First broken invariant: ${first.invariant}`,
    `  at ${iso(first.at)}`,
    `  ${first.message}`,
  );
  const runs = first.job
    ? result.runs.filter((r) => r.id === first.job || r.jid === first.job)
    : [];
  const calls = first.job
    ? state.calls.filter((c) => c.ids.includes(first.job!) || c.jids?.includes(first.job!))
    : [];
  const pids = new Set([...(first.pids ?? []), ...runs.map((r) => r.pid)]);
  const from =
    Math.min(first.at, ...runs.map((r) => r.start), ...calls.map((c) => c.at)) - BEFORE_MS;
  const to = first.at + AFTER_MS;
  if (first.job) {
    lines.push('', `Job ${first.job}:`);
    for (const call of calls) {
      lines.push(
        `  enqueued by ${call.producer} call #${call.n} (${call.kind}) ${iso(call.at)}..${iso(call.end)}: ${
          call.ok ? `resolved to ${call.jids?.join(', ')}` : `rejected: ${call.error}`
        }${call.notBefore ? `, due ${iso(call.notBefore)}` : ''}`,
      );
    }
    lines.push(`  runs: ${describeRuns(runs)}`);
    for (const dead of state.dead.filter((d) => d.id === first.job || d.jid === first.job)) {
      lines.push(`  dead since ${iso(dead.at)}: ${dead.reason}`);
    }
  }
  lines.push('', `Timeline ${iso(from)} .. ${iso(to)}:`);
  const events: { at: number; text: string }[] = [];
  for (const fault of history.faults) {
    const end = fault.end ?? Infinity;
    if (end < from || fault.at > to) continue;
    const scope = fault.scope === undefined ? '' : ` scope ${JSON.stringify(fault.scope)}`;
    events.push({
      at: fault.at,
      text: `fault #${fault.n} ${fault.kind}${fault.label ? ` ${fault.label} pid ${fault.pid}` : ''}${scope}: ${
        fault.skipped ? `skipped (${fault.skipped})` : (fault.detail ?? '')
      } until ${Number.isFinite(end) ? iso(end).slice(11) : '?'}`,
    });
  }
  for (const p of history.processes) {
    const show = (at: number | undefined, text: string) => {
      if (at !== undefined && at >= from && at <= to)
        events.push({ at, text: `${p.label} pid ${p.pid} ${text}` });
    };
    show(p.spawnAt, 'spawned');
    show(p.readyAt, 'ready');
    for (const s of p.signals) show(s.at, `${s.signal} (${s.why})`);
    show(p.closedAt, 'closed its app');
    show(p.exit?.at, `exited (code ${p.exit?.code}, signal ${p.exit?.signal})`);
  }
  for (const pause of history.pauses) {
    if (pause.at < from || pause.at > to) continue;
    events.push({
      at: pause.at,
      text: `pause #${pause.n} ${pause.scope} of "${pause.pipeline}" by ${pause.label}${pause.error ? ` (${pause.error})` : ''}, resumed ${pause.end ? iso(pause.end).slice(11) : '?'} by ${pause.resumedBy ?? '-'}`,
    });
  }
  const logs = state.logs.filter(
    (l) =>
      l.at >= from && l.at <= to && l.level !== 'debug' && (pids.has(l.pid) || l.level === 'error'),
  );
  for (const log of logs.slice(-MOST)) {
    events.push({
      at: log.at,
      text: `${log.label} pid ${log.pid} [${log.level}] ${log.message.slice(0, 300)}`,
    });
  }
  events.sort((a, b) => a.at - b.at);
  for (const event of events.slice(-3 * MOST))
    lines.push(`  ${iso(event.at).slice(11)} ${event.text}`);
  return lines.join('\n');
}

/** The figures of a run, one `key=value` per entry, on one line. */
export function figuresLine(figures: Record<string, number | string>): string {
  return Object.entries(figures)
    .map(([key, value]) => `${key}=${value}`)
    .join(' ');
}

/** Faults by kind: done (and skipped) counts. */
export function faultCounts(history: History): Record<string, string> {
  const counts: Record<string, { done: number; skipped: number }> = {};
  for (const fault of history.faults) {
    const c = (counts[fault.kind] ??= { done: 0, skipped: 0 });
    if (fault.skipped) c.skipped++;
    else c.done++;
  }
  return Object.fromEntries(
    Object.entries(counts).map(([kind, c]) => [
      kind,
      c.skipped ? `${c.done} (+${c.skipped} skipped)` : `${c.done}`,
    ]),
  );
}
