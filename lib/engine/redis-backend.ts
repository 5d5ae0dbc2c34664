import type { StoreBackend } from './backend.js';
import { RedisConnections } from './connection.js';
import type { FlumeConnection } from './connection-options.js';
import type { FlumeLogger } from './logger.js';
import { RedisStore } from './redis-store.js';
import { checkServer } from './server-check.js';

/** The engine on Redis: a RedisStore per connection of RedisConnections. */
export class RedisBackend implements StoreBackend {
  readonly command: RedisStore;
  private readonly connections: RedisConnections;
  private workerStore?: RedisStore;

  constructor(
    connection: FlumeConnection,
    name: string,
    commandTimeout: number,
    private readonly logger: FlumeLogger,
  ) {
    this.connections = new RedisConnections(connection, name, commandTimeout, logger);
    this.command = new RedisStore(this.connections.command);
  }

  get worker(): RedisStore {
    this.workerStore ??= new RedisStore(this.connections.worker);
    return this.workerStore;
  }

  blocking(pipeline: string): RedisStore {
    return new RedisStore(this.connections.createBlocking(`pipeline:${pipeline}`));
  }

  send<T>(what: string, command: () => Promise<T>, advice?: string): Promise<T> {
    return this.connections.send(what, command, advice);
  }

  /** Once per boot, when Redis first answers: warn about settings that lose jobs. */
  start(): void {
    const redis = this.connections.command;
    if (redis.status === 'ready') void checkServer(this.command, this.logger);
    else redis.once('ready', () => void checkServer(this.command, this.logger));
  }

  close(): Promise<void> {
    return this.connections.close();
  }
}
