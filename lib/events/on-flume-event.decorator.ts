import { FlumeConfigError, FLUME_CHANNELS, type FlumeEventType } from '../engine/index.js';
import { FLUME_EVENT_LISTENER_METADATA } from './events.constants.js';
import { notAnEventType, notAListenerMethod } from './events.messages.js';

/**
 * Calls this method with every engine event of `type` (see FlumeEvent), on any
 * provider of the app, as `@OnEvent` of `@nestjs/event-emitter` does:
 *
 * ```ts
 * @Injectable()
 * export class DeadJobAlerts {
 *   @OnFlumeEvent('job:dead')
 *   onDead(event: FlumeEventOf<'job:dead'>) {
 *     this.pager.notify(`${event.worker} ${event.jobId}: ${event.reason}`);
 *   }
 * }
 * ```
 *
 * A listener turns instrumentation on for every pipeline (unless `instrument: false`
 * is set), so there is no flag to remember. The engine calls listeners as it runs
 * jobs: keep them fast, and do slow work without awaiting it there (a returned
 * promise is not awaited; a rejection or a throw is logged, never fails a job).
 * Stack the decorator to listen to several types.
 */
export function OnFlumeEvent(type: FlumeEventType): MethodDecorator {
  if (typeof type !== 'string' || !Object.hasOwn(FLUME_CHANNELS, type)) {
    throw new FlumeConfigError(notAnEventType(type));
  }
  return (target, key, descriptor) => {
    if (typeof target === 'function' || typeof descriptor?.value !== 'function') {
      throw new FlumeConfigError(notAListenerMethod(target, key));
    }
    const method = descriptor.value as Function;
    const types: FlumeEventType[] =
      Reflect.getMetadata(FLUME_EVENT_LISTENER_METADATA, method) ?? [];
    Reflect.defineMetadata(FLUME_EVENT_LISTENER_METADATA, [...types, type], method);
  };
}
