// Messages of the health indicator, in one place: each says what is wrong and where to look.

export function redisDown(message: string): string {
  return `Redis did not answer: ${message}`;
}

export function pingTimedOut(timeoutMs: number): string {
  return `no answer to PING within ${timeoutMs} ms`;
}

export function pipelinesNotRunning(names: readonly string[]): string {
  return `Pipeline(s) ${names.map((n) => `"${n}"`).join(', ')} of this process are not running (see the log for why)`;
}

export function overThreshold(queue: string, what: string, count: number, max: number): string {
  return `Queue "${queue}" has ${count} ${what} job(s), over ${max}`;
}
