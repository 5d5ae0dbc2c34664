import { Redis } from 'ioredis';
import { isMemoryConnection } from '../../lib/engine/memory/memory-connection.js';
import { describe, expect, it } from 'vitest';
import { FlumeConfigError } from '../../lib/engine/errors/index.js';
import { DEFAULTS, resolveOptions, type FlumeOptions } from '../../lib/engine/options.js';

/** The message resolveOptions throws for `options`; fails the test when it does not throw. */
function problem(options: unknown): string {
  try {
    resolveOptions(options as FlumeOptions);
  } catch (err) {
    expect(err).toBeInstanceOf(FlumeConfigError);
    return (err as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(options)}`);
}

describe('resolveOptions: defaults', () => {
  it('applies every default in one place', () => {
    expect(resolveOptions({})).toMatchObject({
      connection: { url: 'redis://127.0.0.1:6379' },
      namespace: 'flume',
      pipelines: [],
      maxRetries: 5,
      backoffInitial: 500,
      backoffMax: 10_000,
      visibilityTimeout: 30_000,
      shutdownTimeout: 25_000,
      schedulerPollInterval: 1_000,
      commandTimeout: 5_000,
      deadMaxJobs: 10_000,
      deadMaxAge: 180 * 24 * 3600 * 1000,
      logger: undefined,
    });
    expect(DEFAULTS.maxDemand).toBe(500);
  });

  it('gives pipelines a default maxDemand and keeps given values', () => {
    const resolved = resolveOptions({
      namespace: 'app',
      pipelines: [
        { name: 'a', queue: 'qa' },
        { name: 'b', queue: 'qb', maxDemand: 3 },
      ],
      maxRetries: 0,
      backoffInitial: 10,
      backoffMax: 10,
      visibilityTimeout: 1_000,
      shutdownTimeout: 0,
      schedulerPollInterval: 10,
      commandTimeout: 1,
      deadMaxJobs: 0,
      deadMaxAge: 1,
      logger: false,
    });
    expect(resolved.pipelines).toMatchObject([
      { name: 'a', queue: 'qa', maxDemand: 500 },
      { name: 'b', queue: 'qb', maxDemand: 3 },
    ]);
    expect(resolved).toMatchObject({
      namespace: 'app',
      maxRetries: 0,
      backoffInitial: 10,
      backoffMax: 10,
      visibilityTimeout: 1_000,
      shutdownTimeout: 0,
      schedulerPollInterval: 10,
      commandTimeout: 1,
      deadMaxJobs: 0,
      deadMaxAge: 1,
      logger: false,
    });
  });

  it('keeps connection fields, and adds the default URL when no host, port or url is given', () => {
    expect(resolveOptions({ connection: { url: 'rediss://h:1/2' } }).connection).toEqual({
      url: 'rediss://h:1/2',
    });
    expect(resolveOptions({ connection: { host: 'h', port: 7000, db: 3 } }).connection).toEqual({
      host: 'h',
      port: 7000,
      db: 3,
    });
    expect(resolveOptions({ connection: { password: 'p', db: 1 } }).connection).toEqual({
      password: 'p',
      db: 1,
      url: 'redis://127.0.0.1:6379',
    });
  });

  it('accepts an ioredis client as the connection', () => {
    const client = new Redis({ lazyConnect: true });
    expect(resolveOptions({ connection: client }).connection).toBe(client);
    client.disconnect();
  });

  it('takes an ioredis client for Redis, not for the memory store (it has a memory() method)', () => {
    const client = new Redis({ lazyConnect: true });
    expect(isMemoryConnection(client)).toBe(false);
    expect(isMemoryConnection({ memory: true })).toBe(true);
    client.disconnect();
  });

  it('accepts any LoggerService-like object as logger', () => {
    const logger = { log() {}, warn() {}, error() {} };
    expect(resolveOptions({ logger }).logger).toBe(logger);
  });
});

describe('resolveOptions: errors name the option, the value and what is allowed', () => {
  it('refuses options that are not an object', () => {
    expect(problem(null)).toBe('Flume options must be an object, got: null');
    expect(problem('x')).toBe('Flume options must be an object, got: "x"');
  });

  it('refuses unknown options, listing the known ones', () => {
    const message = problem({ maxRetry: 3 });
    expect(message).toMatch(/^Unknown option "maxRetry"\. Known options: .*\.$/);
    for (const known of [
      'connection',
      'namespace',
      'pipelines',
      'maxRetries',
      'backoffInitial',
      'backoffMax',
      'visibilityTimeout',
      'shutdownTimeout',
      'schedulerPollInterval',
      'commandTimeout',
      'deadMaxJobs',
      'deadMaxAge',
      'logger',
    ]) {
      expect(message).toMatch(new RegExp(`[ ,]${known}[,.]`));
    }
  });

  it.each([
    ['maxRetries', -1, 'a non-negative integer', '-1'],
    ['maxRetries', 1.5, 'a non-negative integer', '1.5'],
    ['maxRetries', '3', 'a non-negative integer', '"3"'],
    ['backoffInitial', 0, 'an integer >= 1', '0'],
    ['backoffInitial', NaN, 'an integer >= 1', 'NaN'],
    ['backoffMax', Infinity, 'an integer >= 1', 'Infinity'],
    ['visibilityTimeout', 999, 'an integer >= 1000', '999'],
    ['shutdownTimeout', -5, 'a non-negative integer', '-5'],
    ['schedulerPollInterval', 9, 'an integer >= 10', '9'],
    ['commandTimeout', 0, 'an integer >= 1', '0'],
    ['deadMaxJobs', -1, 'a non-negative integer', '-1'],
    ['deadMaxAge', 0, 'an integer >= 1', '0'],
    ['deadMaxAge', null, 'an integer >= 1', 'null'],
  ])('%s = %s', (key, value, expected, shown) => {
    expect(problem({ [key]: value })).toBe(
      `Invalid option "${key}": expected ${expected}, got: ${shown}`,
    );
  });

  it('refuses a backoffMax below backoffInitial', () => {
    expect(problem({ backoffInitial: 500, backoffMax: 100 })).toBe(
      'Invalid option "backoffMax": expected an integer >= backoffInitial (500), got: 100',
    );
    expect(problem({ backoffInitial: 20_000 })).toBe(
      'Invalid option "backoffMax": expected an integer >= backoffInitial (20000), got: 10000',
    );
  });

  it('refuses a namespace that cannot go in a key', () => {
    expect(problem({ namespace: '' })).toBe(
      'Invalid option "namespace": expected a non-empty string, got: ""',
    );
    expect(problem({ namespace: 'my app' })).toBe(
      'Invalid option "namespace": it must not contain braces or whitespace, got: "my app"',
    );
    expect(problem({ namespace: 3 })).toBe(
      'Invalid option "namespace": expected a non-empty string, got: 3',
    );
  });

  it('refuses a bad logger', () => {
    expect(problem({ logger: true })).toBe(
      'Invalid option "logger": expected a LoggerService (log, warn, error) or false, got: true',
    );
    expect(problem({ logger: {} })).toMatch(/^Invalid option "logger".*got: \{\}$/);
  });

  describe('pipelines', () => {
    it('refuses a non-array and non-object entries', () => {
      expect(problem({ pipelines: {} })).toBe(
        'Invalid option "pipelines": expected an array of { name, queue, maxDemand? }, got: {}',
      );
      expect(problem({ pipelines: ['default'] })).toBe(
        'Invalid option "pipelines[0]": expected { name, queue, maxDemand? }, got: "default"',
      );
    });

    it('refuses a bad name or queue', () => {
      expect(problem({ pipelines: [{ queue: 'q' }] })).toBe(
        'Invalid option "name" of pipelines[0]: expected a non-empty string, got: undefined',
      );
      expect(
        problem({
          pipelines: [
            { name: 'p', queue: 'q' },
            { name: 'a{b', queue: 'q' },
          ],
        }),
      ).toBe(
        'Invalid option "name" of pipelines[1]: it must not contain braces or whitespace, got: "a{b"',
      );
      expect(problem({ pipelines: [{ name: 'p' }] })).toBe(
        'Invalid option "queue" of pipeline "p": expected a non-empty string, got: undefined',
      );
      expect(problem({ pipelines: [{ name: 'p', queue: 'my queue' }] })).toBe(
        'Invalid option "queue" of pipeline "p": it must not contain braces or whitespace, got: "my queue"',
      );
    });

    it('refuses duplicate names', () => {
      expect(
        problem({
          pipelines: [
            { name: 'p', queue: 'a' },
            { name: 'p', queue: 'b' },
          ],
        }),
      ).toBe('Two pipelines are named "p": pipeline names must be unique.');
    });

    it('refuses a bad maxDemand', () => {
      for (const [value, shown] of [
        [0, '0'],
        [-1, '-1'],
        [2.5, '2.5'],
        ['10', '"10"'],
      ] as const) {
        expect(problem({ pipelines: [{ name: 'p', queue: 'q', maxDemand: value }] })).toBe(
          `Invalid option "maxDemand" of pipeline "p": expected an integer >= 1, got: ${shown}`,
        );
      }
    });

    it('takes prefetch 0 by default, refuses a bad one, and refuses it beside a rate limit', () => {
      expect(
        resolveOptions({
          pipelines: [
            { name: 'a', queue: 'q' },
            { name: 'b', queue: 'q', prefetch: 20, groupConcurrency: 2 },
          ],
        }).pipelines,
      ).toMatchObject([{ prefetch: 0 }, { prefetch: 20 }]);
      expect(problem({ pipelines: [{ name: 'p', queue: 'q', prefetch: -1 }] })).toBe(
        'Invalid option "prefetch" of pipeline "p": expected a non-negative integer, got: -1',
      );
      const message = (limit: string) =>
        `Invalid option "prefetch" of pipeline "p": it cannot be combined with ${limit}, which counts a ` +
        'job when it is taken (a prefetched job could start a window later). Remove prefetch, or the rate limit.';
      expect(
        problem({
          pipelines: [
            { name: 'p', queue: 'q', prefetch: 5, rateLimitCount: 1, rateLimitScale: 10 },
          ],
        }),
      ).toBe(message('rateLimitCount'));
      expect(
        problem({
          pipelines: [
            { name: 'p', queue: 'q', prefetch: 5, groupRateLimitCount: 1, groupRateLimitScale: 10 },
          ],
        }),
      ).toBe(message('groupRateLimitCount'));
      // prefetch 0 is no prefetch: it goes with anything.
      expect(
        resolveOptions({
          pipelines: [
            { name: 'p', queue: 'q', prefetch: 0, rateLimitCount: 1, rateLimitScale: 10 },
          ],
        }).pipelines[0].prefetch,
      ).toBe(0);
    });

    it('refuses unknown pipeline options', () => {
      expect(problem({ pipelines: [{ name: 'p', queue: 'q', concurrency: 3 }] })).toMatch(
        /^Unknown option "concurrency" of pipeline "p"\. Known options: name, queue, maxDemand\b/,
      );
    });
  });

  describe('connection', () => {
    it('refuses a non-object', () => {
      expect(problem({ connection: 'redis://x' })).toBe(
        'Invalid option "connection": expected { url } or { host, port, ... } or an ioredis client, got: a string (not shown: it may hold credentials)',
      );
    });

    it('refuses unknown fields', () => {
      expect(problem({ connection: { hostname: 'x' } })).toBe(
        'Unknown option "hostname" of "connection". Known options: url, host, port, db, username, password, tls.',
      );
    });

    it('refuses a URL that is not redis:// without echoing it (it may hold a password)', () => {
      const message = problem({ connection: { url: 'http://user:s3cret@host:6379' } });
      expect(message).toBe(
        'Invalid option "connection.url": expected a redis:// or rediss:// URL.',
      );
      expect(message).not.toContain('s3cret');
      expect(problem({ connection: { url: 42 } })).toMatch(/connection\.url/);
    });

    it('takes { memory: true } alone, and refuses anything else beside or in it', () => {
      expect(resolveOptions({ connection: { memory: true } }).connection).toEqual({ memory: true });
      expect(problem({ connection: { memory: true, url: 'redis://h:1' } })).toBe(
        'Invalid option "connection": { memory: true } keeps jobs in this process and takes no other option, got also "url". Give either { memory: true } or where Redis is.',
      );
      expect(problem({ connection: { memory: false } })).toBe(
        'Invalid option "connection.memory": expected true (leave it out to use Redis), got: false',
      );
      expect(problem({ connection: { memory: true, password: 'p4ss' } })).not.toContain('p4ss');
    });

    it('refuses a bad port or db', () => {
      for (const [port, shown] of [
        [0, '0'],
        [65_536, '65536'],
        ['6379', '"6379"'],
      ] as const) {
        expect(problem({ connection: { port } })).toBe(
          `Invalid option "port" of "connection": expected a port number (1-65535), got: ${shown}`,
        );
      }
      expect(problem({ connection: { db: -1 } })).toBe(
        'Invalid option "db" of "connection": expected a non-negative integer, got: -1',
      );
    });
  });
});

describe('resolveOptions: the memory store runs every pipeline here', () => {
  const pipelines = [
    { name: 'a', queue: 'qa' },
    { name: 'b', queue: 'qb' },
  ];

  it('accepts runPipelines left out, or naming every declared pipeline', () => {
    for (const memory of [
      { connection: { memory: true as const } },
      { testing: 'memory' as const },
    ]) {
      expect(resolveOptions({ ...memory, pipelines }).runPipelines).toEqual(['a', 'b']);
      expect(
        resolveOptions({ ...memory, pipelines, runPipelines: ['b', 'a'] }).runPipelines,
      ).toEqual(['b', 'a']);
      expect(resolveOptions({ ...memory, runPipelines: [] }).runPipelines).toEqual([]);
    }
  });

  it('refuses runPipelines that leave a declared pipeline to another process', () => {
    expect(problem({ connection: { memory: true }, pipelines, runPipelines: [] })).toBe(
      'Invalid option "runPipelines" with connection: { memory: true }: it leaves out "a", "b". ' +
        'The memory store lives in this one process, so no other process can run those pipelines, ' +
        'and their jobs would never run. Remove runPipelines (every declared pipeline runs here), ' +
        'or use Redis to share queues between processes.',
    );
    expect(problem({ testing: 'memory', pipelines, runPipelines: ['a'] })).toMatch(
      /^Invalid option "runPipelines" with testing: 'memory': it leaves out "b"\..* or use testing: 'fake' to look at the enqueued jobs without running them\.$/,
    );
  });

  it('leaves runPipelines alone in the fake and inline modes, which run no pipeline', () => {
    const options = { connection: { memory: true as const }, pipelines, runPipelines: [] };
    expect(resolveOptions({ ...options, testing: 'fake' }).runPipelines).toEqual([]);
  });

  it("knows the 'memory' test mode", () => {
    expect(resolveOptions({ testing: 'memory' }).testing).toBe('memory');
    expect(problem({ testing: 'real' })).toBe(
      `Invalid option "testing": expected 'fake', 'inline' or 'memory', got: "real"`,
    );
  });
});
