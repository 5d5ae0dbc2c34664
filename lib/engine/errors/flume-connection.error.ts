import { FlumeError } from './flume.error.js';

/**
 * Redis could not be reached (or did not answer) within the command timeout. For an
 * enqueue this means the job may not have been stored: the caller decides whether
 * to try again.
 */
export class FlumeConnectionError extends FlumeError {}
