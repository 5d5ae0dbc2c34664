// Messages about workers and handlers, in one place: the job runner, the test mode and
// FlumeClient say the same thing, and each says how to fix it.

/** Why a job names a worker this process does not run on its queue. */
export function unknownWorker(name: string, queue: string, registered: readonly string[]): string {
  return (
    `no worker named "${name}" is registered for queue "${queue}" ` +
    `(registered there: ${registered.length ? registered.join(', ') : 'none'}); ` +
    'a @Worker class is registered only when a module lists it in its providers'
  );
}

/** Why a job names a method its worker does not let jobs call. */
export function notAHandler(worker: string, method: string, handlers: Iterable<string>): string {
  return (
    `worker "${worker}" has no handler "${method}" (its handlers: ${[...handlers].join(', ')}); ` +
    "a job can call only the worker's default method (@Worker({ method }), 'perform' by default) " +
    'and its methods marked @Handler()'
  );
}

/** A reason as a sentence of an error message. */
export function asSentence(reason: string): string {
  return `${reason.charAt(0).toUpperCase()}${reason.slice(1)}.`;
}
