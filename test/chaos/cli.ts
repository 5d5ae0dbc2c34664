// `npm run chaos -- --minutes 10 --seed 42 [--mode single|cluster]`: a chaos run from the
// command line (see test/chaos/README.md). Exits 0 when every invariant held, 1 otherwise.
import { fileURLToPath } from 'node:url';
import { runChaos } from './harness/run.js';

const USAGE = `Usage: npm run chaos -- [--minutes N] [--seed N] [--mode single|cluster]
  [--workers N] [--producers N] [--pace X] [--log-dir DIR] [--keep-logs]

  --minutes    how long the faults go on (default 10; decimals allowed)
  --seed       replays a run's schedule of faults and calls (default: a random one, printed)
  --mode       single: one master, a replica and Sentinel; cluster: 3 masters (default single)
  --workers    worker processes (default 3); --producers: producer processes (default 2)
  --pace       multiplies the quiet time between faults (default 1; 0.5: twice as many)
  --log-dir    where the logs go (default: a new folder in the temp dir)
  --keep-logs  keep the logs of a run that passed too`;

function parse(argv: string[]): Record<string, string | true> {
  const args: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new Error(`unexpected argument "${arg}"`);
    const [name, inline] = arg.slice(2).split('=', 2);
    if (inline !== undefined) args[name] = inline;
    else if (argv[i + 1] !== undefined && !argv[i + 1].startsWith('--')) args[name] = argv[++i];
    else args[name] = true;
  }
  return args;
}

function number(args: Record<string, string | true>, name: string, fallback: number): number {
  const raw = args[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw === true || !Number.isFinite(value) || value < 0) {
    throw new Error(`--${name} expects a number, got: ${String(raw)}`);
  }
  return value;
}

async function main(): Promise<void> {
  let args: Record<string, string | true>;
  try {
    args = parse(process.argv.slice(2));
    const known = [
      'minutes',
      'seed',
      'mode',
      'workers',
      'producers',
      'pace',
      'log-dir',
      'keep-logs',
      'help',
    ];
    const unknown = Object.keys(args).filter((name) => !known.includes(name));
    if (unknown.length > 0)
      throw new Error(`unknown option(s): ${unknown.map((n) => `--${n}`).join(', ')}`);
    if (args.mode !== undefined && args.mode !== 'single' && args.mode !== 'cluster') {
      throw new Error(`--mode expects single or cluster, got: ${String(args.mode)}`);
    }
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const result = await runChaos({
    seed: Math.trunc(number(args, 'seed', Math.floor(Math.random() * 2 ** 31))),
    durationMs: Math.round(number(args, 'minutes', 10) * 60_000),
    mode: (args.mode as 'single' | 'cluster' | undefined) ?? 'single',
    workers: Math.trunc(number(args, 'workers', 3)) || 3,
    producers: Math.trunc(number(args, 'producers', 2)) || 2,
    pace: number(args, 'pace', 1) || 1,
    logDir: typeof args['log-dir'] === 'string' ? args['log-dir'] : undefined,
    keepLogs: args['keep-logs'] === true,
    main: fileURLToPath(new URL('./fixtures/main.js', import.meta.url)),
  });
  process.exitCode = result.ok ? 0 : 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
  process.exitCode = 1;
});
