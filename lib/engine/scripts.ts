import { readFileSync } from 'node:fs';
import type { RedisClient } from './connection.js';

/** The Lua scripts, by file name; the number in the name is how many KEYS it takes. */
const SCRIPTS = {
  flumeTake: 'take-12.lua',
  flumeAbandonTake: 'abandon-take-4.lua',
  flumeAck: 'ack-4.lua',
  flumeSettle: 'settle-6.lua',
  flumePromote: 'promote-6.lua',
  flumeRecover: 'recover-5.lua',
  flumeRequeue: 'requeue-3.lua',
  flumeRenew: 'renew-1.lua',
  flumeLimit: 'limit-1.lua',
  flumeMoveToQueue: 'move-to-queue-5.lua',
  flumeEnqueue: 'enqueue-n.lua',
  flumeReleaseUnique: 'release-unique-1.lua',
  flumeClaimTick: 'claim-tick-4.lua',
} as const;

export type ScriptName = keyof typeof SCRIPTS;

/** `--@include name` lines are replaced by `lua/includes/name.lua` (shared functions). */
function withIncludes(lua: string): string {
  return lua.replace(/^--@include ([a-z-]+)$/gm, (_, name: string) =>
    readFileSync(new URL(`./lua/includes/${name}.lua`, import.meta.url), 'utf8'),
  );
}

/** A script's text and how many KEYS it takes; undefined ("-n.lua") when it varies. */
interface LoadedScript {
  lua: string;
  numberOfKeys?: number;
}

function loadScript(file: string): LoadedScript {
  const lua = withIncludes(readFileSync(new URL(`./lua/${file}`, import.meta.url), 'utf8'));
  const count = /-(\d+|n)\.lua$/.exec(file)![1];
  return { lua, numberOfKeys: count === 'n' ? undefined : Number(count) };
}

const LOADED = Object.fromEntries(
  Object.entries(SCRIPTS).map(([name, file]) => [name, loadScript(file)]),
) as Record<ScriptName, LoadedScript>;

type ScriptCall = (...keysThenArgs: (string | number)[]) => Promise<unknown>;

/**
 * Runs the engine's Lua scripts on one connection; used by the store only. ioredis
 * sends them by SHA and falls back to EVAL once per connection when Redis does not
 * know them yet.
 */
export class Scripts {
  constructor(private readonly redis: RedisClient) {
    for (const [name, script] of Object.entries(LOADED)) {
      if (!(name in redis)) redis.defineCommand(name, script);
    }
  }

  /** Runs script `name` with its KEYS then its ARGV. */
  run(name: ScriptName, keys: readonly string[], args: readonly (string | number)[]) {
    const call = (this.redis as unknown as Record<ScriptName, ScriptCall>)[name];
    // A script whose number of KEYS varies takes it first, as EVAL does.
    if (LOADED[name].numberOfKeys === undefined) {
      return call.call(this.redis, keys.length, ...keys, ...args);
    }
    return call.call(this.redis, ...keys, ...args);
  }

  /**
   * Runs scripts one after the other, sent in one write (an ioredis pipeline: one
   * queue's keys share a Cluster slot). Resolves to each script's error or result;
   * rejects when the connection fails them all.
   */
  async runTogether(
    calls: readonly [ScriptName, readonly string[], readonly (string | number)[]][],
  ): Promise<[Error | null, unknown][]> {
    const pipeline = this.redis.pipeline() as unknown as Record<ScriptName, ScriptCall> & {
      exec(): Promise<[Error | null, unknown][] | null>;
    };
    for (const [name, keys, args] of calls) void pipeline[name](...keys, ...args);
    const results = await pipeline.exec();
    if (!results) throw new Error('the pipeline was discarded');
    return results;
  }
}
