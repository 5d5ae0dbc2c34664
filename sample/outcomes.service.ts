import { Injectable } from '@nestjs/common';

/**
 * What the workers saw in this process: handler calls that returned and handler
 * calls that threw. The store holds the rest of the story (waiting, retry, dead).
 */
@Injectable()
export class OutcomesService {
  succeeded = 0;
  failedAttempts = 0;

  success(): void {
    this.succeeded++;
  }

  failure(): void {
    this.failedAttempts++;
  }
}
