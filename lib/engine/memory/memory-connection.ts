import { FlumeConfigError } from '../errors/index.js';
import { describe } from '../payload.js';

/**
 * `connection: { memory: true }`: jobs are kept in the memory of this process instead
 * of Redis. Every feature works, for this one process, and nothing survives its exit.
 */
export interface FlumeMemoryConnection {
  memory: true;
}

/**
 * Whether `value` asks for the memory store: an own `memory` field (resolveMemoryConnection
 * checks it). Own only: an ioredis client given as `connection` has a `memory` method
 * (Redis' MEMORY command) on its prototype, and is no request for the memory store.
 */
export function isMemoryConnection(value: unknown): value is FlumeMemoryConnection {
  return typeof value === 'object' && value !== null && Object.hasOwn(value, 'memory');
}

/** Validates `{ memory: true }`; a Redis field beside it is refused: the two exclude each other. */
export function resolveMemoryConnection(raw: FlumeMemoryConnection): FlumeMemoryConnection {
  if (raw.memory !== true) {
    throw new FlumeConfigError(
      `Invalid option "connection.memory": expected true (leave it out to use Redis), got: ${describe(raw.memory)}`,
    );
  }
  const other = Object.keys(raw).find((key) => key !== 'memory');
  if (other !== undefined) {
    throw new FlumeConfigError(
      `Invalid option "connection": { memory: true } keeps jobs in this process and takes no other option, got also "${other}". ` +
        'Give either { memory: true } or where Redis is.',
    );
  }
  return { memory: true };
}
