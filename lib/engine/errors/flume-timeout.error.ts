import { FlumeError } from './flume.error.js';

/**
 * A job ran longer than its worker's `timeout` (it then fails and is retried like
 * any failure), or a synchronous pause did not complete within its `timeout`.
 */
export class FlumeTimeoutError extends FlumeError {}
