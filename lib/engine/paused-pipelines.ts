import type { FlumeLogger } from './logger.js';
import type { FlumeStore } from './store.js';
import { delay } from './wait.js';

/**
 * Pauses that hold for every instance (`temporary: false`): a set of pipeline names in
 * the store, read at start and then every `pollMs`, so all instances follow within
 * about that long, and a restart finds the pipeline still paused.
 */
export class PausedPipelines {
  private paused = new Set<string>();
  private readonly listeners = new Set<() => void>();
  private readonly stopping = new AbortController();
  private loadedOnce!: () => void;
  /** Resolves after the first successful read: no pipeline takes a job before it. */
  readonly loaded = new Promise<void>((resolve) => (this.loadedOnce = resolve));

  constructor(
    private readonly store: FlumeStore,
    private readonly key: string,
    private readonly pollMs: number,
    private readonly logger: FlumeLogger,
  ) {}

  has(name: string): boolean {
    return this.paused.has(name);
  }

  /** Calls `listener` whenever the set changes. */
  onChange(listener: () => void): void {
    this.listeners.add(listener);
  }

  start(): void {
    void this.poll();
  }

  stop(): void {
    this.stopping.abort();
    this.loadedOnce();
  }

  /** Pauses (or resumes) `names` for every instance. */
  async set(names: readonly string[], paused: boolean): Promise<void> {
    if (names.length === 0) return;
    await this.store.setPaused(this.key, names, paused);
    const next = new Set(this.paused);
    for (const name of names) {
      if (paused) next.add(name);
      else next.delete(name);
    }
    this.replace(next);
  }

  private async poll(): Promise<void> {
    let failing = false;
    while (!this.stopping.signal.aborted) {
      // At boot the connection is still connecting (and has no offline queue): a read
      // now would fail, and every pipeline would wait a whole poll before its first job.
      await this.store.ready(this.stopping.signal);
      if (this.stopping.signal.aborted) break;
      try {
        this.replace(new Set(await this.store.pausedPipelines(this.key)));
        this.loadedOnce();
        failing = false;
      } catch (err) {
        if (!failing)
          this.logger.warn(`Could not read paused pipelines: ${(err as Error).message}`);
        failing = true;
      }
      await delay(this.pollMs, this.stopping.signal);
    }
  }

  private replace(next: Set<string>): void {
    const changed = next.size !== this.paused.size || [...next].some((n) => !this.paused.has(n));
    this.paused = next;
    if (changed) for (const listener of this.listeners) listener();
  }
}
