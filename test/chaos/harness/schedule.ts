import { PIPELINES, QUEUES, type QueueRole } from '../fixtures/config.js';
import { Random } from '../fixtures/random.js';

export type FaultKind =
  | 'kill-worker'
  | 'term-worker'
  | 'restart-redis'
  | 'failover'
  | 'move-slot'
  | 'client-pause'
  | 'proxy-cut'
  | 'proxy-drop'
  | 'proxy-delay'
  | 'proxy-half-open';

/** A fault of the schedule: when (ms after the start), what, and every parameter it takes. */
export interface PlannedFault {
  n: number;
  /** Faults of one lane happen one after the other; the two lanes overlap. */
  lane: 'process' | 'redis';
  at: number;
  kind: FaultKind;
  /** kill-worker, term-worker: index of the worker. */
  worker?: number;
  /** Redis faults: index of the master. */
  node?: number;
  signal?: 'SIGKILL' | 'SIGTERM';
  /** How long the fault lasts (restart: Redis down; pause, drop, delay, half-open). */
  ms?: number;
  /** proxy-delay: how long each chunk is held. */
  latencyMs?: number;
  pauseMode?: 'WRITE' | 'ALL';
  /** move-slot: the queue whose slot moves, to the master `offset` places after its owner. */
  queue?: QueueRole;
  offset?: number;
}

/** A pause of the operator lane: a pipeline paused for a while, then resumed. */
export interface PlannedPause {
  n: number;
  at: number;
  /** `local`: in one process (temporary); `global`: for every instance, lifted by another worker. */
  scope: 'local' | 'global';
  worker: number;
  /** Who resumes a global pause. */
  resumer: number;
  pipeline: string;
  ms: number;
}

export interface Plan {
  seed: number;
  faults: PlannedFault[];
  pauses: PlannedPause[];
}

export interface PlanOptions {
  seed: number;
  mode: 'single' | 'cluster';
  durationMs: number;
  workers: number;
  /** Multiplies the quiet time between two faults of a lane (1: the default pace). */
  pace: number;
}

const PROCESS_KINDS: FaultKind[] = ['kill-worker', 'term-worker'];
const REDIS_KINDS: Record<PlanOptions['mode'], FaultKind[]> = {
  single: [
    'restart-redis',
    'failover',
    'client-pause',
    'proxy-cut',
    'proxy-drop',
    'proxy-delay',
    'proxy-half-open',
  ],
  cluster: [
    'restart-redis',
    'move-slot',
    'client-pause',
    'proxy-cut',
    'proxy-drop',
    'proxy-delay',
    'proxy-half-open',
  ],
};
/** Quiet time between two faults of a lane, ms (times the pace). */
const GAPS: Record<PlannedFault['lane'], [number, number]> = {
  process: [5_000, 12_000],
  redis: [3_000, 8_000],
};

/**
 * The whole schedule of a run, from its seed alone: which fault happens when, with
 * every parameter, and when the operator pauses what. The same seed gives the same
 * plan (the run prints it and keeps it in its log folder). Each lane draws its kinds
 * from a shuffled bag holding every kind once, so a short run still sees each kind.
 */
export function plan(options: PlanOptions): Plan {
  const root = new Random(options.seed);
  const faults = [
    ...lane(root.fork('process'), 'process', PROCESS_KINDS, options),
    ...lane(root.fork('redis'), 'redis', REDIS_KINDS[options.mode], options),
  ].sort((a, b) => a.at - b.at);
  faults.forEach((fault, i) => (fault.n = i + 1));
  return { seed: options.seed, faults, pauses: pauses(root.fork('operator'), options) };
}

function lane(
  random: Random,
  name: PlannedFault['lane'],
  kinds: FaultKind[],
  options: PlanOptions,
): PlannedFault[] {
  const planned: PlannedFault[] = [];
  const [minGap, maxGap] = GAPS[name];
  const gap = () => Math.round(random.int(minGap, maxGap) * options.pace);
  let bag: FaultKind[] = [];
  for (let at = gap(); at < options.durationMs;) {
    if (bag.length === 0) bag = random.shuffle(kinds);
    const fault = draw(random, name, bag.pop()!, at, options);
    planned.push(fault);
    // What the fault itself takes (a restart of a worker takes a few seconds more).
    at += (fault.ms ?? 0) + (name === 'process' ? 4_000 : 0) + gap();
  }
  return planned;
}

function draw(
  random: Random,
  lane: PlannedFault['lane'],
  kind: FaultKind,
  at: number,
  options: PlanOptions,
): PlannedFault {
  const fault: PlannedFault = { n: 0, lane, at, kind };
  const node = () => random.int(0, options.mode === 'cluster' ? 2 : 0);
  switch (kind) {
    case 'kill-worker':
    case 'term-worker':
      fault.worker = random.int(0, options.workers - 1);
      break;
    case 'restart-redis':
      fault.node = node();
      fault.signal = random.chance(0.6) ? 'SIGKILL' : 'SIGTERM';
      fault.ms = random.int(300, 3_000);
      break;
    case 'failover':
      break;
    case 'move-slot':
      fault.queue = random.pick(Object.keys(QUEUES) as QueueRole[]);
      fault.offset = random.int(1, 2);
      break;
    case 'client-pause':
      fault.node = node();
      fault.ms = random.int(300, 3_000);
      fault.pauseMode = random.chance(0.5) ? 'WRITE' : 'ALL';
      break;
    case 'proxy-cut':
      fault.node = node();
      break;
    case 'proxy-drop':
      fault.node = node();
      fault.ms = random.int(500, 4_000);
      break;
    case 'proxy-delay':
      fault.node = node();
      fault.ms = random.int(1_000, 6_000);
      fault.latencyMs = random.int(10, 400);
      break;
    case 'proxy-half-open':
      fault.node = node();
      fault.ms = random.int(1_000, 8_000);
      break;
  }
  return fault;
}

function pauses(random: Random, options: PlanOptions): PlannedPause[] {
  const planned: PlannedPause[] = [];
  const pipelines = Object.values(PIPELINES);
  for (let at = random.int(2_000, 6_000); at < options.durationMs;) {
    const worker = random.int(0, options.workers - 1);
    const pause: PlannedPause = {
      n: planned.length + 1,
      at,
      scope: random.chance(0.6) ? 'local' : 'global',
      worker,
      resumer: (worker + random.int(1, Math.max(1, options.workers - 1))) % options.workers,
      pipeline: random.pick(pipelines),
      ms: random.int(500, 4_000),
    };
    planned.push(pause);
    at += pause.ms + random.int(2_000, 8_000);
  }
  return planned;
}

/** One line per planned fault, for the printout. */
export function describeFault(fault: PlannedFault): string {
  const parts: string[] = [`#${fault.n}`, `+${(fault.at / 1000).toFixed(1)}s`, fault.kind];
  if (fault.worker !== undefined) parts.push(`worker-${fault.worker + 1}`);
  if (fault.node !== undefined) parts.push(`node ${fault.node}`);
  if (fault.signal) parts.push(fault.signal);
  if (fault.queue) parts.push(`queue ${fault.queue} +${fault.offset}`);
  if (fault.pauseMode) parts.push(fault.pauseMode);
  if (fault.latencyMs !== undefined) parts.push(`latency ${fault.latencyMs} ms`);
  if (fault.ms !== undefined) parts.push(`for ${fault.ms} ms`);
  return parts.join(' ');
}
