import type { ConnectionOptions } from 'node:tls';
import type { Cluster, ClusterOptions, Redis } from 'ioredis';
import { FlumeConfigError } from './errors/index.js';
import { describe } from './payload.js';

/** A Redis node or sentinel. */
export interface FlumeNodeAddress {
  host: string;
  port: number;
}

/**
 * Where Redis is: one server (`url`, or `host` and `port`), a Redis Cluster
 * (`cluster`), or a master found through Sentinel (`sentinels` and `name`).
 * `username`, `password` and `tls` apply to the Redis servers in each case.
 */
export interface FlumeConnectionOptions {
  /** `redis://[user:password@]host:port/db` or `rediss://` for TLS. */
  url?: string;
  host?: string;
  port?: number;
  /** Database number; a Redis Cluster has only 0. */
  db?: number;
  /** ACL user (Redis 6+). */
  username?: string;
  password?: string;
  /** TLS options (as for `tls.connect`, e.g. `{ ca }`); `true` for the defaults. */
  tls?: ConnectionOptions | true;
  /** Redis Cluster: some of its nodes (one that answers is enough; the rest are discovered). */
  cluster?: FlumeNodeAddress[];
  /** ioredis ClusterOptions for `cluster`; the engine sets timeouts and connection names over them. */
  clusterOptions?: ClusterOptions;
  /** Sentinel: the sentinels that know where the master is. */
  sentinels?: FlumeNodeAddress[];
  /** Sentinel: the master's name, as in `sentinel monitor <name> ...`. */
  name?: string;
  /** Sentinel: ACL user of the sentinels, when they require one. */
  sentinelUsername?: string;
  /** Sentinel: password of the sentinels, when they require one. */
  sentinelPassword?: string;
}

/** What the `connection` option holds once resolved: options, or an ioredis client to copy. */
export type FlumeConnection = FlumeConnectionOptions | Redis | Cluster;

const DEFAULT_URL = 'redis://127.0.0.1:6379';
const SHARED_FIELDS = ['username', 'password', 'tls'];
const SINGLE_FIELDS = ['url', 'host', 'port', 'db', ...SHARED_FIELDS];
const CLUSTER_FIELDS = ['cluster', 'clusterOptions', ...SHARED_FIELDS];
const SENTINEL_FIELDS = [
  'sentinels',
  'name',
  'db',
  ...SHARED_FIELDS,
  'sentinelUsername',
  'sentinelPassword',
];

/** An ioredis Redis or Cluster (duck-typed: the app may load its own copy of ioredis). */
export function isRedisClient(value: unknown): value is Redis | Cluster {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Redis).duplicate === 'function' &&
    typeof (value as Redis).options === 'object'
  );
}

/** An ioredis Cluster; its `isCluster` is true (a Redis has false). */
export function isClusterClient(value: unknown): value is Cluster {
  return isRedisClient(value) && (value as Cluster).isCluster === true;
}

function invalid(field: string, expected: string, got?: string): FlumeConfigError {
  const shown = got === undefined ? '' : `, got: ${got}`;
  return new FlumeConfigError(`Invalid option "connection.${field}": expected ${expected}${shown}`);
}

/** Shows a value that may hold credentials: a URL's user info is masked. */
function describeMasked(value: unknown): string {
  return describe(typeof value === 'string' ? value.replace(/^.*@/s, '***@') : value);
}

function checkPort(field: string, port: unknown): void {
  if (!Number.isInteger(port) || (port as number) < 1 || (port as number) > 65535) {
    throw invalid(field, 'a port number (1-65535)', describe(port));
  }
}

/** Checks a list of `{ host, port }`; messages show host and port only, never other fields. */
function checkAddresses(field: string, value: unknown): FlumeNodeAddress[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw invalid(
      field,
      'a non-empty array of { host, port }',
      Array.isArray(value) ? '[]' : undefined,
    );
  }
  return value.map((item: unknown, i) => {
    const where = `${field}[${i}]`;
    if (item === null || typeof item !== 'object') throw invalid(where, '{ host, port }');
    const { host, port } = item as Record<string, unknown>;
    if (typeof host !== 'string' || host.length === 0) {
      throw invalid(`${where}.host`, 'a non-empty string', describe(host));
    }
    checkPort(`${where}.port`, port);
    return { host, port: port as number };
  });
}

