import { FlumeError } from './flume.error.js';

/**
 * Job arguments (or context) cannot be stored as JSON without changing on the way
 * back: a function, a BigInt, a cycle, `undefined`, NaN, a Date, a Map... Nothing
 * was written to Redis.
 */
export class FlumePayloadError extends FlumeError {}
