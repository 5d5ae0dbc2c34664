import { SetMetadata } from '@nestjs/common';
import { FlumeConfigError } from '../engine/index.js';
import { FLUME_HANDLER_METADATA } from '../flume.constants.js';

/**
 * Lets jobs call this method of a `@Worker` by name (`enqueue(queue, Worker, 'method', args)`,
 * or a job's `function` field). A job can call only the worker's default method
 * (`perform`, or `@Worker({ method })`) and the methods marked `@Handler()`: helpers,
 * lifecycle hooks and inherited methods are not reachable from Redis.
 *
 * ```ts
 * @Worker('reports')
 * export class ReportWorker {
 *   async perform(id: string) { ... }
 *   @Handler()
 *   async archive(id: string) { ... }
 *   private async save() { ... } // no job can call it
 * }
 * ```
 */
export function Handler(): MethodDecorator {
  return (target, key, descriptor) => {
    const where = `@Handler() on ${className(target)}.${String(key)}`;
    if (typeof target === 'function') {
      throw new FlumeConfigError(
        `${where}: a static method cannot be a handler: jobs run on the worker instance.`,
      );
    }
    if (typeof key !== 'string') {
      throw new FlumeConfigError(
        `${where}: a handler needs a string name, which jobs carry in JSON.`,
      );
    }
    if (typeof descriptor?.value !== 'function') {
      throw new FlumeConfigError(
        `${where}: only a method can be a handler, not a getter, setter or field.`,
      );
    }
    SetMetadata(FLUME_HANDLER_METADATA, true)(target, key, descriptor);
  };
}

function className(target: object): string {
  return typeof target === 'function' ? target.name : target.constructor.name;
}
