import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FAULTS_OUT } from '../faults/global-setup.js';
import { installPackage } from './install-package.js';
import { deleteNamespace, inspector, REDIS_URL, uniqueNamespace } from '../support/redis.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
/** An app folder with nestjs-flume in its node_modules, as `npm install` would leave it. */
const APP_DIR = resolve(ROOT, `dist-cjs/${process.pid}`);

describe('a CommonJS app', () => {
  const namespace = uniqueNamespace('cjs');
  let app: string;

  beforeAll(() => {
    const build = inject('faultsBuild');
    if (!build.ok) throw new Error(build.error);
    app = installPackage(
      APP_DIR,
      resolve(ROOT, FAULTS_OUT, 'lib'),
      resolve(import.meta.dirname, 'fixture/app.cjs'),
    );
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
