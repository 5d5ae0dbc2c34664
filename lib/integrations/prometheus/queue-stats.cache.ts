import type { QueueStats } from '../../engine/index.js';

/**
 * The counts of some queues, read at most once per `ttlMs`: scrapes in between (and
 * scrapes at the same time) share one read. A failed read is not kept.
 */
export class QueueStatsCache {
  private last?: { at: number; read: Promise<Map<string, QueueStats>> };

  constructor(
    private readonly queues: readonly string[],
    private readonly readStats: (queue: string) => Promise<QueueStats>,
    private readonly ttlMs: number,
  ) {}

  get(): Promise<Map<string, QueueStats>> {
    const now = Date.now();
    if (this.last && now - this.last.at < this.ttlMs) return this.last.read;
    const read = this.read();
    const entry = { at: now, read };
    this.last = entry;
    read.catch(() => {
      if (this.last === entry) this.last = undefined;
    });
    return read;
  }

  private async read(): Promise<Map<string, QueueStats>> {
    const stats = await Promise.all(this.queues.map((queue) => this.readStats(queue)));
    return new Map(this.queues.map((queue, i) => [queue, stats[i]]));
  }
}
