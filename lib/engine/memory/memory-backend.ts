import type { StoreBackend } from '../backend.js';
import { FlumeConnectionError } from '../errors/index.js';
import type { FlumeLogger } from '../logger.js';
import { MemoryDb } from './memory-db.js';
import { MemoryStore } from './memory-store.js';
import { memoryStoreWarning } from './memory-messages.js';

/** The keyspace of `connection: { memory: true }`: one per process, as one Redis server. */
let processDb: MemoryDb | undefined;

/**
 * The memory keyspace every app of this process with `connection: { memory: true }`
 * shares (apart by namespace, as on one Redis). Its data outlives an app: an app
 * booted again in the same process finds its jobs, stored pauses and dead sets.
 */
export function processMemoryDb(): MemoryDb {
  processDb ??= new MemoryDb();
  return processDb;
}

/**
 * The engine in memory: one MemoryStore for every role (there is no connection to
 * share, block or time out), woken by pushes instead of a blocking wait.
 */
export class MemoryBackend implements StoreBackend {
  readonly command: MemoryStore;

  constructor(
    db: MemoryDb,
    private readonly logger: FlumeLogger,
    /** Whether to say at start that jobs live in this process only (not in test mode). */
    private readonly announce: boolean,
  ) {
    this.command = new MemoryStore(db);
  }

  get worker(): MemoryStore {
    return this.command;
  }

  blocking(): MemoryStore {
    return this.command;
  }

  /** Nothing can fail on the way; after close() the app has shut down, as on Redis. */
  async send<T>(what: string, command: () => Promise<T>): Promise<T> {
    if (this.command.isClosed) {
      throw new FlumeConnectionError(
        `Flume's memory store ${what}: the Flume module has shut down.`,
      );
    }
    return command();
  }

  start(): void {
    if (this.announce) this.logger.warn(memoryStoreWarning());
  }

  readonly changed = (): Promise<void> => this.command.db.changed();

  async close(): Promise<void> {
    this.command.close();
  }
}
