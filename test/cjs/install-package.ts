import { copyFileSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * Installs the package as an app sees it, in `appDir`: this repository's package.json
 * (its `exports` map is what is under test) over the compiled lib/ of the fault suite's
 * global setup, in place of dist/ (which `npm run build` makes, and a test run may not).
 * Copies `entry` (a file of the app) into the folder; returns its path there.
 */
export function installPackage(appDir: string, libDir: string, entry: string): string {
  rmSync(appDir, { recursive: true, force: true });
  const pkg = resolve(appDir, 'node_modules/nestjs-flume');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(resolve(pkg, 'package.json'), readFileSync(resolve(ROOT, 'package.json')));
  symlinkSync(libDir, resolve(pkg, 'dist'), 'dir');
  // The app's own package.json: without it, the app would sit in this repository's package
  // scope and find nestjs-flume by self-reference instead of in its node_modules.
  writeFileSync(resolve(appDir, 'package.json'), JSON.stringify({ name: 'app', private: true }));
  const app = resolve(appDir, basename(entry));
  copyFileSync(entry, app);
  return app;
}
