import { afterAll, describe, expect, it } from 'vitest';
import { faultJobs, ProducerApp } from './support/producer-app.js';
import { report } from './support/report.js';
import { Scenario } from './support/scenario.js';
import { TcpProxy } from './support/tcp-proxy.js';

// Scenario 7 of issue 5: at boot, the engine says when Redis would lose or refuse jobs.

describe('fault: boot warnings about the Redis server', () => {
  const scenario = new Scenario('boot-warnings');
  afterAll(() => scenario.dispose());

  it('warns when maxmemory-policy evicts keys, and still runs jobs', async () => {
    await scenario.ownRedis({ args: ['--maxmemory-policy', 'allkeys-lru'] });
    const app = await scenario.spawn('app', { maxDemand: 1 });
    await app.until(
      () => app.logsMatching(/maxmemory-policy is "allkeys-lru"/, 'warn').length > 0,
      'the eviction warning',
    );
    const producer = await ProducerApp.open(scenario.url, scenario.namespace);
    await producer.enqueue(faultJobs(1, 0));
    await producer.close();
    await app.until(() => app.finished.has('j0'), 'a job to run');
    app.kill('SIGTERM');
    expect((await app.exited).code).toBe(0);
    report('boot warning: eviction policy', {
      warning: JSON.stringify(app.logsMatching(/maxmemory-policy/)[0].message.slice(0, 90)),
    });
  });

  it('says when Redis is older than the scripts need', async () => {
    const server = await scenario.extraRedis();
    const version = /redis_version:(\S+)/.exec(
      await scenario.inspector(server.url).info('server'),
    )![1];
    // Redis 6.0 has no LPOP with a count. A proxy makes this Redis say it is 6.0
    // (same length: RESP replies carry their length).
    const old = `6.0.${'9'.repeat(Math.max(1, version.length - 4))}`.slice(0, version.length);
    const proxy = await TcpProxy.start(server.port, (reply) =>
      Buffer.from(
        reply.toString('latin1').replace(`redis_version:${version}`, `redis_version:${old}`),
        'latin1',
      ),
    );
    scenario.onDispose(() => proxy.close());
    scenario.useUrl(proxy.url);
    const app = await scenario.spawn('app', { maxDemand: 1 });
    await app.until(
      () =>
        app.logsMatching(
          new RegExp(`Redis ${old.replace(/\./g, '\\.')} is older than 6\\.2`),
          'error',
        ).length > 0,
      'the version error',
    );
    app.kill('SIGTERM');
    await app.exited;
    report('boot warning: old Redis', { reported: old, actual: version });
  });
});
