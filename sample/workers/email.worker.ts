import { Worker } from '../../lib/index.js';
import { MailerService } from '../mailer.service.js';
import { OutcomesService } from '../outcomes.service.js';

/** Always succeeds. Jobs run `perform(to, subject)`; the mailer comes by injection. */
@Worker('default')
export class EmailWorker {
  constructor(
    private readonly mailer: MailerService,
    private readonly outcomes: OutcomesService,
  ) {}

  async perform(to: string, subject: string): Promise<void> {
    await this.mailer.send(to, subject);
    this.outcomes.success();
  }
}
