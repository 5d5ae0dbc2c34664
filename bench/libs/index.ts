import type { LibName } from '../config.js';
import { bullmqLib } from './bullmq.js';
import { flumeLib } from './flume.js';
import type { BenchLib } from './types.js';

export const LIBS: Record<LibName, BenchLib> = { flume: flumeLib, bullmq: bullmqLib };
export type { BenchLib, BenchSession, SessionOptions } from './types.js';
