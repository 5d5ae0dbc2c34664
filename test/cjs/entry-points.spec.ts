import { execFile } from 'node:child_process';
import { copyFileSync, readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FAULTS_OUT } from '../faults/global-setup.js';
import { installPackage } from './install-package.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const APP_DIR = resolve(ROOT, `dist-cjs/entries-${process.pid}`);
const pkg = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8'));

/** Each integration: its subpath, its optional peer, and a name it exports. */
const INTEGRATIONS = [
  { subpath: 'prometheus', peer: 'prom-client', exports: 'FlumeMetricsModule' },
  { subpath: 'terminus', peer: '@nestjs/terminus', exports: 'FlumeHealthIndicator' },
  { subpath: 'otel', peer: '@opentelemetry/api', exports: 'FlumeTracingModule' },
];
const SUBPATHS = INTEGRATIONS.map((i) => i.subpath);

async function load(file: string, ...args: string[]): Promise<Record<string, string[] | string>> {
  const { stdout } = await run(process.execPath, [file, ...args], {
    cwd: APP_DIR,
    env: { ...process.env, FLUME_SUBPATHS: JSON.stringify(SUBPATHS) },
    timeout: 30_000,
  });
  return JSON.parse(stdout);
}

describe('entry points', () => {
  let esm: string;
  let cjs: string;

  beforeAll(() => {
    const build = inject('faultsBuild');
    if (!build.ok) throw new Error(build.error);
    const fixtures = resolve(import.meta.dirname, 'fixture');
    esm = installPackage(
      APP_DIR,
      resolve(ROOT, FAULTS_OUT, 'lib'),
      resolve(fixtures, 'entry-points.mjs'),
    );
    cjs = resolve(APP_DIR, 'require-entries.cjs');
    copyFileSync(resolve(fixtures, 'require-entries.cjs'), cjs);
  });

  afterAll(() => rmSync(APP_DIR, { recursive: true, force: true }));

  it('declare each integration as a subpath with the root entry conditions, its peer optional', () => {
    const conditions = Object.keys(pkg.exports['.']);
    for (const { subpath, peer } of INTEGRATIONS) {
      const entry = pkg.exports[`./${subpath}`];
      expect(Object.keys(entry)).toEqual(conditions);
      expect(entry.import).toBe(`./dist/integrations/${subpath}/index.js`);
      expect(entry.types).toBe(`./dist/integrations/${subpath}/index.d.ts`);
      expect(pkg.peerDependencies[peer]).toBeDefined();
      expect(pkg.peerDependenciesMeta[peer]).toEqual({ optional: true });
      expect(pkg.dependencies?.[peer]).toBeUndefined();
    }
  });

  it('load the root entry without any optional peer installed, and no integration without its peer', async () => {
    const loaded = await load(esm, 'without-peers');
    expect(loaded['nestjs-flume']).toContain('FlumeModule');
    for (const { subpath, peer } of INTEGRATIONS) {
      expect(loaded[`nestjs-flume/${subpath}`]).toMatch(new RegExp(`not installed: ${peer}`));
    }
  });

  it('load each integration from ES modules and from CommonJS', async () => {
    const fromEsm = await load(esm);
    const fromCjs = await load(cjs);
    for (const { subpath, exports } of INTEGRATIONS) {
      expect(fromEsm[`nestjs-flume/${subpath}`]).toContain(exports);
      expect(fromCjs[subpath]).toContain(exports);
    }
  });
});
