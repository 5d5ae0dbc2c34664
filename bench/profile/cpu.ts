import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { dirname, join } from 'node:path';

/**
 * Profiles timed regions with V8's CPU profiler (what `node --cpu-prof` uses), one
 * `.cpuprofile` per region, so a profile holds the drain alone rather than the fill
 * before it. Open the files in Chrome DevTools, or summarize them with
 * `node dist-bench/bench/profile/summarize.js <file>`.
 */
export class RegionProfiler {
  private session?: Session;

  constructor(private readonly dir: string | undefined) {}

  async run<T>(label: string, region: () => Promise<T>): Promise<T> {
    if (!this.dir) return region();
    if (!this.session) {
      this.session = new Session();
      this.session.connect();
      await this.session.post('Profiler.enable');
      await this.session.post('Profiler.setSamplingInterval', { interval: 200 });
    }
    await this.session.post('Profiler.start');
    try {
      return await region();
    } finally {
      const { profile } = await this.session.post('Profiler.stop');
      mkdirSync(this.dir, { recursive: true });
      const file = join(this.dir, `${label.replace(/[^a-z0-9-]+/gi, '-')}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
    }
  }

  close(): void {
    this.session?.disconnect();
  }
}

/**
 * Profiles this process from now until `stop()`, into `file` (nothing when undefined):
 * for the worker processes, whose timed work is all of their life.
 */
export async function startProfile(file: string | undefined): Promise<{ stop(): Promise<void> }> {
  if (!file) return { stop: async () => undefined };
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  return {
    async stop() {
      const { profile } = await session.post('Profiler.stop');
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}
