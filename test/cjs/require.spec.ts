import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FAULTS_OUT } from '../faults/global-setup.js';
import { deleteNamespace, inspector, REDIS_URL, uniqueNamespace } from '../support/redis.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
/** An app folder with nestjs-flume in its node_modules, as `npm install` would leave it. */
const APP_DIR = resolve(ROOT, `dist-cjs/${process.pid}`);

/**
 * Installs the package as a CommonJS app sees it: this repository's package.json (its
 * `exports` map is what is under test) over the compiled lib/ of the fault suite's
 * global setup, in place of dist/ (which `npm run build` makes, and a test run may not).
 */
function installPackage(libDir: string): string {
  rmSync(APP_DIR, { recursive: true, force: true });
  const pkg = resolve(APP_DIR, 'node_modules/nestjs-flume');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(resolve(pkg, 'package.json'), readFileSync(resolve(ROOT, 'package.json')));
  symlinkSync(libDir, resolve(pkg, 'dist'), 'dir');
  // The app's own package.json: without it, the app would sit in this repository's package
  // scope and find nestjs-flume by self-reference instead of in its node_modules.
  writeFileSync(
    resolve(APP_DIR, 'package.json'),
    JSON.stringify({ name: 'cjs-app', private: true }),
  );
  const app = resolve(APP_DIR, 'app.cjs');
  copyFileSync(resolve(import.meta.dirname, 'fixture/app.cjs'), app);
  return app;
}

describe('a CommonJS app', () => {
  const namespace = uniqueNamespace('cjs');
  let app: string;

  beforeAll(() => {
    const build = inject('faultsBuild');
    if (!build.ok) throw new Error(build.error);
    app = installPackage(resolve(ROOT, FAULTS_OUT, 'lib'));
  });

  afterAll(async () => {
    rmSync(APP_DIR, { recursive: true, force: true });
    const redis = inspector(REDIS_URL);
    await deleteNamespace(redis, namespace);
    redis.disconnect();
  });

  it('require()s nestjs-flume, runs a job and exits by itself', async () => {
    const { stdout } = await run(process.execPath, [app], {
      cwd: APP_DIR,
      env: { ...process.env, REDIS_URL, FLUME_NAMESPACE: namespace },
      timeout: 30_000,
    });
    expect(stdout.trim()).toBe('ran: hello from CommonJS');
  });

  it('require()s nestjs-flume/dashboard, an entry point of its own', async () => {
    const { stdout } = await run(
      process.execPath,
      ['-e', "console.log(typeof require('nestjs-flume/dashboard').FlumeDashboardModule)"],
      { cwd: APP_DIR, timeout: 30_000 },
    );
    expect(stdout.trim()).toBe('function');
  });
});
