import { escapeControl, escapeStack } from './log-text.js';

/**
 * What the engine needs of a logger. Nest's `Logger` and any `LoggerService` fit;
 * `false` in the options silences the engine.
 */
export interface FlumeLogger {
  log(message: string): unknown;
  warn(message: string): unknown;
  error(message: string, stack?: string): unknown;
  debug?(message: string): unknown;
}

export const SILENT_LOGGER: FlumeLogger = {
  log: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  debug: () => undefined,
};

/**
 * `logger` with every message escaped (see log-text.ts): the engine logs text read
 * from Redis, and this is the one place that makes it safe to print.
 */
export function escapingLogger(logger: FlumeLogger): FlumeLogger {
  const debug = logger.debug;
  return {
    log: (message) => logger.log(escapeControl(message)),
    warn: (message) => logger.warn(escapeControl(message)),
    error: (message, stack) =>
      stack === undefined
        ? logger.error(escapeControl(message))
        : logger.error(escapeControl(message), escapeStack(stack)),
    debug: debug && ((message) => debug.call(logger, escapeControl(message))),
  };
}
