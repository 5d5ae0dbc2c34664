import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  FlumeClient,
  FlumeConfigError,
  FlumePayloadError,
  FlumeWorkerError,
  Handler,
  Worker,
  type FlumeModuleOptions,
} from '../../lib/index.js';
import { Apps } from '../support/apps.js';
import { CaptureLogger } from '../support/capture-logger.js';
import { JobLog } from '../support/job-log.js';
import {
  deleteNamespace,
  inspector,
  keysOf,
  jobKeys,
  rawJob,
  testConnection,
  type TestRedis,
  uniqueNamespace,
} from '../support/redis.js';

@Worker('inbox')
class InboxWorker {
  constructor(private readonly log: JobLog) {}

  perform(value: unknown): void {
    this.log.record('InboxWorker', [value]);
  }

  @Handler()
  archive(value: unknown): void {
    this.log.record('InboxWorker.archive', [value]);
  }
}

@Worker('elsewhere')
class ElsewhereWorker {
  perform(): void {}
}

/** Not decorated: not a worker. */
class PlainService {
  perform(): void {}
}

describe('bad input', () => {
  const namespace = uniqueNamespace('bad-input');
  const apps = new Apps();
  const logger = new CaptureLogger();
  const options = (extra: Partial<FlumeModuleOptions> = {}): FlumeModuleOptions => ({
    connection: testConnection(),
    namespace,
    logger,
    ...extra,
  });
  let redis: TestRedis;

  beforeAll(() => {
    redis = inspector();
  });

  afterAll(async () => {
    await apps.closeAll();
    await deleteNamespace(redis, namespace);
    redis.disconnect();
  });

  describe('args and context that JSON cannot carry', () => {
    let client: FlumeClient;

    beforeAll(async () => {
      // Enqueue only: no pipeline, so any key in the namespace was written by an enqueue.
      const app = await apps.boot(options(), [JobLog, InboxWorker]);
      client = app.get(FlumeClient);
    });

    afterEach(async () => {
      expect(await jobKeys(redis, namespace)).toEqual([]);
    });

    const cycle: Record<string, unknown> = { name: 'loop' };
    cycle.self = cycle;
    // eslint-disable-next-line no-sparse-arrays
    const sparse = [1, , 3];
    const cases: [string, unknown[], RegExp][] = [
      ['a function', [() => 1], /^args\[0\] is a function/],
      ['a BigInt', [{ amount: 10n }], /^args\[0\]\.amount is a BigInt/],
      ['a cycle', [cycle], /^args\[0\]\.self refers back to itself/],
      ['a hole', sparse, /^args has a hole at index 1/],
      ['undefined', ['a', undefined], /^args\[1\] is undefined/],
      ['NaN', [{ ratio: NaN }], /^args\[0\]\.ratio is NaN/],
      ['a Date', [new Date()], /^args\[0\] is a Date.*toISOString/],
      ['a Map', [new Map([['k', 1]])], /^args\[0\] is a Map/],
    ];

    it.each(cases)('refuses %s in args before writing anything', async (_, args, message) => {
      await expect(client.enqueue('inbox', 'InboxWorker', args)).rejects.toThrow(FlumePayloadError);
      await expect(client.enqueue('inbox', InboxWorker, args as [unknown])).rejects.toThrow(
        message,
      );
      await expect(client.enqueueIn('inbox', 1_000, 'InboxWorker', args)).rejects.toThrow(message);
      await expect(
        client.enqueueAt('inbox', new Date(Date.now() + 1_000), InboxWorker, args as [unknown]),
      ).rejects.toThrow(message);
    });

    it('refuses a whole bulk enqueue for one bad job, naming it', async () => {
      const error = await client
        .bulkEnqueue('inbox', [
          { worker: InboxWorker, args: [1] },
          { worker: InboxWorker, args: [2] },
          { worker: InboxWorker, args: [{ when: new Date() }] },
        ])
        .catch((err: unknown) => err);
      expect(error).toBeInstanceOf(FlumePayloadError);
      expect((error as Error).message).toMatch(
        /^Job 2 of the bulk enqueue: args\[0\]\.when is a Date/,
      );
    });

    it('refuses a bad context, and args that are not an array', async () => {
      await expect(
        client.enqueue('inbox', InboxWorker, [1], { context: { at: new Date() } }),
      ).rejects.toThrow(/^context\.at is a Date/);
      await expect(
        client.enqueue('inbox', InboxWorker, [1], { context: 'request-1' as never }),
      ).rejects.toThrow(/^context must be a plain object, got: "request-1"/);
      await expect(client.enqueue('inbox', 'InboxWorker', 5 as never)).rejects.toThrow(
        /^args must be an array .*got: 5/,
      );
      await expect(
        client.enqueue('inbox', 'InboxWorker', 'perform', null as never),
      ).rejects.toThrow(/^args must be an array .*got: null/);
    });

    it('refuses a queue name that cannot go in a key', async () => {
      await expect(client.enqueue('my queue', 'Remote', [])).rejects.toThrow(
        /Invalid queue name: it must not contain braces or whitespace, got: "my queue"/,
      );
      await expect(client.enqueue('a{b}', 'Remote', [])).rejects.toThrow(FlumePayloadError);
    });
  });

  describe('enqueue of something that is not a worker of that queue', () => {
    let client: FlumeClient;

    beforeAll(async () => {
      const app = await apps.boot(options(), [JobLog, InboxWorker, ElsewhereWorker]);
      client = app.get(FlumeClient);
    });

    afterEach(async () => {
      expect(await jobKeys(redis, namespace)).toEqual([]);
    });

    it('refuses a class without @Worker', async () => {
      await expect(client.enqueue('inbox', PlainService, [])).rejects.toThrow(
        new FlumeWorkerError(
          `PlainService is not a worker: decorate it with @Worker('inbox') and list it in a module's providers.`,
        ),
      );
      await expect(
        client.bulkEnqueue('inbox', [{ worker: PlainService, args: [] }]),
      ).rejects.toThrow(FlumeWorkerError);
    });

    it('refuses a worker sent to a queue it does not handle, as a class or by name', async () => {
      const expected =
        'Worker "ElsewhereWorker" handles queue "elsewhere" (see its @Worker), not "inbox". ' +
        'Enqueue it to "elsewhere", or declare the worker on "inbox".';
      await expect(client.enqueue('inbox', ElsewhereWorker, [])).rejects.toThrow(
        new FlumeWorkerError(expected),
      );
      await expect(client.enqueue('inbox', 'ElsewhereWorker', [])).rejects.toThrow(expected);
      await expect(client.enqueueIn('inbox', 10, ElsewhereWorker, [])).rejects.toThrow(expected);
    });

    it('refuses a method the worker does not have', async () => {
      await expect(
        client.enqueue('inbox', InboxWorker, 'missing' as never, [] as never),
      ).rejects.toThrow(
        new FlumeWorkerError(
          'Worker "InboxWorker" has no handler "missing" (its handlers: perform, archive); ' +
            "a job can call only the worker's default method (@Worker({ method }), 'perform' by default) " +
            'and its methods marked @Handler().',
        ),
      );
      await expect(client.enqueue('inbox', 'InboxWorker', 'constructor', [])).rejects.toThrow(
        /has no handler "constructor"/,
      );
      await expect(
        client.bulkEnqueue('inbox', [{ worker: InboxWorker, args: [], function: 'toString' }]),
      ).rejects.toThrow(/has no handler "toString"/);
    });

    it('refuses a worker that is neither a class nor a name', async () => {
      await expect(client.enqueue('inbox', 42 as never, [])).rejects.toThrow(
        /Expected a worker class or a worker name, got: 42/,
      );
      await expect(client.enqueue('inbox', '', [])).rejects.toThrow(FlumeWorkerError);
      await expect(client.bulkEnqueue('inbox', 'jobs' as never)).rejects.toThrow(
        /bulkEnqueue: expected an array/,
      );
    });
  });

  describe('jobs in Redis that cannot run', () => {
    it('buries each with the reason, and keeps running the next good job', async () => {
      const keys = keysOf(namespace, 'inbox');
      const app = await apps.boot(
        options({ pipelines: [{ name: 'inbox_pipeline', queue: 'inbox', maxDemand: 1 }] }),
        [JobLog, InboxWorker, ElsewhereWorker],
      );
      const log = app.get(JobLog);
      const bad = {
        notJson: '{"jid": "j1", "class": ',
        notObject: '[1, 2, 3]',
        noMethod: rawJob({
          jid: 'j-method',
          queue: 'inbox',
          class: 'InboxWorker',
          function: 'gone',
        }),
        protoMethod: rawJob({
          jid: 'j-proto',
          queue: 'inbox',
          class: 'InboxWorker',
          function: 'constructor',
        }),
        argsNotArray: rawJob({ jid: 'j-args', queue: 'inbox', class: 'InboxWorker', args: 'x' }),
      };
      // Workers this process does not have (a rolling deploy): retried, not buried.
      const unknown = {
        noWorker: rawJob({ jid: 'j-nobody', queue: 'inbox', class: 'Nobody' }),
        otherQueue: rawJob({ jid: 'j-other', queue: 'inbox', class: 'ElsewhereWorker' }),
      };
      await redis.rpush(
        keys.waiting,
        ...Object.values(bad),
        ...Object.values(unknown),
        rawJob({ queue: 'inbox', class: 'InboxWorker', args: ['good-1'] }),
      );

      await log.untilCount(1, 'InboxWorker');
      expect(log.performed.map((p) => p.args[0])).toEqual(['good-1']);
      await expect.poll(() => redis.zcard(keys.dead)).toBe(Object.keys(bad).length);
      const dead = (await redis.zrange(keys.dead, '0', '-1')).map((m) => JSON.parse(m));
      const byJid = (jid: string) => dead.find((job) => job.jid === jid);
      const unreadable = dead.filter((job) => job.jid === null);

      // What does not decode as a job is kept verbatim, beside the reason.
      expect(unreadable.map((job) => job.payload).sort()).toEqual(
        [bad.notJson, bad.notObject, bad.argsNotArray].sort(),
      );
      expect(unreadable.find((job) => job.payload === bad.notJson)).toMatchObject({
        queue: 'inbox',
        error_message: expect.stringMatching(/^payload is not valid JSON/),
        failed_at: expect.any(Number),
      });
      expect(unreadable.find((job) => job.payload === bad.notObject).error_message).toBe(
        'payload is not a JSON object, got: [1,2,3]',
      );
      await expect.poll(() => redis.zcard(keys.retry)).toBe(2);
      const retrying = (await redis.zrange(keys.retry, '0', '-1')).map((m) => JSON.parse(m));
      const retried = (jid: string) => retrying.find((job) => job.jid === jid);
      expect(retried('j-nobody')).toMatchObject({ retry_count: 1, class: 'Nobody' });
      expect(retried('j-nobody').error_message).toBe(
        'no worker named "Nobody" is registered for queue "inbox" (registered there: InboxWorker); ' +
          'a @Worker class is registered only when a module lists it in its providers',
      );
      expect(retried('j-other').error_message).toMatch(
        /no worker named "ElsewhereWorker" .*"inbox"/,
      );
      expect(byJid('j-method')).toMatchObject({
        class: 'InboxWorker',
        function: 'gone',
        error_message: expect.stringMatching(
          /^worker "InboxWorker" has no handler "gone" \(its handlers: perform, archive\); /,
        ),
        failed_at: expect.any(Number),
      });
      expect(byJid('j-proto').error_message).toMatch(
        /^worker "InboxWorker" has no handler "constructor"/,
      );
      expect(unreadable.find((job) => job.payload === bad.argsNotArray).error_message).toBe(
        'malformed job: "args" must be an array',
      );
      expect(
        logger.find(/cannot run: .*(Moved to|Set aside in) the dead set/, 'error').length,
      ).toBeGreaterThanOrEqual(Object.keys(bad).length);

      // The pipeline is still alive and well.
      await app.get(FlumeClient).enqueue('inbox', InboxWorker, 'archive', ['good-2']);
      await log.untilCount(1, 'InboxWorker.archive');
      await expect.poll(() => redis.zcard(keys.processing)).toBe(0);
      expect(await redis.llen(keys.waiting)).toBe(0);
      await apps.close(app);
    });
  });
});

