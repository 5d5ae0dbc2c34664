import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlumeClient } from '../../lib/index.js';
import { TcpProxy } from '../faults/support/tcp-proxy.js';
import { Apps } from '../support/apps.js';
import { CaptureLogger } from '../support/capture-logger.js';
import { JobLog } from '../support/job-log.js';
import { freePort } from '../support/redis-server.js';
import { uniqueNamespace } from '../support/redis.js';
import { FLOW_QUEUE, FlowWorker, performedIds, Producer } from './support/flow.js';
import { Topology, until, type StartedRedis } from './support/servers.js';

const MASTER_NAME = 'flume-test-master';

describe('Sentinel: one master, one replica, one sentinel', () => {
  const topology = new Topology('sentinel');
  const apps = new Apps();
  let master: StartedRedis;
  let replica: StartedRedis;
  let sentinelPort: number;

  beforeAll(async () => {
    master = await topology.redis();
    replica = await topology.redis(['--replicaof', '127.0.0.1', String(master.port)]);
    await until(
      () => replica.admin.info('replication'),
      (info) => /master_link_status:up/.test(info),
      'the replica to sync',
    );
    sentinelPort = await freePort();
    const config = join(topology.dir, 'sentinel.conf');
    writeFileSync(
      config,
      [
        `port ${sentinelPort}`,
        'bind 127.0.0.1',
        `dir ${topology.dir}`,
        `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${master.port} 1`,
        `sentinel down-after-milliseconds ${MASTER_NAME} 5000`,
        `sentinel failover-timeout ${MASTER_NAME} 10000`,
        '',
      ].join('\n'),
    );
    await topology.group.spawn([config, '--sentinel'], { ready: /\+monitor master/ });
    // The sentinel finds the replica through the master's INFO.
    const sentinel = topology.connect({ port: sentinelPort });
    await until(
      () => sentinel.call('SENTINEL', 'REPLICAS', MASTER_NAME) as Promise<string[][]>,
      (replicas) =>
        replicas.some((fields) => {
          const flags = fields[fields.indexOf('flags') + 1];
          return flags === 'slave' && fields[fields.indexOf('port') + 1] === String(replica.port);
        }),
      'the sentinel to know the replica',
    );
  });

  afterAll(async () => {
    await apps.closeAll();
    await topology.stop();
  });

  it('follows the new master on a failover while jobs flow; every accepted job runs', async () => {
    const log = new JobLog();
    const logger = new CaptureLogger();
    const namespace = uniqueNamespace('sentinel');
    const app = await apps.boot(
      {
        connection: { sentinels: [{ host: '127.0.0.1', port: sentinelPort }], name: MASTER_NAME },
        namespace,
        pipelines: [{ name: 'flow', queue: FLOW_QUEUE, maxDemand: 5 }],
        commandTimeout: 2_000,
        logger,
      },
      [{ provide: JobLog, useValue: log }, FlowWorker],
    );
    const producer = new Producer(app.get(FlumeClient));
    const sentinel = topology.connect({ port: sentinelPort });
    let failedOverAt = 0;
    try {
      await log.untilCount(100, 'flow');
      // A planned failover that loses no write: hold writes on the master, let the
      // replica catch up, have the sentinel promote it, demote the old master, let go.
      await master.admin.call('CLIENT', 'PAUSE', '20000', 'WRITE');
      expect(await master.admin.call('WAIT', '1', '5000')).toBe(1);
      await sentinel.call('SENTINEL', 'FAILOVER', MASTER_NAME);
      await until(
        () =>
          sentinel.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME) as Promise<string[]>,
        (address) => address?.[1] === String(replica.port),
        'the sentinel to promote the replica',
        15_000,
      );
      // What the sentinel does to the old master a few seconds later, done now.
      await master.admin.call('REPLICAOF', '127.0.0.1', String(replica.port));
      await master.admin.call('CLIENT', 'UNPAUSE');
      failedOverAt = Date.now();
      const before = log.count('flow');
      await log.untilCount(before + 100, 'flow', 20_000);
    } finally {
      await producer.stop();
    }
    await log.until(
      () => producer.accepted.every((id) => performedIds(log).has(id)),
      `all ${producer.accepted.length} accepted jobs`,
      20_000,
    );
    const lost = producer.accepted.filter((id) => !performedIds(log).has(id));
    console.log(
      `[sentinel] failover while jobs flowed: ${producer.accepted.length} accepted, ` +
        `${producer.rejected.length} rejected (${[...new Set(producer.rejected.map((e) => e.message))].join(' | ')}), ` +
        `${lost.length} lost; engine said: ${JSON.stringify(logger.entries.filter((e) => e.level !== 'debug').map((e) => e.message))}`,
    );
    expect(lost).toEqual([]);
    expect(failedOverAt).toBeGreaterThan(0);
    // The engine's connections are on the new master now, the old one is a replica.
    const clients = (await replica.admin.call('CLIENT', 'LIST')) as string;
    expect(clients).toContain(`name=flume:${namespace}:command `);
    expect(clients).toContain(`name=flume:${namespace}:worker `);
    expect(clients).toContain(`name=flume:${namespace}:pipeline:flow `);
    expect(await master.admin.info('replication')).toMatch(/role:slave/);
    expect(logger.find(/unexpected error/)).toEqual([]);
  });
});

describe('Sentinel: closing the app', () => {
  const topology = new Topology('sentinel-close');
  const apps = new Apps();
  let proxy: TcpProxy;
  let sentinelPort: number;

  beforeAll(async () => {
    const master = await topology.redis();
    // The sentinel knows the master by the proxy's address, and so do the apps it tells.
    proxy = await TcpProxy.start(master.port);
    sentinelPort = await freePort();
    const config = join(topology.dir, 'sentinel-close.conf');
    writeFileSync(
      config,
      [
        `port ${sentinelPort}`,
        'bind 127.0.0.1',
        `dir ${topology.dir}`,
        `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${proxy.port} 1`,
        '',
      ].join('\n'),
    );
    await topology.group.spawn([config, '--sentinel'], { ready: /\+monitor master/ });
  });

  afterAll(async () => {
    await apps.closeAll();
    await proxy.close();
    await topology.stop();
  });

  /** Sockets of this process open to the sentinel. */
  function toSentinel(): number {
    const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
    return handles.filter((h) => h instanceof Socket && h.remotePort === sentinelPort).length;
  }

  // Found by the chaos run (issue 16): ioredis's quit() leaves the failover detector's
  // subscriptions to the sentinels open (redis/ioredis#1362); Flume's close ended them
  // with disconnect() only when the QUIT reply came before Redis closed the connection.
  it('leaves no connection to the sentinels, also when the reply to QUIT and the close arrive together', async () => {
    const app = await apps.boot({
      connection: { sentinels: [{ host: '127.0.0.1', port: sentinelPort }], name: MASTER_NAME },
      namespace: uniqueNamespace('sentinel-close'),
      logger: false,
    });
    await app.get(FlumeClient).jobCounts(['q']);
    // The failover detector subscribes to the sentinel once the connection is up.
    await until(
      async () => toSentinel(),
      (n) => n > 0,
      'a subscription to the sentinel',
    );
    // Over a slow link the QUIT reply and the end of the connection come in one read.
    proxy.delay(50);
    await apps.close(app);
    proxy.heal();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(toSentinel()).toBe(0);
  });
});