function checkString(connection: Record<string, unknown>, field: string, secret = false): void {
  const value = connection[field];
  if (value === undefined || (typeof value === 'string' && value.length > 0)) return;
  throw invalid(field, 'a non-empty string', secret ? undefined : describe(value));
}

function rejectUnknown(connection: Record<string, unknown>, known: string[], what: string): void {
  const extra = Object.keys(connection).find((key) => !known.includes(key));
  if (extra !== undefined) {
    throw new FlumeConfigError(
      `Unknown option "${extra}" of "connection"${what}. Known options: ${known.join(', ')}.`,
    );
  }
}

function checkTls(connection: Record<string, unknown>): void {
  const tls = connection.tls;
  if (tls === undefined || tls === true || (typeof tls === 'object' && tls !== null)) return;
  throw invalid('tls', 'true or TLS options ({ ca, cert, key, ... })', describe(tls));
}

function resolveCluster(connection: Record<string, unknown>): FlumeConnectionOptions {
  rejectUnknown(connection, CLUSTER_FIELDS, ' with "cluster"');
  const clusterOptions = connection.clusterOptions;
  if (
    clusterOptions !== undefined &&
    (clusterOptions === null || typeof clusterOptions !== 'object' || Array.isArray(clusterOptions))
  ) {
    throw invalid('clusterOptions', 'an object (ioredis ClusterOptions)');
  }
  return { ...connection, cluster: checkAddresses('cluster', connection.cluster) };
}

function resolveSentinel(connection: Record<string, unknown>): FlumeConnectionOptions {
  rejectUnknown(connection, SENTINEL_FIELDS, ' with "sentinels"');
  if (typeof connection.name !== 'string' || connection.name.length === 0) {
    throw invalid(
      'name',
      'the name of the master the sentinels monitor (a non-empty string)',
      describe(connection.name),
    );
  }
  checkString(connection, 'sentinelUsername');
  checkString(connection, 'sentinelPassword', true);
  return { ...connection, sentinels: checkAddresses('sentinels', connection.sentinels) };
}

function resolveSingle(connection: Record<string, unknown>): FlumeConnectionOptions {
  rejectUnknown(connection, SINGLE_FIELDS, '');
  if (connection.url !== undefined) {
    if (typeof connection.url !== 'string' || !/^rediss?:\/\//.test(connection.url)) {
      // Never echo the URL: it may hold a password.
      throw new FlumeConfigError(
        'Invalid option "connection.url": expected a redis:// or rediss:// URL.',
      );
    }
  }
  checkString(connection, 'host');
  if (connection.port !== undefined) {
    if (
      !Number.isInteger(connection.port) ||
      (connection.port as number) < 1 ||
      (connection.port as number) > 65535
    ) {
      throw new FlumeConfigError(
        `Invalid option "port" of "connection": expected a port number (1-65535), got: ${describe(connection.port)}`,
      );
    }
  }
  if (
    connection.url === undefined &&
    connection.host === undefined &&
    connection.port === undefined
  ) {
    return { ...connection, url: DEFAULT_URL } as FlumeConnectionOptions;
  }
  return connection as FlumeConnectionOptions;
}

/** Validates the `connection` option. Messages never show a password. Throws FlumeConfigError. */
export function resolveConnection(raw: unknown): FlumeConnection {
  if (raw === undefined) return { url: DEFAULT_URL };
  if (isRedisClient(raw)) return raw;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new FlumeConfigError(
      `Invalid option "connection": expected { url } or { host, port, ... } or an ioredis client, got: ${describeMasked(raw)}`,
    );
  }
  const connection = raw as Record<string, unknown>;
  if (
    connection.db !== undefined &&
    (!Number.isSafeInteger(connection.db) || (connection.db as number) < 0)
  ) {
    throw new FlumeConfigError(
      `Invalid option "db" of "connection": expected a non-negative integer, got: ${describe(connection.db)}`,
    );
  }
  checkString(connection, 'username');
  checkString(connection, 'password', true);
  checkTls(connection);
  const cluster = connection.cluster !== undefined;
  const sentinel = connection.sentinels !== undefined;
  if (cluster && sentinel) {
    throw new FlumeConfigError(
      'Invalid option "connection": set "cluster" (a Redis Cluster) or "sentinels" (Sentinel), not both.',
    );
  }
  if (cluster) return resolveCluster(connection);
  if (sentinel) return resolveSentinel(connection);
  return resolveSingle(connection);
}
