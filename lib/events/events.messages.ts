// Messages of @OnFlumeEvent, in one place: each says how to fix what it reports.
import { describe, FLUME_CHANNELS } from '../engine/index.js';

export function notAnEventType(type: unknown): string {
  const known = Object.keys(FLUME_CHANNELS)
    .map((t) => `'${t}'`)
    .join(', ');
  return `@OnFlumeEvent(${describe(type)}): no such event type. Listen to one of ${known}.`;
}

export function notAListenerMethod(target: object, key: string | symbol): string {
  const owner = typeof target === 'function' ? target.name : target.constructor.name;
  return (
    `@OnFlumeEvent on ${owner}.${String(key)}: only an instance method can listen ` +
    '(not a static method, getter or field): Nest calls it on the provider instance.'
  );
}

export function listenerFailed(where: string, type: string, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return (
    `@OnFlumeEvent listener ${where} failed on "${type}": ${message}. ` +
    'The job is not affected; catch errors in the listener to handle them.'
  );
}

export function listenerNotStatic(className: string): string {
  return (
    `${className} has @OnFlumeEvent listeners but is request-scoped or transient (or depends on ` +
    'such a provider), so it is skipped: events have no request. Make it a singleton.'
  );
}

export function listenersWithoutEvents(where: readonly string[], optionOff: boolean): string {
  const listeners = where.join(', ');
  if (optionOff) {
    return (
      `@OnFlumeEvent listeners (${listeners}) get no job events: the module's "instrument" option ` +
      'is false. Leave it out (a listener turns instrumentation on), or set it to true.'
    );
  }
  return (
    `@OnFlumeEvent listeners (${listeners}) get no job events: their provider is built by a factory, ` +
    'whose class is not known before the pipelines are. Set instrument: true in the FlumeModule options, ' +
    'or provide the class itself.'
  );
}
