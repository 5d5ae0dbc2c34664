export interface BackoffBounds {
  /** Delay before the first retry, ms. */
  initial: number;
  /** Longest delay, ms. */
  max: number;
}

/**
 * Delay before retry number `retryCount + 1`: doubles with each failure, plus up to
 * 50% random jitter so that jobs that failed together do not retry together, and
 * always within [initial, max].
 */
export function backoffDelay(
  retryCount: number,
  bounds: BackoffBounds,
  random: () => number = Math.random,
): number {
  const exponential = bounds.initial * 2 ** Math.min(retryCount, 52);
  const jittered = exponential * (1 + random() / 2);
  return Math.round(Math.min(bounds.max, Math.max(bounds.initial, jittered)));
}
