import type { ChildProcess } from 'node:child_process';
import { Cluster, Redis } from 'ioredis';
import type { FlumeConnectionOptions } from '../../lib/index.js';
import { freePort } from './redis-server.js';
import { ServerGroup } from './server-processes.js';

/** A master of the local cluster. */
export interface ClusterNodeInfo {
  host: string;
  port: number;
  id: string;
}

/**
 * Env var holding the nodes of a running cluster ("127.0.0.1:7000,127.0.0.1:7001,...")
 * for specs that run against it instead of the single Redis (see clusterConnectionFromEnv).
 */
export const CLUSTER_NODES_ENV = 'FLUME_TEST_CLUSTER_NODES';

/** `connection` for the cluster named by FLUME_TEST_CLUSTER_NODES, or undefined when unset. */
export function clusterConnectionFromEnv(): FlumeConnectionOptions | undefined {
  const nodes = process.env[CLUSTER_NODES_ENV];
  if (!nodes) return undefined;
  return {
    cluster: nodes.split(',').map((node) => {
      const [host, port] = node.trim().split(':');
      return { host, port: Number(port) };
    }),
  };
}

/** CRC16/XMODEM, as Redis Cluster hashes keys. */
function crc16(data: Buffer): number {
  let crc = 0;
  for (const byte of data) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** The hash slot of `key`, computed here (a `{tag}` hashes alone, as in Redis). */
export function keySlot(key: string): number {
  const open = key.indexOf('{');
  const close = open >= 0 ? key.indexOf('}', open + 1) : -1;
  const hashed = close > open + 1 ? key.slice(open + 1, close) : key;
  return crc16(Buffer.from(hashed)) % 16_384;
}

/**
 * A queue name `<prefix>-<n>` whose keys land on shard `shard` (0-based) of a cluster
 * of `masters` made by `redis-cli --cluster create`, which gives each master an equal
 * run of slots in the order the nodes were listed. Static, so @Worker can use it; a
 * test checks where the keys really are with `LocalCluster.ownerOf`.
 */
export function queueOnShard(shard: number, prefix: string, masters = 3): string {
  const perMaster = 16_384 / masters;
  const first = shard === 0 ? 0 : Math.round(shard * perMaster - 1) + 1;
  const last = shard === masters - 1 ? 16_383 : Math.round((shard + 1) * perMaster - 1);
  for (let n = 0; ; n++) {
    const slot = keySlot(`{${prefix}-${n}}`);
    if (slot >= first && slot <= last) return `${prefix}-${n}`;
  }
}

/**
 * A Redis Cluster of `masters` redis-server processes on free ports (no replicas, no
 * persistence), joined with `redis-cli --cluster create`, in a temp dir of its own.
 * `LocalCluster.start()` in beforeAll, `stop()` in afterAll.
 */
export class LocalCluster {
  private readonly clients = new Set<Redis | Cluster>();
  private readonly byPort = new Map<number, Redis>();

  private constructor(
    private readonly group: ServerGroup,
    readonly nodes: ClusterNodeInfo[],
    /** Each node's process and arguments, by port: what `restart` starts again. */
    private readonly servers: Map<number, { child: ChildProcess; args: string[] }>,
  ) {}

  /**
   * `nodeArgs(port)`: more redis-server arguments for a node, after the defaults (the
   * last of a repeated option wins), e.g. an append-only file per node for `restart`.
   */
  static async start(
    masters = 3,
    nodeArgs: (port: number) => string[] = () => [],
  ): Promise<LocalCluster> {
    const group = new ServerGroup('cluster');
    const servers = new Map<number, { child: ChildProcess; args: string[] }>();
    try {
      const ports: number[] = [];
      for (let i = 0; i < masters; i++) ports.push(await freePort());
      await Promise.all(
        ports.map(async (port) => {
          const args = [
            '--port',
            String(port),
            // The bus port is set too: the default (port + 10000) may be taken or out of range.
            '--cluster-port',
            String(await freePort()),
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            `nodes-${port}.conf`,
            '--cluster-node-timeout',
            '3000',
            '--bind',
            '127.0.0.1',
            '--dir',
            group.dir,
            '--save',
            '',
            '--appendonly',
            'no',
            ...nodeArgs(port),
          ];
          servers.set(port, { child: await group.spawn(args), args });
        }),
      );
      await group.run('redis-cli', [
        '--cluster',
        'create',
        ...ports.map((port) => `127.0.0.1:${port}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ]);
      const nodes: ClusterNodeInfo[] = [];
      for (const port of ports) {
        const redis = new Redis({ port, lazyConnect: true });
        try {
          nodes.push({
            host: '127.0.0.1',
            port,
            id: (await redis.call('CLUSTER', 'MYID')) as string,
          });
        } finally {
          redis.disconnect();
        }
      }
      const cluster = new LocalCluster(group, nodes, servers);
      await cluster.untilStable();
      return cluster;
    } catch (err) {
      await group.stopAll();
      throw err;
    }
  }

  /** The `connection` option for this cluster; `extra` adds fields (clusterOptions, ...). */
  connection(extra: Partial<FlumeConnectionOptions> = {}): FlumeConnectionOptions {
    return { cluster: this.nodes.map(({ host, port }) => ({ host, port })), ...extra };
  }

  /** A Cluster client for arranging and checking state in a test; closed by stop(). */
  admin(): Cluster {
    const cluster = new Cluster(this.nodes.map(({ host, port }) => ({ host, port })));
    this.clients.add(cluster);
    return cluster;
  }

  /** A plain connection to one node (for CLUSTER commands, CLIENT LIST, per-node reads). */
  node(port: number): Redis {
    let redis = this.byPort.get(port);
    if (!redis) {
      redis = new Redis({ port, host: '127.0.0.1' });
      // A node restarted on purpose drops its connections: ioredis reconnects.
      redis.on('error', () => undefined);
      this.byPort.set(port, redis);
      this.clients.add(redis);
    }
    return redis;
  }

  /** The hash slot of `key`. */
  async slotOf(key: string): Promise<number> {
    return (await this.node(this.nodes[0].port).call('CLUSTER', 'KEYSLOT', key)) as number;
  }

  /** The master that serves `slot` now. */
  async ownerOf(slot: number): Promise<ClusterNodeInfo> {
    const ranges = (await this.node(this.nodes[0].port).call('CLUSTER', 'SLOTS')) as [
      number,
      number,
      [string, number, string],
    ][];
    const range = ranges.find(([from, to]) => slot >= from && slot <= to);
    if (!range) throw new Error(`no node serves slot ${slot}`);
    return this.nodes.find((node) => node.id === range[2][2])!;
  }

  /**
   * Moves `slot` to master `to` while clients keep using it, as `redis-cli --cluster
   * reshard` does: IMPORTING on the target, MIGRATING on the source, MIGRATE its keys
   * in batches, then hand the slot over. Resolves to the number of keys moved.
   * `pauseMs` between batches of `batch` keys stretches the time the slot is half
   * moved, as on a slot with many keys.
   */
  async moveSlot(
    slot: number,
    to: ClusterNodeInfo,
    { batch = 100, pauseMs = 0 }: { batch?: number; pauseMs?: number } = {},
  ): Promise<number> {
    const from = await this.ownerOf(slot);
    if (from.id === to.id) throw new Error(`slot ${slot} is already on ${to.port}`);
    const source = this.node(from.port);
    const target = this.node(to.port);
    await target.call('CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', from.id);
    await source.call('CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', to.id);
    let moved = 0;
    for (;;) {
      const keys = (await source.call(
        'CLUSTER',
        'GETKEYSINSLOT',
        String(slot),
        String(batch),
      )) as string[];
      if (keys.length === 0) break;
      await source.call('MIGRATE', to.host, String(to.port), '', '0', '5000', 'KEYS', ...keys);
      moved += keys.length;
      if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
    // The target first, then the source, then everyone else (as redis-cli does).
    for (const node of [
      to,
      from,
      ...this.nodes.filter((n) => n.id !== to.id && n.id !== from.id),
    ]) {
      await this.node(node.port).call('CLUSTER', 'SETSLOT', String(slot), 'NODE', to.id);
    }
    return moved;
  }

  /** Every key of `namespace`, on every master, with the port of the master holding it. */
  async keysOf(namespace: string): Promise<{ key: string; port: number }[]> {
    const found: { key: string; port: number }[] = [];
    for (const { port } of this.nodes) {
      const redis = this.node(port);
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${namespace}:*`, 'COUNT', 1000);
        cursor = next;
        for (const key of keys) found.push({ key, port });
      } while (cursor !== '0');
    }
    return found;
  }

  /** Deletes every key of `namespace` (one node at a time: keys of many slots). */
  async deleteNamespace(namespace: string): Promise<void> {
    for (const { key, port } of await this.keysOf(namespace)) await this.node(port).unlink(key);
  }

  /** Resolves once every master reports cluster_state:ok and knows every other. */
  async untilStable(timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const states = await Promise.all(
        this.nodes.map(async ({ port }) => {
          const info = (await this.node(port).call('CLUSTER', 'INFO')) as string;
          return (
            /cluster_state:ok/.test(info) &&
            new RegExp(`cluster_known_nodes:${this.nodes.length}\\b`).test(info)
          );
        }),
      );
      if (states.every(Boolean)) return;
      if (Date.now() > deadline) throw new Error('the cluster did not reach cluster_state:ok');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /**
   * Stops node `port` (SIGKILL: a crash; SIGTERM: a clean shutdown, which writes its
   * files) and, `downMs` later, starts it again with the same arguments and folder.
   * Resolves once it accepts connections again.
   */
  async restart(port: number, signal: 'SIGKILL' | 'SIGTERM', downMs: number): Promise<void> {
    const server = this.servers.get(port);
    if (!server) throw new Error(`no node of this cluster listens on ${port}`);
    const { child } = server;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill(signal);
      await exited;
    }
    await this.group.kill(child);
    await new Promise((resolve) => setTimeout(resolve, downMs));
    server.child = await this.group.spawn(server.args);
  }

  /** Closes every client and stops every node. */
  async stop(): Promise<void> {
    for (const client of this.clients) client.disconnect();
    this.clients.clear();
    this.byPort.clear();
    await this.group.stopAll();
  }
}
