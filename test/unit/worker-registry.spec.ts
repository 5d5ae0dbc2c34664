import { describe, expect, it } from 'vitest';
import { FlumeWorkerError } from '../../lib/engine/errors/index.js';
import { isHandlerMethod, WorkerRegistry } from '../../lib/engine/worker-registry.js';

class Base {
  inherited() {
    return 'base';
  }
}

class Mailer extends Base {
  sent: unknown[][] = [];
  arrow = () => 'arrow';
  perform(...args: unknown[]) {
    this.sent.push(args);
    return 'performed';
  }
  other(x: number) {
    return x * 2;
  }
  _save() {
    return 'saved';
  }
  get getter() {
    return () => 'got';
  }
}

function mailer(name = 'Mailer', queue = 'mail') {
  return {
    name,
    queue,
    method: 'perform',
    handlers: new Set(['perform', 'other']),
    instance: new Mailer(),
    className: 'Mailer',
  };
}

const HANDLER_RULE =
  "a job can call only the worker's default method (@Worker({ method }), 'perform' by default) " +
  'and its methods marked @Handler()';

describe('isHandlerMethod', () => {
  it('accepts callable members of the worker only, never those of every object', () => {
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
    expect(() =>
      registry.register({ ...mailer(), method: 'send', handlers: new Set(['send']) }),
    ).toThrow(/^Worker class "Mailer" has no method "send"\. Add it, or name another method/);
  });

  it('refuses handlers that leave out the default method, or that are not methods', () => {
    const registry = new WorkerRegistry();
    expect(() => registry.register({ ...mailer(), handlers: new Set(['other']) })).toThrow(
      FlumeWorkerError,
    );
    expect(() =>
      registry.register({ ...mailer(), handlers: new Set(['perform', 'sent']) }),
    ).toThrow('Worker class "Mailer" has no method "sent" to run as a handler.');
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

  it('says why no worker runs a job, and that another process may: retryable', () => {
    const registry = new WorkerRegistry();
    registry.register(mailer());
    registry.register(mailer('Sms', 'sms'));
    const unknown = (name: string, queue: string, there: string) => ({
      ok: false,
      retryable: true,
      reason:
        `no worker named "${name}" is registered for queue "${queue}" (registered there: ${there}); ` +
        'a @Worker class is registered only when a module lists it in its providers',
    });
    expect(registry.resolve('mail', 'Nope', undefined)).toEqual(unknown('Nope', 'mail', 'Mailer'));
    expect(registry.resolve('mail', 'Sms', undefined)).toEqual(unknown('Sms', 'mail', 'Mailer'));
    expect(registry.resolve('empty', 'Mailer', undefined)).toEqual(
      unknown('Mailer', 'empty', 'none'),
    );
  });

  it.each([
    ['a method not declared a handler', '_save'],
    ["a base class's method", 'inherited'],
    ['an arrow function in an instance field', 'arrow'],
    ['a getter', 'getter'],
    ['a data field', 'sent'],
    ['a missing method', 'missing'],
    ['constructor', 'constructor'],
    ['__proto__', '__proto__'],
    ['toString', 'toString'],
    ['hasOwnProperty', 'hasOwnProperty'],
  ])('refuses %s, naming the handlers: not retryable', (_, method) => {
    const registry = new WorkerRegistry();
    const definition = mailer();
    registry.register(definition);
    expect(registry.resolve('mail', 'Mailer', method)).toEqual({
      ok: false,
      retryable: false,
      reason: `worker "Mailer" has no handler "${method}" (its handlers: perform, other); ${HANDLER_RULE}`,
    });
    expect(definition.instance.sent).toEqual([]);
  });
});
