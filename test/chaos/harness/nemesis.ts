import type { History, FaultRecord } from './history.js';
import type { PlannedFault, PlannedPause } from './schedule.js';
import type { Supervisor } from './supervisor.js';
import type { ChaosTopology } from './topology.js';

/** Resolves after `ms`, or at once when `signal` aborts; true when the time passed. */
export function pauseFor(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      },
      Math.max(0, ms),
    );
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Carries out the planned faults, each at its time (or as soon as the fault before it
 * in its lane is over), in two lanes that overlap: processes (kill -9, SIGTERM, each
 * followed by a replacement) and Redis (restarts, failovers, slot moves, pauses, and the
 * network through the proxies). `stop()` lets the fault in progress end early and heals.
 */
export class Nemesis {
  private readonly stopping = new AbortController();
  private lanes: Promise<void>[] = [];

  constructor(
    private readonly faults: PlannedFault[],
    private readonly topology: ChaosTopology,
    private readonly supervisor: Supervisor,
    private readonly history: History,
  ) {}

  start(t0: number): void {
    this.lanes = (['process', 'redis'] as const).map((lane) =>
      this.runLane(
        this.faults.filter((f) => f.lane === lane),
        t0,
      ),
    );
  }

  /** Ends the faults: the one in progress stops early; Redis and the network are healed. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await Promise.all(this.lanes);
    await this.topology.heal();
  }

  private async runLane(faults: PlannedFault[], t0: number): Promise<void> {
    for (const fault of faults) {
      if (!(await pauseFor(t0 + fault.at - Date.now(), this.stopping.signal))) return;
      await this.execute(fault);
    }
  }

  private async execute(fault: PlannedFault): Promise<void> {
    const record: FaultRecord = { n: fault.n, kind: fault.kind, at: Date.now() };
    const { topology, supervisor } = this;
    const signal = this.stopping.signal;
    try {
      if (fault.kind === 'kill-worker' || fault.kind === 'term-worker') {
        const label = `worker-${fault.worker! + 1}`;
        const app = supervisor.app(label);
        if (!app) throw new Error(`${label} is not running`);
        record.label = label;
        record.pid = app.pid;
        this.history.faultStarted(record);
        const how = fault.kind === 'kill-worker' ? 'SIGKILL' : 'SIGTERM';
        return this.history.faultEnded(
          record,
          await supervisor.cycle(label, how, `fault #${fault.n}`),
        );
      }
      record.scope =
        fault.kind === 'failover' || (fault.kind === 'restart-redis' && topology.mode === 'cluster')
          ? 'all'
          : fault.kind === 'move-slot'
            ? [fault.queue!]
            : await topology.scope(fault.node!);
      this.history.faultStarted(record);
      let detail: string;
      switch (fault.kind) {
        case 'restart-redis':
          detail = await topology.restart(fault.node!, fault.signal!, fault.ms!);
          break;
        case 'failover':
          detail = await topology.failover();
          break;
        case 'move-slot':
          detail = await topology.moveSlot(fault.queue!, fault.offset!);
          break;
        case 'client-pause':
          detail = await topology.clientPause(fault.node!, fault.ms!, fault.pauseMode!);
          break;
        case 'proxy-cut':
          detail = `node ${fault.node}: ${topology.proxy(fault.node!).cut()} connection(s) reset`;
          break;
        case 'proxy-drop': {
          const proxy = topology.proxy(fault.node!);
          proxy.drop();
          await pauseFor(fault.ms!, signal);
          proxy.heal();
          detail = `node ${fault.node}: every byte lost for ${fault.ms} ms, then reset`;
          break;
        }
        case 'proxy-delay': {
          const proxy = topology.proxy(fault.node!);
          proxy.delay(fault.latencyMs!);
          await pauseFor(fault.ms!, signal);
          proxy.heal();
          detail = `node ${fault.node}: ${fault.latencyMs} ms latency for ${fault.ms} ms`;
          break;
        }
        case 'proxy-half-open': {
          const proxy = topology.proxy(fault.node!);
          const count = proxy.halfOpen();
          await pauseFor(fault.ms!, signal);
          proxy.heal();
          detail = `node ${fault.node}: ${count} connection(s) half-open for ${fault.ms} ms, then reset`;
          break;
        }
      }
      this.history.faultEnded(record, detail);
    } catch (err) {
      if (!this.history.faults.includes(record)) this.history.faultStarted(record);
      this.history.faultEnded(record, undefined, (err as Error).message.split('\n')[0]);
    }
  }
}

/**
 * Carries out the planned pauses, one after the other: a pipeline paused in one process
 * (temporary) or for every instance, then resumed (a pause for every instance by
 * another worker). While paused, the pausing process watches that the pipeline starts
 * no job (the batch pipeline excepted: a partial batch may start after the pause).
 */
export class Operator {
  private readonly stopping = new AbortController();
  private done: Promise<void> = Promise.resolve();

  constructor(
    private readonly pauses: PlannedPause[],
    private readonly supervisor: Supervisor,
    private readonly history: History,
  ) {}

  start(t0: number): void {
    this.done = this.run(t0);
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.done;
  }

  private async run(t0: number): Promise<void> {
    for (const pause of this.pauses) {
      if (!(await pauseFor(t0 + pause.at - Date.now(), this.stopping.signal))) return;
      await this.pauseAndResume(pause);
    }
  }

  private async pauseAndResume(pause: PlannedPause): Promise<void> {
    const label = `worker-${pause.worker + 1}`;
    const app = this.supervisor.app(label);
    if (!app) return;
    const temporary = pause.scope === 'local';
    const record = {
      n: pause.n,
      scope: pause.scope,
      pipeline: pause.pipeline,
      label: `${label} (pid ${app.pid})`,
      at: Date.now(),
    } as Parameters<History['pause']>[0];
    this.history.pause(record);
    const watch = pause.pipeline !== 'batch';
    try {
      await app.request({ type: 'pause', pipeline: pause.pipeline, temporary, watch }, 20_000);
    } catch (err) {
      record.error = (err as Error).message;
    }
    await pauseFor(pause.ms, this.stopping.signal);
    if (temporary) {
      await app
        .request({ type: 'resume', pipeline: pause.pipeline, temporary }, 20_000)
        .catch((err: Error) => (record.error = `${record.error ?? ''} resume: ${err.message}`));
      record.resumedBy = record.label;
    } else {
      // The pausing process stops watching before another instance lifts the pause.
      await app
        .request({ type: 'unwatch', pipeline: pause.pipeline }, 20_000)
        .catch(() => undefined);
      const resumer = this.supervisor.app(`worker-${pause.resumer + 1}`) ?? app;
      for (let attempt = 1; attempt <= 5; attempt++) {
        try {
          await resumer.request({ type: 'resume', pipeline: pause.pipeline, temporary }, 20_000);
          record.resumedBy = `${resumer.label} (pid ${resumer.pid})`;
          break;
        } catch (err) {
          // Redis may be away: the end of the run resumes every pipeline anyway.
          record.error = `resume: ${(err as Error).message}`;
          if (!(await pauseFor(1_000, this.stopping.signal))) break;
        }
      }
    }
    this.history.pauseEnded(record);
  }
}
