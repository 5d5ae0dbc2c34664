import { afterAll, describe, expect, it } from 'vitest';
import { queueKeys } from '../../lib/engine/keys.js';
import { FAULT_QUEUE } from './fixtures/fixture-config.js';
import { readRuns } from './support/accounting.js';
import { resumeAndSettle, startSteadyLoad } from './support/outage-load.js';
import { recoveredCount, rejectionWindow, report } from './support/report.js';
import { Scenario } from './support/scenario.js';
import { TcpProxy } from './support/tcp-proxy.js';

// Scenario 3, READONLY variant: the apps reach Redis through an address that moves on
// failover (a TCP proxy standing for DNS or a virtual IP). A replica is promoted, the
// old master demoted to a replica of it: the apps' open connections still reach the
// old master, which now answers READONLY to every write.
const VISIBILITY_TIMEOUT = 15_000;
const RESUME_WITHIN_MS = 5_000;

describe('fault: failover, the old master answers READONLY', () => {
  const scenario = new Scenario('failover');
  afterAll(() => scenario.dispose());

  it('reconnects to the new master; every resolved enqueue is done; nothing crashes', async () => {
    const oldMaster = await scenario.extraRedis();
    const replica = await scenario.extraRedis({
      args: ['--replicaof', '127.0.0.1', String(oldMaster.port)],
    });
    const proxy = await TcpProxy.start(oldMaster.port);
    scenario.onDispose(() => proxy.close());
    scenario.useUrl(proxy.url);
    const a = scenario.inspector(oldMaster.url);
    const b = scenario.inspector(replica.url);
    const keys = queueKeys(scenario.namespace, FAULT_QUEUE);

    const flume = { visibilityTimeout: VISIBILITY_TIMEOUT, commandTimeout: 1_000 };
    const { worker, producer, both } = await startSteadyLoad(scenario, flume, 'the failover');

    // A manual failover without losing writes: hold writes on the old master, let the
    // replica catch up, promote it, point the address at it, demote the old master.
    const pausedAt = Date.now();
    await a.call('CLIENT', 'PAUSE', '10000', 'WRITE');
    expect(await a.call('WAIT', '1', '5000')).toBe(1);
    await b.call('REPLICAOF', 'NO', 'ONE');
    proxy.switchTo(replica.port);
    await a.call('REPLICAOF', '127.0.0.1', String(replica.port));
    await a.call('CLIENT', 'UNPAUSE');
    const failedOverAt = Date.now();
    const {
      workerResumeMs,
      resolved,
      allDoneMs: drainMs,
      exits,
    } = await resumeAndSettle({
      worker,
      producer,
      redis: b,
      keys,
      endedAt: failedOverAt,
      settleWithinMs: VISIBILITY_TIMEOUT + 15_000,
      outage: 'the failover',
    });

    const readonlyReplies = Number(
      /errorstat_READONLY:count=(\d+)/.exec(await a.info('errorstats'))?.[1] ?? 0,
    );
    const runs = await readRuns(b, scenario.marks);
    const duplicates = [...runs.entries()].filter(([, n]) => n > 1).map(([id]) => id);
    report('failover (READONLY from the demoted master)', {
      enqueued: resolved.size,
      rejected: producer.rejected.length,
      done: [...resolved].filter((id) => runs.has(id)).length,
      rejectedForMs: rejectionWindow(producer.rejected),
      firstRejection: JSON.stringify(producer.rejected[0]?.error.slice(0, 160) ?? ''),
      duplicates: duplicates.length,
      leasesRecovered: recoveredCount(worker),
      allDoneMsAfterProducerStopped: drainMs,
      readonlyReplies,
      writesPausedMs: failedOverAt - pausedAt,
      workerResumeMs,
    });
    expect(readonlyReplies).toBeGreaterThan(0);
    expect(exits.map((e) => e.code)).toEqual([0, 0]);
    for (const p of both) p.assertNoCrash();
    expect([...resolved].filter((id) => !runs.has(id))).toEqual([]);
    for (const r of producer.rejected) expect(r.error).toMatch(/^FlumeConnectionError: /);
    expect(workerResumeMs).toBeLessThanOrEqual(RESUME_WITHIN_MS);
    // A job runs twice only if its lease was recovered: at most the leases recovered.
    expect(duplicates.length).toBeLessThanOrEqual(recoveredCount(worker));
    expect(await b.zcard(keys.retry)).toBe(0);
    expect(await b.zcard(keys.dead)).toBe(0);
  }, 90_000);
});
