import { execSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { cpus, loadavg, totalmem } from 'node:os';

const require = createRequire(import.meta.url);

function git(args: string): string {
  try {
    return execSync(`git ${args}`, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return 'unknown';
  }
}

function versionOf(pkg: string): string {
  try {
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Where and on what the figures were taken, for the results file. */
export function environment() {
  const cpu = cpus();
  return {
    commit: git('rev-parse --short HEAD'),
    /** lib/ differs from the commit (others were editing it while this ran). */
    libDirty: git('status --porcelain -- lib') !== '',
    cores: cpu.length,
    cpuModel: cpu[0]?.model ?? 'unknown',
    memoryGB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    bullmq: versionOf('bullmq'),
    ioredis: versionOf('ioredis'),
    nestCore: versionOf('@nestjs/core'),
    loadAverageAtStart: loadavg().map((l) => +l.toFixed(2)),
  };
}
