import type { StoreBackend } from './backend.js';
import type { FlumeLogger } from './logger.js';
import { isMemoryConnection } from './memory/memory-connection.js';
import { MemoryBackend, processMemoryDb } from './memory/memory-backend.js';
import { MemoryDb } from './memory/memory-db.js';
import type { ResolvedOptions } from './options.js';
import { RedisBackend } from './redis-backend.js';

/**
 * The backend the options ask for, and the only place that chooses one:
 * - `testing: 'memory'`: a memory store of this app's own, empty at boot, so tests
 *   do not see each other's jobs;
 * - `connection: { memory: true }`: the memory store of the process, shared by its
 *   apps (namespaces apart) and outliving them, as a Redis server would;
 * - otherwise Redis. No ioredis connection is made for the other two.
 */
export function createBackend(options: ResolvedOptions, logger: FlumeLogger): StoreBackend {
  if (options.testing === 'memory') return new MemoryBackend(new MemoryDb(), logger, false);
  const connection = options.connection;
  if (isMemoryConnection(connection)) return new MemoryBackend(processMemoryDb(), logger, true);
  return new RedisBackend(connection, `flume:${options.namespace}`, options.commandTimeout, logger);
}
