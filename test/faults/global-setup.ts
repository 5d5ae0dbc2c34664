import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestProject } from 'vitest/node';

// Fault scenarios run the library in child processes, which cannot load .ts with
// decorator metadata: compile lib/ and the fixture app once per run, and tell the
// specs where it is (or why it is not there). A failed build fails the fault specs
// only, not every spec of `npm test`.

export const FAULTS_OUT = 'dist-faults';
const LOCK = `${FAULTS_OUT}.lock`;
/** A lock older than this was left by a killed run. */
const STALE_LOCK_MS = 120_000;

declare module 'vitest' {
  export interface ProvidedContext {
    faultsBuild: { ok: true; main: string } | { ok: false; error: string };
  }
}

export default async function setup(project: TestProject): Promise<void> {
  await withLock(() => {
    try {
      // --noCheck: type errors are `npm run lint`'s job; here only the emitted JS matters.
      execFileSync(
        process.execPath,
        ['node_modules/typescript/bin/tsc', '-p', 'test/faults/tsconfig.json', '--noCheck'],
        { stdio: 'pipe' },
      );
      execFileSync(process.execPath, ['scripts/copy-lua.mjs', `${FAULTS_OUT}/lib`], {
        stdio: 'pipe',
      });
      project.provide('faultsBuild', {
        ok: true,
        main: `${FAULTS_OUT}/test/faults/fixtures/main.js`,
      });
    } catch (err) {
      const { stdout, stderr, message } = err as {
        stdout?: Buffer;
        stderr?: Buffer;
        message: string;
      };
      const detail = `${stdout ?? ''}${stderr ?? ''}`.trim() || message;
      project.provide('faultsBuild', {
        ok: false,
        error: `Building the fault fixtures failed:\n${detail}`,
      });
    }
  });
}

/** Two test runs in one checkout must not compile into the same folder at once. */
async function withLock(fn: () => void): Promise<void> {
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > STALE_LOCK_MS) rmSync(LOCK, { recursive: true });
      } catch {
        // Released meanwhile.
      }
      await sleep(200);
    }
  }
  try {
    fn();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}
