import { randomUUID } from 'node:crypto';

/** This process, among every process on the same Redis. */
const PROCESS_ID = randomUUID().slice(0, 8);
let issued = 0;

/**
 * A token no other call, in this process or another, gets: for names the engine writes
 * to Redis on its own behalf (rate-limit permits, take records). One counter for the
 * whole process, so two limiters or takers in one process never collide either.
 */
export function uniqueToken(): string {
  return `${PROCESS_ID}:${++issued}`;
}
