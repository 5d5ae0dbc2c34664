import type { LibName } from '../config.js';
import type { BenchLib } from './types.js';

/**
 * Each library is loaded on its own, so a worker process holds only the library it
 * runs (its memory and start-up are its own).
 */
export async function loadLib(name: LibName): Promise<BenchLib> {
  return name === 'flume'
    ? (await import('./flume.js')).flumeLib
    : (await import('./bullmq.js')).bullmqLib;
}

export type { BenchLib, BenchSession, SessionOptions } from './types.js';
