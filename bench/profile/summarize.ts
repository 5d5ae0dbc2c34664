// Summarizes V8 CPU profiles (.cpuprofile, from `node --cpu-prof` or BENCH_PROFILE=dir):
// where the time went, by owner (our engine, our Nest layer, ioredis, Nest, BullMQ,
// Node) and by function. Usage: node dist-bench/bench/profile/summarize.js <file>...
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const OWNERS: [RegExp, string][] = [
  [/\/lib\/engine\//, 'flume engine (lib/engine)'],
  [/\/lib\//, 'flume Nest layer (lib/)'],
  [/node_modules\/(@ioredis|ioredis|redis-parser|denque|cluster-key-slot)\//, 'ioredis'],
  [/node_modules\/@nestjs\//, 'Nest'],
  [/node_modules\/(bullmq|msgpackr)\//, 'BullMQ'],
  [/node_modules\//, 'other packages'],
  [/\/bench\//, 'bench harness'],
];
const SPECIAL = new Set(['(garbage collector)', '(idle)', '(program)', '(root)']);

/** Who owns a frame; undefined for Node internals and V8 builtins (charged to their caller). */
function ownerOf(frame: CallFrame): string | undefined {
  if (SPECIAL.has(frame.functionName)) return frame.functionName;
  for (const [pattern, owner] of OWNERS) if (pattern.test(frame.url)) return owner;
  return undefined;
}

function where(frame: CallFrame): string {
  const file = frame.url
    .replace(/^.*?\/(dist-bench\/|node_modules\/)/, '$1')
    .replace(/^file:\/\//, '');
  const name = frame.functionName || '(anonymous)';
  return file ? `${name} ${file}:${frame.lineNumber + 1}` : `${name} [native]`;
}

function summarize(path: string, top: number): string {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);

  const self = new Map<number, number>();
  profile.samples.forEach((id, i) =>
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)),
  );
  const total = [...self.values()].reduce((a, b) => a + b, 0);

  const charged = new Map<string, number>();
  const direct = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const [id, us] of self) {
    const frame = byId.get(id)!.callFrame;
    let owner = ownerOf(frame);
    direct.set(
      owner ?? 'Node internals / V8 builtins',
      (direct.get(owner ?? 'Node internals / V8 builtins') ?? 0) + us,
    );
    for (let at = parent.get(id); owner === undefined && at !== undefined; at = parent.get(at)) {
      owner = ownerOf(byId.get(at)!.callFrame);
    }
    owner ??= 'Node internals / V8 builtins';
    if (owner === '(root)') owner = 'Node internals / V8 builtins';
    charged.set(owner, (charged.get(owner) ?? 0) + us);
    const key = where(frame);
    functions.set(key, (functions.get(key) ?? 0) + us);
  }
  // Inclusive time of the package functions (ours, ioredis, Nest): what each costs with its callees.
  const inclusive = new Map<string, number>();
  for (const [id, us] of self) {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!.callFrame;
      const owner = ownerOf(frame);
      if (owner === undefined || SPECIAL.has(owner) || owner === 'bench harness') continue;
      const key = where(frame);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + us);
    }
  }
  // Who calls the native functions named in CALLERS (e.g. writeUtf8String).
  const callers = new Map<string, number>();
  const wanted = new Set((process.env.CALLERS ?? '').split(',').filter(Boolean));
  for (const [id, us] of self) {
    const frame = byId.get(id)!.callFrame;
    if (!wanted.has(frame.functionName)) continue;
    let at = parent.get(id);
    while (at !== undefined && ownerOf(byId.get(at)!.callFrame) === undefined) at = parent.get(at);
    const key = `${frame.functionName} <- ${at === undefined ? '?' : where(byId.get(at)!.callFrame)}`;
    callers.set(key, (callers.get(key) ?? 0) + us);
  }
  const pct = (us: number) => `${((us / total) * 100).toFixed(1).padStart(5)}%`;
  const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(6)} ms`;
  const sorted = (m: Map<string, number>) => [...m].sort(([, a], [, b]) => b - a);
  const lines = [`== ${basename(path)}: ${(total / 1000).toFixed(0)} ms sampled`];
  lines.push('-- by owner (builtins and Node internals charged to the package that called them):');
  for (const [owner, us] of sorted(charged)) lines.push(`${ms(us)} ${pct(us)}  ${owner}`);
  lines.push('-- by owner, self time only:');
  for (const [owner, us] of sorted(direct)) lines.push(`${ms(us)} ${pct(us)}  ${owner}`);
  lines.push(`-- top ${top} functions by self time:`);
  for (const [name, us] of sorted(functions).slice(0, top))
    lines.push(`${ms(us)} ${pct(us)}  ${name}`);
  lines.push(`-- top ${top} package functions by inclusive time:`);
  for (const [name, us] of sorted(inclusive).slice(0, top))
    lines.push(`${ms(us)} ${pct(us)}  ${name}`);
  if (callers.size > 0) lines.push('-- callers (nearest package frame):');
  for (const [name, us] of sorted(callers).slice(0, top))
    lines.push(`${ms(us)} ${pct(us)}  ${name}`);
  return lines.join('\n');
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node dist-bench/bench/profile/summarize.js <file.cpuprofile>...');
  process.exit(2);
}
for (const file of files) console.log(`${summarize(file, Number(process.env.TOP ?? 25))}\n`);
