import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { queueKeys } from '../../lib/engine/keys.js';
import type { ExitFixtureConfig } from './fixtures/exit-by-itself.js';
import { fixtureMain } from './support/app-process.js';
import { report } from './support/report.js';
import { Scenario } from './support/scenario.js';

/** How long after close() a process may take to exit once Flume let go of it. */
const SLACK_MS = 500;
/** Longer than any late exit the test looks for; then the child is killed. */
const GIVE_UP_MS = 5_000;

interface Run {
  closingAt?: number;
  closedAt?: number;
  exitAt: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

/** Runs the exit fixture to its end (killed after closing + `giveUpMs` if it hangs on). */
function runChild(config: ExitFixtureConfig, giveUpMs: number): Promise<Run> {
  const script = join(dirname(fixtureMain()), 'exit-by-itself.js');
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, EXIT_FIXTURE: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const times: Record<string, number> = {};
  let killer: NodeJS.Timeout | undefined;
  const onOutput = (chunk: Buffer) => {
    output += chunk.toString();
    for (const [, event, at] of output.matchAll(/^(closing|closed) (\d+)$/gm)) {
      times[event] = Number(at);
    }
    if (times.closing !== undefined && !killer) {
      killer = setTimeout(() => child.kill('SIGKILL'), giveUpMs);
    }
  };
  child.stdout.on('data', onOutput);
  child.stderr.on('data', onOutput);
  const deadline = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      const exitAt = Date.now();
      clearTimeout(killer);
      clearTimeout(deadline);
      resolve({ closingAt: times.closing, closedAt: times.closed, exitAt, code, signal, output });
    });
  });
}

describe('fault: the process exits by itself after app.close()', () => {
  const scenario = new Scenario('exit');
  // Opened first: dispose() deletes the namespace through it.
  const redis = scenario.inspector();
  afterAll(() => scenario.dispose());

  it(`exits within ${SLACK_MS} ms of close() once its jobs finished (default shutdownTimeout)`, async () => {
    const run = await runChild(
      { redisUrl: scenario.url, namespace: scenario.namespace, jobs: 10, hang: false },
      GIVE_UP_MS,
    );
    const exitMs = run.exitAt - run.closingAt!;
    report('exit after close, jobs finished', {
      closeMs: run.closedAt! - run.closingAt!,
      exitMs,
    });
    expect(run, run.output).toMatchObject({ code: 0, signal: null });
    expect(exitMs).toBeLessThanOrEqual(SLACK_MS);
    expect(await redis.llen(queueKeys(scenario.namespace, 'exit').waiting)).toBe(0);
  });

  it(`exits within shutdownTimeout + ${SLACK_MS} ms of close() with jobs that hang`, async () => {
    const shutdownTimeout = 1_000;
    const run = await runChild(
      {
        redisUrl: scenario.url,
        namespace: scenario.namespace,
        jobs: 3,
        hang: true,
        shutdownTimeout,
      },
      shutdownTimeout + GIVE_UP_MS,
    );
    const exitMs = run.exitAt - run.closingAt!;
    report('exit after close, jobs hanging', {
      shutdownTimeoutMs: shutdownTimeout,
      closeMs: run.closedAt! - run.closingAt!,
      exitMs,
    });
    expect(run, run.output).toMatchObject({ code: 0, signal: null });
    expect(exitMs).toBeGreaterThanOrEqual(shutdownTimeout);
    expect(exitMs).toBeLessThanOrEqual(shutdownTimeout + SLACK_MS);
    // The hanging jobs went back to the queue before the process let go.
    expect(await redis.llen(queueKeys(scenario.namespace, 'exit').waiting)).toBe(3);
  });
});
