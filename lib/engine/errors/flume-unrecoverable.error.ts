import { FlumeError } from './flume.error.js';

/**
 * Throw it from a handler when trying again cannot help (a deleted account, a request
 * the other side refused for good): the job goes straight to the dead set with this
 * error's message as its reason, whatever retries it has left.
 *
 * ```ts
 * if (!user) throw new FlumeUnrecoverableError(`user ${id} no longer exists`);
 * ```
 */
export class FlumeUnrecoverableError extends FlumeError {}
