import type { FlumeStore } from './store.js';

/**
 * What the engine runs on: the stores it speaks to, and their connections' life. The
 * engine asks it for a store per role and never learns which backend it has; only
 * `createBackend` (backends.ts) knows them.
 */
export interface StoreBackend {
  /** The store of enqueues, queries, pauses; with a command timeout on Redis. */
  readonly command: FlumeStore;
  /**
   * The store of the pipelines' own commands (take, acks, settles, leases): on Redis a
   * connection without a command timeout (a slow take has run, and timing it out would
   * strand the jobs it leased), made on first use.
   */
  readonly worker: FlumeStore;
  /** A store for one pipeline's `waitForJobs`: on Redis, a connection of its own to block on. */
  blocking(pipeline: string): FlumeStore;
  /**
   * Runs `command` once the command store answers. Any failure becomes a
   * FlumeConnectionError saying what could not be done (`what`), then `advice`.
   */
  send<T>(what: string, command: () => Promise<T>, advice?: string): Promise<T>;
  /** Once, when the engine starts: the checks and warnings of this backend. */
  start(): void;
  /**
   * Resolves at the next write anyone makes to the store; undefined where writes of
   * other processes cannot be seen (Redis), so that idleness cannot be known.
   */
  readonly changed?: () => Promise<void>;
  /** Closes every connection; safe to call more than once. */
  close(): Promise<void>;
}
