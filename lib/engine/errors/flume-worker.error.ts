import { FlumeError } from './flume.error.js';

/**
 * A worker is missing or ill-defined: a class without `@Worker`, two workers with
 * one name, a handler method that does not exist, a job sent to a queue its
 * worker does not consume.
 */
export class FlumeWorkerError extends FlumeError {}
