import { describe, expect, it } from 'vitest';
import { wasRecovered } from '../../lib/engine/pipeline-runner.js';

const job = (tail: string) =>
  `7|{"jid":"j1","queue":"q","class":"W","args":[1],"retry_count":0,"enqueued_at":1${tail}`;

describe('wasRecovered', () => {
  it('sees the "recoveries" field the recovery script appends', () => {
    expect(wasRecovered(job(',"recoveries":1}'))).toBe(true);
    expect(wasRecovered(job(',"recoveries":12}'))).toBe(true);
  });

  it('is not fooled by a context (or args) holding a "recoveries" key', () => {
    expect(wasRecovered(job('}'))).toBe(false);
    expect(wasRecovered(job(',"context":{"tenant":"a","recoveries":2}}'))).toBe(false);
    expect(wasRecovered(job(',"context":{"recoveries":2}}'))).toBe(false);
    expect(wasRecovered('3|not json at all')).toBe(false);
  });
});
