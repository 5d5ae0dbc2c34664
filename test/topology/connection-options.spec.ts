import { Cluster } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { FlumeConfigError } from '../../lib/index.js';
import { resolveOptions, type FlumeOptions } from '../../lib/engine/options.js';

const SECRET = 'hunter2-S3cret';

function problem(options: FlumeOptions): string {
  try {
    resolveOptions(options);
  } catch (err) {
    expect(err).toBeInstanceOf(FlumeConfigError);
    const message = (err as Error).message;
    expect(message).not.toContain(SECRET);
    return message;
  }
  throw new Error('expected a FlumeConfigError');
}

const connection = (value: unknown) => ({ connection: value }) as FlumeOptions;

describe('connection option: Cluster, Sentinel, TLS, credentials', () => {
  it('keeps a cluster, a sentinel set-up and an ioredis Cluster as given', () => {
    const cluster = { cluster: [{ host: 'a', port: 7000 }], password: SECRET, tls: true as const };
    expect(resolveOptions(connection(cluster)).connection).toEqual(cluster);
    const sentinel = {
      sentinels: [{ host: 's', port: 26379 }],
      name: 'mymaster',
      db: 2,
      sentinelPassword: SECRET,
    };
    expect(resolveOptions(connection(sentinel)).connection).toEqual(sentinel);
    const client = new Cluster([{ host: '127.0.0.1', port: 7000 }], { lazyConnect: true });
    expect(resolveOptions(connection(client)).connection).toBe(client);
    client.disconnect();
  });

  it('refuses a bad list of nodes, showing host and port only', () => {
    expect(problem(connection({ cluster: [] }))).toBe(
      'Invalid option "connection.cluster": expected a non-empty array of { host, port }, got: []',
    );
    expect(problem(connection({ cluster: 'a:7000' }))).toBe(
      'Invalid option "connection.cluster": expected a non-empty array of { host, port }',
    );
    expect(
      problem(
        connection({
          cluster: [
            { host: 'a', port: 7000 },
            { host: 'b', password: SECRET },
          ],
        }),
      ),
    ).toBe(
      'Invalid option "connection.cluster[1].port": expected a port number (1-65535), got: undefined',
    );
    expect(problem(connection({ sentinels: [{ host: '', port: 1 }], name: 'm' }))).toBe(
      'Invalid option "connection.sentinels[0].host": expected a non-empty string, got: ""',
    );
  });

  it('refuses fields that do not go together', () => {
    expect(problem(connection({ cluster: [{ host: 'a', port: 1 }], db: 1 }))).toBe(
      'Unknown option "db" of "connection" with "cluster". Known options: cluster, clusterOptions, username, password, tls.',
    );
    expect(problem(connection({ cluster: [{ host: 'a', port: 1 }], url: 'redis://a' }))).toMatch(
      /^Unknown option "url" of "connection" with "cluster"/,
    );
    expect(
      problem(
        connection({
          cluster: [{ host: 'a', port: 1 }],
          sentinels: [{ host: 'a', port: 1 }],
          name: 'm',
        }),
      ),
    ).toBe(
      'Invalid option "connection": set "cluster" (a Redis Cluster) or "sentinels" (Sentinel), not both.',
    );
    expect(problem(connection({ sentinels: [{ host: 's', port: 1 }] }))).toMatch(
      /^Invalid option "connection\.name": expected the name of the master/,
    );
    expect(problem(connection({ cluster: [{ host: 'a', port: 1 }], clusterOptions: 3 }))).toBe(
      'Invalid option "connection.clusterOptions": expected an object (ioredis ClusterOptions)',
    );
  });

  it('never shows a password, wherever it is', () => {
    expect(problem(connection({ password: 42 }))).toBe(
      'Invalid option "connection.password": expected a non-empty string',
    );
    expect(
      problem(
        connection({ sentinels: [{ host: 's', port: 1 }], name: 'm', sentinelPassword: [SECRET] }),
      ),
    ).toBe('Invalid option "connection.sentinelPassword": expected a non-empty string');
    expect(problem(connection(`redis://user:${SECRET}@host:6379`))).toBe(
      'Invalid option "connection": expected { url } or { host, port, ... } or an ioredis client, got: a string (not shown: it may hold credentials)',
    );
    expect(problem(connection({ url: `http://user:${SECRET}@host` }))).toMatch(/connection\.url/);
    expect(problem(connection({ url: `redis://u:${SECRET}@h`, hostname: 'x' }))).toMatch(
      /^Unknown option "hostname"/,
    );
    expect(problem(connection({ tls: 'yes' }))).toBe(
      'Invalid option "connection.tls": expected true or TLS options ({ ca, cert, key, ... }), got: a string (not shown: it may hold credentials)',
    );
  });
});
