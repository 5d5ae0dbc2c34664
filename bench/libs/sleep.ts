/** The awaited timer of both libraries' handlers in row 10 (a 1 ms async handler). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
