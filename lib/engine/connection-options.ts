import type { ConnectionOptions } from 'node:tls';
import type { Cluster, ClusterOptions, Redis } from 'ioredis';
import { FlumeConfigError } from './errors/index.js';
import {
  isMemoryConnection,
  resolveMemoryConnection,
  type FlumeMemoryConnection,
} from './memory/memory-connection.js';
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

/**
 * What a value that may hold credentials is, without showing it: a URL, a PEM key or
 * a password given in the wrong place must not reach a boot log.
 */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array (not shown: it may hold credentials)';
  const type = typeof value;
  const article = /^[aeiou]/.test(type) ? 'an' : 'a';
  return `${article} ${type} (not shown: it may hold credentials)`;
}

/** What to do about a URL that does not parse: the usual cause is an unencoded password. */
const ENCODE_ADVICE =
  'A user name or password holding characters such as "/", "?", "#" or "%" (base64 and ' +
  'generated passwords often do) must be URL-encoded with encodeURIComponent, or given ' +
  'apart as connection.password.';

/** Why `url` is no redis:// URL ioredis can read, or undefined when it is one. Never shows it. */
function urlProblem(url: unknown): string | undefined {
  if (typeof url !== 'string' || !/^rediss?:\/\//.test(url)) {
    return 'expected a redis:// or rediss:// URL.';
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
    // ioredis decodes the user and password: a stray "%" would throw there.
    decodeURIComponent(parsed.username);
    decodeURIComponent(parsed.password);
  } catch {
    // The TypeError of `new URL` carries the whole URL as `input`: never rethrown.
    return `it cannot be parsed as a URL (not shown: it may hold a password). ${ENCODE_ADVICE}`;
  }
  // A "/" in the password ends the host part early: what follows lands in the path.
  if (!/^\/?\d*$/.test(parsed.pathname)) {
    return `expected redis://[user:password@]host:port/db, with a database number as the path. ${ENCODE_ADVICE}`;
  }
  return undefined;
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
  if (tls === undefined || tls === true) return;
  if (typeof tls === 'object' && tls !== null && !Array.isArray(tls)) return;
  // Never shown: a string here is likely a PEM key or certificate.
  throw invalid('tls', 'true or TLS options ({ ca, cert, key, ... })', kindOf(tls));
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
    // Never echo the URL: it may hold a password.
    const problem = urlProblem(connection.url);
    if (problem !== undefined) {
      throw new FlumeConfigError(`Invalid option "connection.url": ${problem}`);
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
export function resolveConnection(raw: unknown): FlumeConnection | FlumeMemoryConnection {
  if (raw === undefined) return { url: DEFAULT_URL };
  if (isRedisClient(raw)) return raw;
  if (isMemoryConnection(raw)) return resolveMemoryConnection(raw);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new FlumeConfigError(
      `Invalid option "connection": expected { url } or { host, port, ... } or an ioredis client, got: ${kindOf(raw)}`,
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
