/**
 * A job's AbortSignal, made only when someone asks for it. Most handlers never read
 * `signal`, and an AbortController per job was a tenth of the engine's CPU in the
 * drain profile (bench/README.md); an abort before the first read is remembered.
 */
export class JobSignal {
  private controller?: AbortController;
  private reason?: unknown;
  private aborted = false;

  get signal(): AbortSignal {
    if (this.controller) return this.controller.signal;
    if (this.aborted) return AbortSignal.abort(this.reason);
    this.controller = new AbortController();
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
  }
}
