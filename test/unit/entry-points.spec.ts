import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const LIB = resolve(import.meta.dirname, '../../lib');

/** Every lib/ file `entry` imports, directly or not (relative imports only). */
function reachable(entry: string, seen = new Set<string>()): Set<string> {
  if (seen.has(entry)) return seen;
  seen.add(entry);
  const source = readFileSync(entry, 'utf8');
  for (const [, specifier] of source.matchAll(/^(?:import|export)[^'"]*?from '(\.[^']+)'/gm)) {
    reachable(resolve(dirname(entry), specifier.replace(/\.js$/, '.ts')), seen);
  }
  return seen;
}

describe('entry points', () => {
  it('the root entry loads nothing of the dashboard', () => {
    const files = [...reachable(resolve(LIB, 'index.ts'))];
    expect(files.length).toBeGreaterThan(20);
    expect(files.filter((file) => file.includes('/dashboard/'))).toEqual([]);
  });

  it('nestjs-flume/dashboard is in package.json exports, like the root entry', () => {
    const pkg = JSON.parse(readFileSync(resolve(LIB, '../package.json'), 'utf8'));
    expect(Object.keys(pkg.exports['./dashboard'])).toEqual(Object.keys(pkg.exports['.']));
    expect(pkg.exports['./dashboard'].import).toBe('./dist/dashboard/index.js');
    expect(pkg.peerDependenciesMeta['@nestjs/platform-express']).toEqual({ optional: true });
    expect(pkg.peerDependenciesMeta['@nestjs/platform-fastify']).toEqual({ optional: true });
  });
});
