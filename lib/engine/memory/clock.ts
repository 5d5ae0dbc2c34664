/**
 * The memory store's clock, where Redis has its TIME: every time the store reads
 * (lease deadlines, due times, deaths, rate-limit windows) comes from here. It is
 * `Date.now()`, read at each call, so fake timers (`vi.useFakeTimers()`,
 * `jest.useFakeTimers()`) move the store's time and the engine's timers together.
 */
export function now(): number {
  return Date.now();
}
