import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import {
  isClusterClient,
  isRedisClient,
  type FlumeConnection,
  type FlumeConnectionOptions,
  type FlumeNodeAddress,
} from './connection-options.js';
import { FlumeConnectionError } from './errors/index.js';
import type { FlumeLogger } from './logger.js';
import { nextReady } from './wait.js';

/** Any client the engine runs on: one Redis (direct or through Sentinel) or a Redis Cluster. */
export type RedisClient = Redis | Cluster;

/** Reconnect quickly at first, then every 2 s at most: workers resume soon after an outage. */
const retryStrategy = (attempt: number): number => Math.min(50 * 2 ** attempt, 2_000);

/** After a failover the old master answers READONLY: reconnect and send the command again. */
const reconnectOnError = (err: Error): 2 | false =>
  err.message.startsWith('READONLY') ? 2 : false;

/** What differs between the engine's connections. */
interface Role {
  connectionName: string;
  /** Queue commands while (re)connecting; off for the command connection, which fails fast. */
  offlineQueue: boolean;
  /** Longest wait for a reply; none for blocking connections, which wait on purpose. */
  commandTimeout?: number;
  /** Reject a blocking command this long after its own timeout (a half-open socket). */
  blockingGrace?: number;
}

/** Where a connection goes, for messages: host and port only, never credentials. */
export function describeTarget(options: RedisOptions): string {
  if (options.sentinels) return describeSentinel(options.name, options.sentinels);
  return options.path ?? `${options.host ?? '127.0.0.1'}:${options.port ?? 6379}`;
}

function describeNodes(nodes: readonly Partial<FlumeNodeAddress>[]): string {
  return nodes.map((node) => `${node.host ?? '127.0.0.1'}:${node.port ?? 6379}`).join(', ');
}

function describeSentinel(name: string | undefined, sentinels: Partial<FlumeNodeAddress>[]) {
  return `master "${name}" of Sentinel ${describeNodes(sentinels)}`;
}

/** Where the engine's Redis is, for messages. */
function describeSource(source: FlumeConnection): string {
  if (isClusterClient(source)) {
    // Private in the typings, but the only record of where the cluster was first found.
    const startup = (source as unknown as { startupNodes?: FlumeNodeAddress[] }).startupNodes;
    return startup?.length ? `Redis Cluster ${describeNodes(startup)}` : 'Redis Cluster';
  }
  if (isRedisClient(source)) return describeTarget(source.options);
  if (source.cluster) return `Redis Cluster ${describeNodes(source.cluster)}`;
  if (source.sentinels) return describeSentinel(source.name, source.sentinels);
  if (source.url !== undefined) {
    // Host and port only: the URL may hold a password.
    const { hostname, port } = new URL(source.url);
    return `${hostname || '127.0.0.1'}:${port || 6379}`;
  }
  return `${source.host ?? '127.0.0.1'}:${source.port ?? 6379}`;
}

/**
 * A failed AUTH or HELLO carries its arguments (the password among them) on the
 * error ioredis emits and rejects pending commands with: blank them before anyone
 * can log or inspect them.
 */
function redact(err: unknown): void {
  const command = (err as { command?: { name?: string; args?: unknown[] } } | undefined)?.command;
  if (command?.args && /^(auth|hello)$/i.test(command.name ?? '')) {
    command.args = command.args.map(() => '[redacted]');
  }
  const lastNodeError = (err as { lastNodeError?: unknown } | undefined)?.lastNodeError;
  if (lastNodeError && lastNodeError !== err) redact(lastNodeError);
}

function tlsOption(tls: FlumeConnectionOptions['tls']): Pick<RedisOptions, 'tls'> {
  if (tls === undefined) return {};
  return { tls: tls === true ? {} : tls };
}

/**
 * Creates and watches the engine's Redis connections. The command connection fails
 * fast while Redis is away (no offline queue), so nothing waits forever; each
 * pipeline has a blocking connection of its own to wait for new jobs on (on a
 * Redis Cluster, a client of its own: a blocked command would stall every other
 * command sent to that node over a shared one).
 */
export class RedisConnections {
  /** Enqueues, scripts and queries. */
  readonly command: RedisClient;
  /** Where Redis is, for messages: never credentials. */
  readonly target: string;
  private readonly blocking = new Set<RedisClient>();
  private closing?: Promise<void>;
  private workerClient?: RedisClient;

  constructor(
    private readonly source: FlumeConnection,
    private readonly name: string,
    private readonly commandTimeout: number,
    private readonly logger: FlumeLogger,
  ) {
    this.target = describeSource(source);
    this.command = this.create({
      connectionName: `${name}:command`,
      offlineQueue: false,
      commandTimeout,
    });
  }

