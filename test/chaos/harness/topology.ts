import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster, Redis } from 'ioredis';
import { TcpProxy } from '../../faults/support/tcp-proxy.js';
import { keySlot, LocalCluster } from '../../support/cluster.js';
import { freePort } from '../../support/redis-server.js';
import { ServerGroup } from '../../support/server-processes.js';
import { QUEUES, type ChaosConnection, type QueueRole } from '../fixtures/config.js';

/** What a fault on one Redis node reaches: every queue, or the queues whose slot it serves. */
export type Scope = 'all' | QueueRole[];

const HOST = '127.0.0.1';
const SENTINEL_MASTER = 'chaos';
/** Every write reaches the disk before its reply: a crash of Redis loses no write it acknowledged. */
const AOF = ['--appendonly', 'yes', '--appendfsync', 'always'];

/**
 * The Redis side of a chaos run: the servers the apps use, a TCP proxy in front of
 * each (the apps only ever reach Redis through one), and the ledger, a Redis of its
 * own that no fault touches. Node `i` is the i-th master (in single mode, the one
 * master there is, whichever server that is after failovers).
 */
export interface ChaosTopology {
  readonly mode: 'single' | 'cluster';
  readonly ledgerUrl: string;
  readonly nodeCount: number;
  /** How the apps connect. */
  connection(): ChaosConnection;
  /** The proxy in front of node `node`. */
  proxy(node: number): TcpProxy;
  /** Which queues a fault of node `node` reaches now. */
  scope(node: number): Promise<Scope>;
  /** Stops node `node` with `signal` and starts it again after `downMs`; says what it did. */
  restart(node: number, signal: 'SIGKILL' | 'SIGTERM', downMs: number): Promise<string>;
  /** CLIENT PAUSE on node `node` for `ms`. */
  clientPause(node: number, ms: number, mode: 'WRITE' | 'ALL'): Promise<string>;
  /** Single mode: a Sentinel failover to the replica, losing no acknowledged write. */
  failover(): Promise<string>;
  /** Cluster mode: moves the slot of `queue` to the master `offset` places after its owner. */
  moveSlot(queue: QueueRole, offset: number): Promise<string>;
  /** Ends every fault: proxies pass everything, no pause; resolves once Redis serves every slot. */
  heal(): Promise<void>;
  /** A connection (not through a proxy) to read the queues' final state. */
  reader(): Redis | Cluster;
  /** Every key of `namespace`, on every master. */
  keys(namespace: string): Promise<string[]>;
  stop(): Promise<void>;
}

/**
 * A redis-server that can be stopped and started again on the same port and folder,
 * as a master or as the replica of another port (its role now, not the one it had at
 * first: a failover swaps them).
 */
class Server {
  private child?: ChildProcess;
  readonly admin: Redis;
  /** The port this server replicates, or undefined for a master. */
  replicaOf?: number;

  constructor(
    private readonly group: ServerGroup,
    readonly port: number,
    private readonly args: string[],
  ) {
    this.admin = new Redis({ host: HOST, port, lazyConnect: true, maxRetriesPerRequest: 3 });
    this.admin.on('error', () => undefined);
  }

  static async start(
    group: ServerGroup,
    name: string,
    args: string[],
    replicaOf?: number,
  ): Promise<Server> {
    const port = await freePort();
    const dir = join(group.dir, name);
    mkdirSync(dir, { recursive: true });
    const server = new Server(group, port, [
      '--port',
      String(port),
      '--bind',
      HOST,
      '--dir',
      dir,
      '--save',
      '',
      ...args,
    ]);
    server.replicaOf = replicaOf;
    await server.start();
    return server;
  }

  async start(): Promise<void> {
    const role = this.replicaOf === undefined ? [] : ['--replicaof', HOST, String(this.replicaOf)];
    this.child = await this.group.spawn([...this.args, ...role]);
  }

  async stop(signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill(signal);
      await exited;
    }
    await this.group.kill(child);
  }

  async restart(signal: 'SIGKILL' | 'SIGTERM', downMs: number): Promise<void> {
    await this.stop(signal);
    await sleep(downMs);
    await this.start();
  }
}

