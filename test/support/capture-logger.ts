import type { FlumeLogger } from '../../lib/index.js';

export interface LogEntry {
  level: 'log' | 'warn' | 'error' | 'debug';
  message: string;
  at: number;
}

/** A logger that keeps what the engine says, for asserts, and prints nothing. */
export class CaptureLogger implements FlumeLogger {
  readonly entries: LogEntry[] = [];

  log(message: string): void {
    this.push('log', message);
  }

  warn(message: string): void {
    this.push('warn', message);
  }

  error(message: string): void {
    this.push('error', message);
  }

  debug(message: string): void {
    this.push('debug', message);
  }

  /** Messages of `level` (all levels when omitted) that match `pattern`. */
  find(pattern: RegExp, level?: LogEntry['level']): LogEntry[] {
    return this.entries.filter(
      (entry) => (!level || entry.level === level) && pattern.test(entry.message),
    );
  }

  private push(level: LogEntry['level'], message: string): void {
    this.entries.push({ level, message, at: Date.now() });
  }
}