  /**
   * The connection of the pipelines' own commands (take, acks, settles, leases). It has
   * no command timeout: a take whose reply is slow has run in Redis, and timing it out
   * would strand the jobs it leased until the visibility timeout. A dropped connection
   * still rejects at once. Made on first use: a process that only enqueues has none.
   */
  get worker(): RedisClient {
    this.workerClient ??= this.create({
      connectionName: `${this.name}:worker`,
      offlineQueue: false,
    });
    return this.workerClient;
  }

  /** A new connection for blocking commands; closed with the others. */
  createBlocking(label: string): RedisClient {
    const redis = this.create({
      connectionName: `${this.name}:${label}`,
      offlineQueue: true,
      blockingGrace: 2_000,
    });
    this.blocking.add(redis);
    return redis;
  }

  /** Resolves when `redis` is ready; rejects with FlumeConnectionError after `timeoutMs`. */
  async ready(redis: RedisClient = this.command, timeoutMs = this.commandTimeout): Promise<void> {
    // Checked first: right after close() the socket may still report 'ready'.
    if (redis.status === 'end' || this.closing) {
      throw new FlumeConnectionError(
        'The Redis connection is closed: the Flume module has shut down.',
      );
    }
    if (redis.status === 'ready') return;
    if (redis.status === 'wait') redis.connect().catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        nextReady(redis),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new FlumeConnectionError(
                  `Redis at ${this.target} did not become ready within ${timeoutMs} ms ` +
                    `(status: ${redis.status}). Is redis-server running, and is the connection option right?`,
                ),
              ),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Runs `command` on the command connection once it is ready. Any failure becomes a
   * FlumeConnectionError saying what could not be done (`what`), then `advice`.
   */
  async send<T>(
    what: string,
    command: (redis: RedisClient) => Promise<T>,
    advice = '',
  ): Promise<T> {
    const redis = this.command;
    if (redis.status !== 'ready') await this.ready(redis);
    try {
      return await command(redis);
    } catch (err) {
      throw new FlumeConnectionError(
        `Redis at ${this.target} ${what}: ${(err as Error).message}.${advice && ` ${advice}`}`,
        { cause: err },
      );
    }
  }

  /** Closes every connection; safe to call more than once. */
  close(): Promise<void> {
    this.closing ??= this.closeAll();
    return this.closing;
  }

  private async closeAll(): Promise<void> {
    // Each pipeline has disconnected its own already (see disconnectOnce).
    for (const redis of this.blocking) disconnectOnce(redis);
    // The worker connection first: the pipelines have sent their last acks by now.
    if (this.workerClient) await closeClient(this.workerClient);
    await closeClient(this.command);
  }

  private create(role: Role): RedisClient {
    const redis = this.instantiate(role);
    this.watch(redis, role.connectionName);
    redis.connect().catch(() => undefined);
    return redis;
  }

  private instantiate(role: Role): RedisClient {
    const source = this.source;
    if (isClusterClient(source)) return source.duplicate([], clusterOptions(source.options, role));
    if (isRedisClient(source)) return source.duplicate(redisOptions(role));
    const { url, tls, cluster, clusterOptions: clusterBase, sentinels, ...rest } = source;
    if (cluster) {
      const base = clusterBase ?? {};
      const { username, password } = rest;
      return new Cluster(
        cluster.map(({ host, port }) => ({ host, port })),
        clusterOptions(
          {
            ...base,
            redisOptions: { ...base.redisOptions, username, password, ...tlsOption(tls) },
          },
          role,
        ),
      );
    }
    if (sentinels) {
      return new Redis({
        ...rest,
        sentinels: sentinels.map(({ host, port }) => ({ host, port })),
        ...tlsOption(tls),
        // Reconnect as soon as the sentinels announce a new master, rather than
        // writing to the old one until it is demoted.
        failoverDetector: true,
        ...redisOptions(role),
      });
    }
    const options = { ...rest, ...tlsOption(tls), ...redisOptions(role) };
    return url !== undefined ? new Redis(url, options) : new Redis(options);
  }

