import type { StoreBackend } from './backend.js';
import type { FlumeLogger } from './logger.js';
import type { ResolvedOptions } from './options.js';
import { RedisBackend } from './redis-backend.js';

/** The backend the options ask for, and the only place that chooses one. */
export function createBackend(options: ResolvedOptions, logger: FlumeLogger): StoreBackend {
  return new RedisBackend(
    options.connection,
    `flume:${options.namespace}`,
    options.commandTimeout,
    logger,
  );
}
