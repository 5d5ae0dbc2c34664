import { describe, expect, it } from 'vitest';
import { FlumeWorkerError } from '../../lib/engine/errors/index.js';
import { isHandlerMethod, WorkerRegistry } from '../../lib/engine/worker-registry.js';

class Mailer {
  sent: unknown[][] = [];
  perform(...args: unknown[]) {
    this.sent.push(args);
    return 'performed';
  }
  other(x: number) {
    return x * 2;
  }
}

function mailer(name = 'Mailer', queue = 'mail') {
  return { name, queue, method: 'perform', instance: new Mailer(), className: 'Mailer' };
}

describe('isHandlerMethod', () => {
  it('accepts own and inherited methods of the worker only', () => {
    const instance = new Mailer();
    expect(isHandlerMethod(instance, 'perform')).toBe(true);
    expect(isHandlerMethod(instance, 'other')).toBe(true);
    expect(isHandlerMethod(instance, 'sent')).toBe(false);
    expect(isHandlerMethod(instance, 'missing')).toBe(false);
    for (const name of ['constructor', 'toString', 'hasOwnProperty', 'valueOf', '__proto__']) {
      expect(isHandlerMethod(instance, name)).toBe(false);
    }
  });
});

describe('WorkerRegistry', () => {
  it('refuses two workers with one name, naming both classes', () => {
    const registry = new WorkerRegistry();
    registry.register(mailer('Mailer'));
    expect(() => registry.register({ ...mailer('Mailer'), className: 'OtherMailer' })).toThrow(
      new FlumeWorkerError(
        'Two workers are named "Mailer": classes Mailer and OtherMailer. ' +
          `Give one another name with @Worker('mail', { name: '...' }).`,
      ),
    );
  });

  it('refuses a worker without its default method', () => {
    const registry = new WorkerRegistry();
    expect(() => registry.register({ ...mailer(), method: 'send' })).toThrow(
      /^Worker class "Mailer" has no method "send"\. Add it, or name another method/,
    );
  });

  it('resolves a job to its handler, bound to the instance', () => {
    const registry = new WorkerRegistry();
    const definition = mailer();
    registry.register(definition);
    const resolved = registry.resolve('mail', 'Mailer', undefined);
    expect(resolved.ok).toBe(true);
    if (!resolved.ok) return;
    expect(resolved.worker).toBe(definition);
    expect(resolved.handler(['a', 1])).toBe('performed');
    expect(definition.instance.sent).toEqual([['a', 1]]);
    const other = registry.resolve('mail', 'Mailer', 'other');
    expect(other.ok && other.handler([21])).toBe(42);
  });

  it('says why a job has no handler', () => {
    const registry = new WorkerRegistry();
    registry.register(mailer());
    registry.register(mailer('Sms', 'sms'));
    expect(registry.resolve('mail', 'Nope', undefined)).toEqual({
      ok: false,
      reason: 'no worker named "Nope" is registered for queue "mail" (registered there: Mailer)',
    });
    expect(registry.resolve('mail', 'Sms', undefined)).toEqual({
      ok: false,
      reason: 'no worker named "Sms" is registered for queue "mail" (registered there: Mailer)',
    });
    expect(registry.resolve('empty', 'Mailer', undefined)).toEqual({
      ok: false,
      reason: 'no worker named "Mailer" is registered for queue "empty" (registered there: none)',
    });
    expect(registry.resolve('mail', 'Mailer', 'constructor')).toEqual({
      ok: false,
      reason: 'worker "Mailer" has no method "constructor"',
    });
    expect(registry.resolve('mail', 'Mailer', 'missing')).toEqual({
      ok: false,
      reason: 'worker "Mailer" has no method "missing"',
    });
  });
});