/** Polls `read` until `accept` holds; throws after `timeoutMs`, naming `what`. */
async function until<T>(
  read: () => Promise<T>,
  accept: (value: T) => boolean,
  what: string,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let error: unknown;
  for (;;) {
    try {
      last = await read();
      if (accept(last)) return last;
    } catch (err) {
      error = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `Timed out waiting for ${what} (last: ${JSON.stringify(last)}${error ? `, ${String(error)}` : ''})`,
      );
    }
    await sleep(100);
  }
}

async function startLedger(group: ServerGroup): Promise<Server> {
  return Server.start(group, 'ledger', ['--appendonly', 'no']);
}

async function scanNode(redis: Redis, namespace: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${namespace}:*`, 'COUNT', 1000);
    cursor = next;
    found.push(...keys);
  } while (cursor !== '0');
  return found;
}

/**
 * Single mode: a master and a replica (each with an append-only file synced on every
 * write), one sentinel that the apps ask for the master, and a proxy in front of each
 * server. The sentinel never fails over by itself (down-after is a minute): failovers
 * are the nemesis's, planned so that no acknowledged write is lost.
 */
export class SingleTopology implements ChaosTopology {
  readonly mode = 'single';
  readonly nodeCount = 1;
  private masterIndex = 0;
  private readonly sentinelAdmin: Redis;

  private constructor(
    private readonly group: ServerGroup,
    private readonly ledger: Server,
    private readonly servers: [Server, Server],
    private readonly proxies: [TcpProxy, TcpProxy],
    private readonly sentinelPort: number,
  ) {
    this.sentinelAdmin = new Redis({ host: HOST, port: sentinelPort });
    this.sentinelAdmin.on('error', () => undefined);
  }

  static async start(): Promise<SingleTopology> {
    const group = new ServerGroup('chaos-single');
    try {
      const ledger = await startLedger(group);
      const a = await Server.start(group, 'a', AOF);
      const b = await Server.start(group, 'b', AOF, a.port);
      await until(
        () => b.admin.info('replication'),
        (info) => /master_link_status:up/.test(info),
        'the replica to sync',
        15_000,
      );
      const sentinelPort = await freePort();
      const config = join(group.dir, 'sentinel.conf');
      writeFileSync(
        config,
        [
          `port ${sentinelPort}`,
          `bind ${HOST}`,
          `dir ${group.dir}`,
          `sentinel monitor ${SENTINEL_MASTER} ${HOST} ${a.port} 1`,
          `sentinel down-after-milliseconds ${SENTINEL_MASTER} 60000`,
          `sentinel failover-timeout ${SENTINEL_MASTER} 20000`,
          '',
        ].join('\n'),
      );
      await group.spawn([config, '--sentinel'], { ready: /\+monitor master/ });
      const proxies: [TcpProxy, TcpProxy] = [
        await TcpProxy.start(a.port),
        await TcpProxy.start(b.port),
      ];
      const topology = new SingleTopology(group, ledger, [a, b], proxies, sentinelPort);
      await topology.untilReplicaKnown(30_000);
      return topology;
    } catch (err) {
      await group.stopAll();
      throw err;
    }
  }

  get ledgerUrl(): string {
    return `redis://${HOST}:${this.ledger.port}`;
  }

  private get master(): Server {
    return this.servers[this.masterIndex];
  }

  private get replica(): Server {
    return this.servers[1 - this.masterIndex];
  }

  connection(): ChaosConnection {
    return {
      kind: 'sentinel',
      sentinels: [{ host: HOST, port: this.sentinelPort }],
      name: SENTINEL_MASTER,
      natMap: Object.fromEntries(
        this.servers.map((server, i) => [
          `${HOST}:${server.port}`,
          { host: HOST, port: this.proxies[i].port },
        ]),
      ),
    };
  }

  proxy(): TcpProxy {
    return this.proxies[this.masterIndex];
  }

  async scope(): Promise<Scope> {
    return 'all';
  }

  async restart(_node: number, signal: 'SIGKILL' | 'SIGTERM', downMs: number): Promise<string> {
    const master = this.master;
    await master.restart(signal, downMs);
    await until(
      () => this.replica.admin.info('replication'),
      (info) => /master_link_status:up/.test(info),
      'the replica to sync again',
      30_000,
    ).catch(() => undefined);
    return `master ${master.port} ${signal}, down ${downMs} ms`;
  }

  async clientPause(_node: number, ms: number, mode: 'WRITE' | 'ALL'): Promise<string> {
    await this.master.admin.call('CLIENT', 'PAUSE', String(ms), mode);
    await sleep(ms);
    return `master ${this.master.port} CLIENT PAUSE ${ms} ${mode}`;
  }

  /**
   * A failover that loses no write (as in test/topology/sentinel.spec.ts): writes held
   * on the master, the replica caught up (WAIT), the sentinel promotes it, the old master
   * becomes its replica, writes let go (they meet READONLY there, and clients reconnect).
   */
  async failover(): Promise<string> {
    await this.untilReplicaKnown(30_000);
    const from = this.master;
    const to = this.replica;
    await from.admin.call('CLIENT', 'PAUSE', '30000', 'WRITE');
    try {
      const acked = (await from.admin.call('WAIT', '1', '5000')) as number;
      if (acked !== 1) throw new Error(`the replica acknowledged ${acked} of 1 (WAIT)`);
      await this.sentinelAdmin.call('SENTINEL', 'FAILOVER', SENTINEL_MASTER);
      await until(
        () =>
          this.sentinelAdmin.call(
            'SENTINEL',
            'GET-MASTER-ADDR-BY-NAME',
            SENTINEL_MASTER,
          ) as Promise<string[]>,
        (address) => address?.[1] === String(to.port),
        'the sentinel to promote the replica',
        20_000,
      );
      await from.admin.call('REPLICAOF', HOST, String(to.port));
      from.replicaOf = to.port;
      to.replicaOf = undefined;
      this.masterIndex = 1 - this.masterIndex;
    } finally {
      await from.admin.call('CLIENT', 'UNPAUSE');
    }
    return `master ${from.port} -> ${to.port}`;
  }

  async moveSlot(): Promise<string> {
    throw new Error('no slots to move in single mode');
  }

  async heal(): Promise<void> {
    for (const proxy of this.proxies) proxy.heal();
    for (const server of this.servers)
      await server.admin.call('CLIENT', 'UNPAUSE').catch(() => undefined);
  }

  reader(): Redis {
    const redis = new Redis({ host: HOST, port: this.master.port });
    redis.on('error', () => undefined);
    return redis;
  }

  keys(namespace: string): Promise<string[]> {
    return scanNode(this.master.admin, namespace);
  }

  async stop(): Promise<void> {
    for (const proxy of this.proxies) await proxy.close();
    this.sentinelAdmin.disconnect();
    for (const server of [...this.servers, this.ledger]) server.admin.disconnect();
    await this.group.stopAll();
  }

  /** Resolves once the sentinel knows the replica, in sync with the master (a failover needs one). */
  private async untilReplicaKnown(timeoutMs: number): Promise<void> {
    const port = String(this.replica.port);
    await until(
      () => this.sentinelAdmin.call('SENTINEL', 'REPLICAS', SENTINEL_MASTER) as Promise<string[][]>,
      (replicas) =>
        replicas.some((fields) => {
          const field = (name: string) => fields[fields.indexOf(name) + 1];
          return (
            field('port') === port &&
            field('flags') === 'slave' &&
            field('master-link-status') === 'ok'
          );
        }),
      'the sentinel to know the replica',
      timeoutMs,
    );
  }
}