  /**
   * Logs when a connection goes down and when it is back: once each, not per retry.
   * On a Redis Cluster, a node's error is logged once until the slots are refreshed.
   */
  private watch(redis: RedisClient, label: string): void {
    let down = false;
    let since = 0;
    redis.on('error', (err: Error) => {
      redact(err);
      // Closing while a connection is still being made fails its set-up commands:
      // that is the shutdown, not an outage.
      if (down || this.closing) return;
      down = true;
      since = Date.now();
      this.logger.error(
        `Redis connection "${label}" to ${this.target} failed: ${err.message}. ` +
          'Retrying in the background; jobs wait in Redis meanwhile.',
      );
    });
    redis.on('ready', () => {
      if (!down) return;
      down = false;
      this.logger.log(
        `Redis connection "${label}" to ${this.target} is back after ${Date.now() - since} ms.`,
      );
    });
    if (!isClusterClient(redis)) return;
    const logged = new Set<string>();
    redis.on('node error', (err: Error, node: string) => {
      redact(err);
      const key = `${node} ${err.message}`;
      if (logged.has(key) || this.closing) return;
      logged.add(key);
      this.logger.warn(
        `Redis connection "${label}" to cluster node ${node} failed: ${err.message}. ` +
          'Commands go to the node that now serves the slot.',
      );
    });
    redis.on('refresh', () => logged.clear());
  }
}

/**
 * Drops `redis` unless it has ended. A second disconnect() of an ended client arms
 * ioredis's 2 s "destroy the socket" timer on a socket already closed: nothing
 * clears it, and it keeps the process alive 2 s after every shutdown.
 */
function disconnectOnce(redis: RedisClient): void {
  if (redis.status !== 'end') redis.disconnect();
}

/**
 * A connection through Sentinel: ioredis's quit() never ends its failover detector's
 * subscriptions to the sentinels (redis/ioredis#1362), only disconnect() does, and once
 * QUIT's reply and the close of the connection arrived together the client has ended
 * and a disconnect() is skipped (see disconnectOnce): those sockets kept the process
 * alive after close().
 */
function viaSentinel(redis: RedisClient): boolean {
  return !isClusterClient(redis) && Boolean(redis.options.sentinels?.length);
}

/** Quits `redis` (or drops it when it is not connected) and resolves once it is closed. */
async function closeClient(redis: RedisClient): Promise<void> {
  try {
    // Through Sentinel, a PING waits for the replies in flight as QUIT would, and the
    // disconnect() below then closes the connection and the sentinel subscriptions.
    if (redis.status === 'ready') await (viaSentinel(redis) ? redis.ping() : redis.quit());
  } catch {
    // Already gone: nothing left to flush.
  } finally {
    // Resolve once it is really closed: until 'end' the client still reports
    // 'ready', and an enqueue after close() would fail as if Redis were down.
    const ended =
      redis.status === 'end' ? undefined : new Promise((resolve) => redis.once('end', resolve));
    disconnectOnce(redis);
    // Between two reconnection attempts there is no socket to close: ioredis only
    // cancels the next attempt and never emits 'end'.
    if (redis.status !== 'reconnecting') await ended;
  }
}

/** Options of a connection to one Redis (direct or through Sentinel). */
function redisOptions(role: Role): RedisOptions {
  return {
    lazyConnect: true,
    retryStrategy,
    reconnectOnError,
    enableOfflineQueue: role.offlineQueue,
    // A command cut off by a dropped connection may have run: sending it again on
    // reconnect could take jobs nobody waits for any more (they would sit leased until
    // the visibility timeout). The caller gets the error and decides instead.
    autoResendUnfulfilledCommands: role.offlineQueue,
    // A queued blocking command waits for the connection however long it takes. The
    // others fail as soon as the connection drops: without a resend, ioredis would keep
    // them pending until its retry limit (20 reconnection attempts, ~30 s).
    maxRetriesPerRequest: role.offlineQueue ? null : 0,
    commandTimeout: role.commandTimeout,
    ...blockingOptions(role),
    connectionName: role.connectionName,
  };
}

/** Client-side timers on blocking commands, so a half-open socket cannot stall a wait forever. */
function blockingOptions(
  role: Role,
): Pick<RedisOptions, 'blockingTimeout' | 'blockingTimeoutGrace'> {
  if (role.blockingGrace === undefined) return {};
  return { blockingTimeout: role.blockingGrace, blockingTimeoutGrace: role.blockingGrace };
}

/** Options of a Cluster client; `base` is the user's (or the client's being copied). */
function clusterOptions(base: ClusterOptions, role: Role): ClusterOptions {
  return {
    ...base,
    lazyConnect: true,
    enableOfflineQueue: role.offlineQueue,
    clusterRetryStrategy: base.clusterRetryStrategy ?? retryStrategy,
    redisOptions: {
      ...base.redisOptions,
      maxRetriesPerRequest: role.offlineQueue ? null : 0,
      autoResendUnfulfilledCommands: role.offlineQueue,
      commandTimeout: role.commandTimeout,
      ...blockingOptions(role),
      connectionName: role.connectionName,
    },
  };
}
