import type { LibName } from '../config.js';
import { median } from '../stats.js';

export interface Failure {
  lib: LibName;
  row: string;
  round: number;
  message: string;
}

/** Every figure of every round, per library; medians on demand. */
export class Results {
  readonly values: Record<LibName, Record<string, number[]>> = { flume: {}, bullmq: {} };
  readonly details: Record<LibName, Record<string, unknown[]>> = { flume: {}, bullmq: {} };
  readonly failures: Failure[] = [];
  readonly skipped: { row: string; reason: string }[] = [];

  add(lib: LibName, metric: string, value: number): void {
    (this.values[lib][metric] ??= []).push(value);
  }

  detail(lib: LibName, key: string, value: unknown): void {
    (this.details[lib][key] ??= []).push(value);
  }

  median(lib: LibName, metric: string): number {
    return median(this.values[lib][metric] ?? []);
  }

  medians(lib: LibName): Record<string, number> {
    return Object.fromEntries(
      Object.keys(this.values[lib]).map((metric) => [metric, this.median(lib, metric)]),
    );
  }
}
