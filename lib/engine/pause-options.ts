import { FlumeConfigError } from './errors/index.js';
import { describe } from './payload.js';

/** Options of pause / resume, as in Flume. */
export interface PauseOptions {
  /**
   * `true` (default): this process only, until it restarts or resumes. `false`: also
   * stored in Redis, so every instance follows within about a second and a restart
   * stays paused.
   */
  temporary?: boolean;
  /** `false` (default): resolve once the pipeline has stopped taking jobs. `true`: resolve at once. */
  async?: boolean;
  /** Longest wait of the synchronous form, ms, or Infinity. Default 5_000. */
  timeout?: number;
}

export interface ResolvedPauseOptions {
  temporary: boolean;
  async: boolean;
  timeout: number;
}

const KNOWN = ['temporary', 'async', 'timeout'];

/** Validates pause/resume options with Flume's messages. Throws FlumeConfigError. */
export function resolvePauseOptions(raw: PauseOptions | undefined): ResolvedPauseOptions {
  if (raw === undefined) return { temporary: true, async: false, timeout: 5_000 };
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new FlumeConfigError(`expected options to be an object, got: ${describe(raw)}`);
  }
  const unknown = Object.keys(raw).find((key) => !KNOWN.includes(key));
  if (unknown) {
    throw new FlumeConfigError(`unknown option "${unknown}"; known options: ${KNOWN.join(', ')}`);
  }
  const { temporary = true, async = false, timeout = 5_000 } = raw;
  if (typeof temporary !== 'boolean') {
    throw new FlumeConfigError(`expected temporary to be a boolean, got: ${describe(temporary)}`);
  }
  if (typeof async !== 'boolean') {
    throw new FlumeConfigError(`expected async to be a boolean, got: ${describe(async)}`);
  }
  if (!(timeout === Infinity || (Number.isSafeInteger(timeout) && timeout >= 0))) {
    throw new FlumeConfigError(
      `expected timeout to be a non-negative integer or Infinity, got: ${describe(timeout)}`,
    );
  }
  return { temporary, async, timeout };
}
