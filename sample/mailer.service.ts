import { Injectable } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';

/** A stand-in for a real mail client: the dependency EmailWorker gets by injection. */
@Injectable()
export class MailerService {
  private sent = 0;

  /** "Sends" a message: takes 100-300 ms, like a call to a mail API would. */
  async send(to: string, subject: string): Promise<void> {
    await sleep(100 + Math.random() * 200);
    this.sent++;
  }

  get sentCount(): number {
    return this.sent;
  }
}
