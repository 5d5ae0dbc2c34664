import { FlumeConfigError, type PeriodicDeclaration } from '../engine/index.js';
import { FLUME_PERIODIC_METADATA } from '../flume.constants.js';

/** Options of `@Periodic`: the job each tick enqueues, and how the pattern is read. */
export type PeriodicOptions = Omit<PeriodicDeclaration, 'cron' | 'worker'>;

/** What @Periodic stores on the class: one entry per decorator. */
export type PeriodicMetadata = Omit<PeriodicDeclaration, 'worker'>;

/**
 * Enqueues a job for this worker on every tick of `cron`, once across all instances
 * (those that run the worker's queue). Stack it for several schedules.
 *
 * ```ts
 * @Periodic('0 9 * * MON', { tz: 'Europe/Berlin', args: ['weekly'] })
 * @Worker('reports')
 * export class ReportWorker {
 *   async perform(kind: string) { ... }
 * }
 * ```
 */
export function Periodic(cron: string, options: PeriodicOptions = {}): ClassDecorator {
  if (options === null || typeof options !== 'object') {
    throw new FlumeConfigError(`@Periodic('${cron}', options): options must be an object.`);
  }
  return (target) => {
    const list: PeriodicMetadata[] = Reflect.getOwnMetadata(FLUME_PERIODIC_METADATA, target) ?? [];
    Reflect.defineMetadata(FLUME_PERIODIC_METADATA, [...list, { ...options, cron }], target);
  };
}
