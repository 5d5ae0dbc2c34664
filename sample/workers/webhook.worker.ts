import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from '../../lib/index.js';
import { OutcomesService } from '../outcomes.service.js';

/**
 * Registered as "webhook", so code that cannot import this class enqueues it by
 * name. Each delivery fails its first `failFirst` attempts (a flaky endpoint), then
 * succeeds: Flume retries it with backoff in between.
 */
@Worker('default', { name: 'webhook', maxRetries: 4 })
export class WebhookWorker {
  /** Attempts per delivery id, in this process (the sample runs one process). */
  private readonly attempts = new Map<string, number>();

  constructor(private readonly outcomes: OutcomesService) {}

  async perform(deliveryId: string, failFirst: number): Promise<void> {
    const attempt = (this.attempts.get(deliveryId) ?? 0) + 1;
    this.attempts.set(deliveryId, attempt);
    await sleep(50);
    if (attempt <= failFirst) {
      this.outcomes.failure();
      throw new Error(`endpoint answered 503 to delivery ${deliveryId} (attempt ${attempt})`);
    }
    this.outcomes.success();
  }
}
