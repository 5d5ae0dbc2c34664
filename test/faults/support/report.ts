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
