import { FlumeError } from './flume.error.js';

/** One failed item of a batch: its index in the array the handler got, and why. */
export interface BatchItemFailure {
  index: number;
  error: unknown;
}

/**
 * Thrown by a batch handler to say which items failed: only those are retried,
 * the rest are done. Any other error fails (and retries) the whole batch.
 *
 * ```ts
 * throw new FlumeBatchError([{ index: 3, error: new Error('mailbox full') }]);
 * ```
 */
export class FlumeBatchError extends FlumeError {
  constructor(readonly failures: readonly BatchItemFailure[]) {
    super(
      `${failures.length} item(s) of the batch failed (indexes ${failures.map((f) => f.index).join(', ')})`,
    );
  }
}
