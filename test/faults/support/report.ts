/**
 * Prints a scenario's figures on one line, so a run's output is the data for the
 * issue's closing note (jobs, duplicates, recovery and exit times).
 */
export function report(scenario: string, figures: Record<string, number | string | boolean>): void {
  const text = Object.entries(figures)
    .map(([key, value]) => `${key}=${value}`)
    .join(' ');
  process.stdout.write(`[fault figures] ${scenario}: ${text}\n`);
}

/** Time from the first to the last rejected enqueue, ms (0 when none was rejected). */
export function rejectionWindow(rejected: readonly { at: number }[]): number {
  if (rejected.length === 0) return 0;
  return rejected[rejected.length - 1].at - rejected[0].at;
}

/** Jobs an app's Recoverer handed back, from its "Recovered N job(s)" log lines. */
export function recoveredCount(app: {
  logsMatching(pattern: RegExp, level?: 'log' | 'warn' | 'error'): { message: string }[];
}): number {
  return app
    .logsMatching(/^Recovered \d+ job/, 'warn')
    .reduce((sum, log) => sum + Number(/^Recovered (\d+)/.exec(log.message)![1]), 0);
}