/**
 * Cluster mode: three masters (no replicas), each with an append-only file synced on
 * every write, a proxy in front of each; the apps' natMap sends them to the proxies
 * whatever node the cluster names.
 */
export class ClusterTopology implements ChaosTopology {
  readonly mode = 'cluster';
  readonly nodeCount = 3;
  private readonly admin: Cluster;

  private constructor(
    private readonly group: ServerGroup,
    private readonly ledger: Server,
    private readonly cluster: LocalCluster,
    private readonly proxies: TcpProxy[],
  ) {
    this.admin = cluster.admin();
    this.admin.on('error', () => undefined);
  }

  static async start(): Promise<ClusterTopology> {
    const group = new ServerGroup('chaos-cluster');
    let cluster: LocalCluster | undefined;
    try {
      const ledger = await startLedger(group);
      cluster = await LocalCluster.start(3, (port) => [...AOF, '--appenddirname', `aof-${port}`]);
      const proxies = await Promise.all(cluster.nodes.map((node) => TcpProxy.start(node.port)));
      return new ClusterTopology(group, ledger, cluster, proxies);
    } catch (err) {
      await cluster?.stop();
      await group.stopAll();
      throw err;
    }
  }

  get ledgerUrl(): string {
    return `redis://${HOST}:${this.ledger.port}`;
  }