describe('boot-time errors', () => {
  const apps = new Apps();
  const namespace = uniqueNamespace('bad-boot');
  const base: FlumeModuleOptions = {
    connection: testConnection(),
    namespace,
    logger: new CaptureLogger(),
  };

  afterEach(async () => {
    await apps.closeAll();
  });

  afterAll(async () => {
    const redis = inspector();
    await deleteNamespace(redis, namespace);
    redis.disconnect();
  });

  async function bootError(boot: () => Promise<INestApplicationContext>): Promise<Error> {
    const error = await boot().then(
      () => undefined,
      (err: unknown) => err,
    );
    if (!(error instanceof Error)) throw new Error('the app booted');
    return error;
  }

  it('fails on two workers with the same name, naming both classes', async () => {
    @Worker('q', { name: 'Mailer' })
    class SmtpMailer {
      perform(): void {}
    }
    @Worker('q', { name: 'Mailer' })
    class SesMailer {
      perform(): void {}
    }
    const error = await bootError(() => apps.boot(base, [SmtpMailer, SesMailer]));
    expect(error).toBeInstanceOf(FlumeWorkerError);
    expect(error.message).toMatch(
      /^Two workers are named "Mailer": classes SmtpMailer and SesMailer\./,
    );
    expect(error.message).toContain(`@Worker('q', { name: '...' })`);
  });

  it('fails on a worker without its handler method', async () => {
    @Worker('q')
    class Forgetful {
      run(): void {}
    }
    @Worker('q', { method: 'handle' })
    class Misnamed {
      perform(): void {}
    }
    expect((await bootError(() => apps.boot(base, [Forgetful]))).message).toMatch(
      /^Worker class "Forgetful" has no method "perform"\. Add it, or name another method/,
    );
    expect((await bootError(() => apps.boot(base, [Misnamed]))).message).toMatch(
      /^Worker class "Misnamed" has no method "handle"/,
    );
  });

  it.each([
    [
      { pipelines: [{ name: 'p', queue: 'q', maxDemand: 0 }] },
      /"maxDemand" of pipeline "p": expected an integer >= 1, got: 0/,
    ],
    [{ visibilityTimeout: 10 }, /"visibilityTimeout": expected an integer >= 1000, got: 10/],
    [
      { backoffInitial: 1_000, backoffMax: 10 },
      /"backoffMax": expected an integer >= backoffInitial \(1000\), got: 10/,
    ],
    [{ maxRetries: -2 }, /"maxRetries": expected a non-negative integer, got: -2/],
    [{ retries: 3 }, /^Unknown option "retries"\. Known options: /],
    [{ namespace: 'a b' }, /"namespace": it must not contain braces or whitespace, got: "a b"/],
    [
      { connection: { url: 'http://x' } },
      /"connection\.url": expected a redis:\/\/ or rediss:\/\/ URL/,
    ],
  ] as [Record<string, unknown>, RegExp][])(
    'refuses invalid options at boot: %j',
    async (bad, message) => {
      const error = await bootError(() => apps.boot({ ...base, ...bad } as FlumeModuleOptions));
      expect(error).toBeInstanceOf(FlumeConfigError);
      expect(error.message).toMatch(message);
    },
  );

  it('refuses a bad @Worker when the class is declared', () => {
    expect(() => Worker('my queue')).toThrow(
      new FlumeConfigError(
        '@Worker(queue): it must not contain braces or whitespace, got: "my queue"',
      ),
    );
    expect(() => Worker('')).toThrow(FlumeConfigError);
    expect(() => Worker('q', { maxRetries: -1 })(class Negative {})).toThrow(
      /@Worker on class Negative: "maxRetries" must be a non-negative integer, got: -1/,
    );
    expect(() => Worker('q', { name: '' })(class Nameless {})).toThrow(
      /@Worker on class Nameless: "name" must be a non-empty string/,
    );
  });
});
