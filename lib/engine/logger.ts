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