  connection(): ChaosConnection {
    return {
      kind: 'cluster',
      nodes: this.proxies.map((proxy) => ({ host: HOST, port: proxy.port })),
      natMap: Object.fromEntries(
        this.cluster.nodes.map((node, i) => [
          `${HOST}:${node.port}`,
          { host: HOST, port: this.proxies[i].port },
        ]),
      ),
    };
  }

  proxy(node: number): TcpProxy {
    return this.proxies[node];
  }

  async scope(node: number): Promise<Scope> {
    const id = this.cluster.nodes[node].id;
    const queues: QueueRole[] = [];
    for (const [role, queue] of Object.entries(QUEUES) as [QueueRole, string][]) {
      if ((await this.cluster.ownerOf(keySlot(queue))).id === id) queues.push(role);
    }
    return queues;
  }

  async restart(node: number, signal: 'SIGKILL' | 'SIGTERM', downMs: number): Promise<string> {
    const { port } = this.cluster.nodes[node];
    await this.cluster.restart(port, signal, downMs);
    await this.cluster.untilStable(30_000);
    return `master ${port} ${signal}, down ${downMs} ms`;
  }

  async clientPause(node: number, ms: number, mode: 'WRITE' | 'ALL'): Promise<string> {
    const { port } = this.cluster.nodes[node];
    await this.cluster.node(port).call('CLIENT', 'PAUSE', String(ms), mode);
    await sleep(ms);
    return `master ${port} CLIENT PAUSE ${ms} ${mode}`;
  }

  async failover(): Promise<string> {
    throw new Error('the cluster of the chaos run has no replicas to fail over to');
  }

  async moveSlot(queue: QueueRole, offset: number): Promise<string> {
    const slot = keySlot(QUEUES[queue]);
    const from = await this.cluster.ownerOf(slot);
    const index = this.cluster.nodes.findIndex((node) => node.id === from.id);
    const to = this.cluster.nodes[(index + offset) % this.cluster.nodes.length];
    // Small batches with a pause between them: the slot stays half moved for a while.
    const moved = await this.cluster.moveSlot(slot, to, { batch: 5, pauseMs: 50 });
    return `slot ${slot} (${queue}) ${from.port} -> ${to.port}, ${moved} keys`;
  }

  async heal(): Promise<void> {
    for (const proxy of this.proxies) proxy.heal();
    for (const node of this.cluster.nodes) {
      await this.cluster
        .node(node.port)
        .call('CLIENT', 'UNPAUSE')
        .catch(() => undefined);
    }
    await this.cluster.untilStable(30_000);
  }

  reader(): Cluster {
    return this.admin;
  }

  async keys(namespace: string): Promise<string[]> {
    return (await this.cluster.keysOf(namespace)).map(({ key }) => key);
  }

  async stop(): Promise<void> {
    for (const proxy of this.proxies) await proxy.close();
    this.ledger.admin.disconnect();
    await this.cluster.stop();
    await this.group.stopAll();
  }
}
