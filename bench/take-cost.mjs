// Redis time of one take script against another, side by side on a redis-server of its
// own (SLOWLOG with a 0 µs threshold times every script run inside Redis, no round trip):
//
//   node bench/take-cost.mjs <git rev of the older take> [port]
//
// e.g. `node bench/take-cost.mjs 35f151d` compares take-8.lua of that commit with today's
// take-9.lua on queues of plain jobs (what a queue that uses no priorities pays), and
// `node bench/take-cost.mjs 96cd14c` take-9.lua with take-12.lua (no groups, no limits).
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { once } from 'node:events';
import { Redis } from 'ioredis';

const [rev, port = '6391'] = process.argv.slice(2);
if (!rev) throw new Error('usage: node bench/take-cost.mjs <git rev of the older take> [port]');
const lua = new URL('../lib/engine/lua/', import.meta.url);
const show = (path) =>
  execFileSync('git', ['show', `${rev}:lib/engine/lua/${path}`], { encoding: 'utf8' });
const withIncludes = (text, read) =>
  text.replace(/^--@include ([a-z-]+)$/gm, (_, name) => read(`includes/${name}.lua`));
const current = readdirSync(lua).find((file) => /^take-\d+\.lua$/.test(file));
const older = execFileSync('git', ['ls-tree', '--name-only', `${rev}:lib/engine/lua/`], {
  encoding: 'utf8',
})
  .split('\n')
  .find((file) => /^take-\d+\.lua$/.test(file));
const scripts = [
  {
    name: `${older} (${rev})`,
    lua: withIncludes(show(older), show),
    keys: Number(/\d+/.exec(older)[0]),
  },
  {
    name: `${current} (working tree)`,
    lua: withIncludes(readFileSync(new URL(current, lua), 'utf8'), (p) =>
      readFileSync(new URL(p, lua), 'utf8'),
    ),
    keys: Number(/\d+/.exec(current)[0]),
  },
];

const server = spawn('redis-server', ['--port', port, '--save', '', '--appendonly', 'no'], {
  stdio: 'ignore',
});
const redis = new Redis({ port: Number(port), retryStrategy: (n) => (n > 50 ? null : 50) });
await once(redis, 'ready');
const base = 'bench:queue:{q}';
const keys = [
  '',
  ':processing',
  ':leases',
  ':lease_seq',
  ':recoveries',
  ':dead',
  ':take:a',
  ':take:b',
  ':prioritized',
  ':groups',
  ':group_leases',
  ':groups_paused',
].map((s) => base + s);
const job = (i) =>
  JSON.stringify({
    jid: `j${i}`,
    queue: 'q',
    class: 'W',
    args: [i],
    retry_count: 0,
    enqueued_at: 1,
  });

async function run({ lua, keys: count }, take, jobs) {
  await redis.flushall();
  const sha = await redis.script('LOAD', lua);
  for (let i = 0; i < jobs; i += 1000)
    await redis.rpush(
      base,
      ...Array.from({ length: Math.min(1000, jobs - i) }, (_, k) => job(i + k)),
    );
  await redis.config('SET', 'slowlog-log-slower-than', '0');
  await redis.config('SET', 'slowlog-max-len', '100000');
  await redis.slowlog('RESET');
  for (;;) {
    const reply = await redis.evalsha(
      sha,
      count,
      ...keys.slice(0, count),
      take,
      30_000,
      60_000,
      1e9,
      'q',
      1000,
      1e9,
      // take-12 on: group key prefixes, no group or queue limit (older takes ignore these).
      `${base}:group:`,
      `${base}:group_limit:`,
      0,
      0,
      0,
      0,
    );
    if (reply[0] === 0) break;
  }
  const runs = (await redis.slowlog('GET', 100000)).filter(
    (e) => String(e[3][0]).toLowerCase() === 'evalsha',
  );
  return runs.reduce((sum, e) => sum + Number(e[2]), 0) / runs.length;
}

for (const [take, jobs] of [
  [100, 20_000],
  [10, 2_000],
  [1, 500],
]) {
  const totals = scripts.map(() => 0);
  for (let round = 0; round < 5; round++) {
    for (const [i, script] of scripts.entries()) totals[i] += await run(script, take, jobs);
  }
  console.log(
    `takes of ${take}: ` +
      scripts.map((s, i) => `${s.name} ${(totals[i] / 5).toFixed(1)} µs`).join(', ') +
      ` (ratio ${(totals[1] / totals[0]).toFixed(2)})`,
  );
}
redis.disconnect();
server.kill();
