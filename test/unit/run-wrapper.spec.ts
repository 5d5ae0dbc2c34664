import { describe, expect, it } from 'vitest';
import {
  invokeHandler,
  JobSignal,
  type Job,
  type RunWrapper,
  type WorkerDefinition,
} from '../../lib/engine/index.js';

const worker: WorkerDefinition = {
  name: 'W',
  queue: 'q',
  method: 'perform',
  handlers: new Set(['perform']),
  instance: {},
  className: 'W',
};
const job: Job = { jid: 'j1', queue: 'q', class: 'W', args: [1], retry_count: 0, enqueued_at: 0 };

/** Calls invokeHandler for one job with `wrapRun`; returns the failures and the calls made. */
async function invoke(wrapRun: RunWrapper, handler = (..._args: unknown[]): unknown => undefined) {
  const calls: unknown[][] = [];
  const failures = await invokeHandler(
    worker,
    (...args) => (calls.push(args), handler(...args)),
    [job],
    [new JobSignal()],
    false,
    wrapRun,
  );
  return { failures, calls };
}

describe('invokeHandler with a RunWrapper', () => {
  it('runs the handler inside the wrapper, which sees the call and the failures', async () => {
    const seen: unknown[] = [];
    const { failures, calls } = await invoke(
      async (call, run) => {
        seen.push(
          call.worker,
          call.batch,
          call.jobs.map((j) => j.jid),
        );
        const result = await run();
        seen.push(result.get(0));
        return result;
      },
      () => {
        throw new Error('boom');
      },
    );
    expect(calls).toEqual([[[1]]]); // one call, with the job's args
    expect((failures.get(0) as Error).message).toBe('boom');
    expect(seen).toEqual(['W', false, ['j1'], failures.get(0)]);
  });

  it('runs the handler once when the wrapper throws before or after calling run', async () => {
    const before = await invoke(async () => {
      throw new Error('wrapper broke');
    });
    expect(before.calls).toHaveLength(1);
    expect(before.failures.size).toBe(0);

    const after = await invoke(async (_call, run) => {
      await run();
      await run();
      throw new Error('wrapper broke');
    });
    expect(after.calls).toHaveLength(1);
    expect(after.failures.size).toBe(0);
  });
});
