/**
 * The heartbeat document each process keeps in Redis (see heartbeat.ts), and how it is
 * read back: defensively, since another version of the package (or anyone with write
 * access to Redis) may have written it.
 */

/** A pipeline as one process runs it. */
export interface FlumeProcessPipeline {
  name: string;
  queue: string;
  /** Most jobs it runs at once in that process. */
  maxDemand: number;
  /** Jobs it holds there now (running, or waiting for their batch). */
  running: number;
  /** True while it takes no new jobs there (paused in that process or for every instance). */
  paused: boolean;
}

/** A process of the app that is alive: its heartbeat has not expired. */
export interface FlumeProcess {
  /** Unique per process start: `<host>:<pid>:<random>`. */
  id: string;
  host: string;
  pid: number;
  /** Version of nestjs-flume it runs. */
  version: string;
  /** Version of Node.js it runs. */
  node: string;
  startedAt: Date;
  /** Its last heartbeat (it writes one every 5 s; without one for 15 s, it is gone). */
  heartbeatAt: Date;
  /** The pipelines it runs (none for a process that only enqueues). */
  pipelines: FlumeProcessPipeline[];
  /** Names of the workers it has, by queue. */
  workers: Record<string, string[]>;
}

/** A heartbeat as read: the process, and the leases its pipelines hold (queue -> lease id -> taken at, ms). */
export interface Heartbeat {
  process: FlumeProcess;
  leases: Map<string, Map<string, number>>;
}

/** What a process writes. `leases` pairs a lease id with when it was taken (ms). */
export interface HeartbeatDocument {
  id: string;
  host: string;
  pid: number;
  version: string;
  node: string;
  startedAt: number;
  at: number;
  pipelines: (FlumeProcessPipeline & { leases: [string, number][] })[];
  workers: Record<string, string[]>;
}

const text = (value: unknown): string => (typeof value === 'string' ? value : '');
const count = (value: unknown): number =>
  typeof value === 'number' && Number.isFinite(value) ? value : 0;

function pipelineOf(raw: unknown): (FlumeProcessPipeline & { leases: unknown }) | undefined {
  if (raw === null || typeof raw !== 'object') return undefined;
  const p = raw as Record<string, unknown>;
  if (typeof p.name !== 'string' || typeof p.queue !== 'string') return undefined;
  return {
    name: p.name,
    queue: p.queue,
    maxDemand: count(p.maxDemand),
    running: count(p.running),
    paused: p.paused === true,
    leases: p.leases,
  };
}

function workersOf(raw: unknown): Record<string, string[]> {
  const workers: Record<string, string[]> = {};
  if (raw === null || typeof raw !== 'object') return workers;
  for (const [queue, names] of Object.entries(raw)) {
    if (Array.isArray(names)) {
      Object.defineProperty(workers, queue, {
        value: names.filter((name) => typeof name === 'string'),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  return workers;
}

/** Reads a heartbeat document; undefined when it is not one. */
export function parseHeartbeat(document: string): Heartbeat | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(document);
  } catch {
    return undefined;
  }
  if (raw === null || typeof raw !== 'object') return undefined;
  const d = raw as Record<string, unknown>;
  if (typeof d.id !== 'string' || !Array.isArray(d.pipelines)) return undefined;
  const pipelines = d.pipelines.map(pipelineOf).filter((p) => p !== undefined);
  const leases = new Map<string, Map<string, number>>();
  for (const { queue, leases: held } of pipelines) {
    if (!Array.isArray(held)) continue;
    const ofQueue = leases.get(queue) ?? new Map<string, number>();
    for (const pair of held) {
      if (Array.isArray(pair) && typeof pair[0] === 'string') ofQueue.set(pair[0], count(pair[1]));
    }
    leases.set(queue, ofQueue);
  }
  return {
    process: {
      id: d.id,
      host: text(d.host),
      pid: count(d.pid),
      version: text(d.version),
      node: text(d.node),
      startedAt: new Date(count(d.startedAt)),
      heartbeatAt: new Date(count(d.at)),
      pipelines: pipelines.map(({ leases: _, ...pipeline }) => pipeline),
      workers: workersOf(d.workers),
    },
    leases,
  };
}
