import 'reflect-metadata';
import { Global, Injectable, Module, type OnModuleDestroy } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { FlumeClient, FlumeModule, Worker } from '../../lib/index.js';
import { JobLog } from '../support/job-log.js';
import { deleteNamespace, inspector, testConnection, uniqueNamespace } from '../support/redis.js';

/** A resource a worker needs, closed by its module on shutdown (as a database pool is). */
@Injectable()
class Db implements OnModuleDestroy {
  open = true;

  async onModuleDestroy(): Promise<void> {
    this.open = false;
    // Closing takes a moment, as a pool's does: jobs would keep starting meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Global, like the modules of TypeORM, Mongoose or Config: Nest destroys those last. */
@Global()
@Module({ providers: [Db], exports: [Db] })
class DbModule {}

/** The same resource from a plain module that the root imports before FlumeModule. */
@Module({ providers: [Db], exports: [Db] })
class LocalDbModule {}

@Worker('ordered')
class DbWorker {
  constructor(
    private readonly db: Db,
    private readonly log: JobLog,
  ) {}

  async perform(n: number): Promise<void> {
    this.log.record(this.db.open ? 'started-with-db' : 'started-without-db', [n]);
    // The job's own work.
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('shutdown order', () => {
  const namespace = uniqueNamespace('shutdown-order');
  const redis = inspector();

  afterAll(async () => {
    await deleteNamespace(redis, namespace);
    redis.disconnect();
  });

  async function closeUnderLoad(dbFirst: boolean) {
    const flume = FlumeModule.forRoot({
      connection: testConnection(),
      namespace,
      pipelines: [{ name: 'ordered_pipeline', queue: 'ordered', maxDemand: 1 }],
      logger: false,
    });
    const moduleRef = await Test.createTestingModule({
      imports: dbFirst ? [LocalDbModule, flume] : [flume, DbModule],
      providers: [JobLog, DbWorker],
    }).compile();
    const app = await moduleRef.init();
    const log = app.get(JobLog);
    await app.get(FlumeClient).bulkEnqueue(
      'ordered',
      Array.from({ length: 50 }, (_, n) => ({ worker: DbWorker, args: [n] })),
    );
    await log.untilCount(2, 'started-with-db');

    await app.close();

    expect(log.count('started-without-db')).toBe(0);
    // Jobs were left for later: shutdown came while the queue still had work.
    const waiting = await redis.llen(`${namespace}:queue:{ordered}`);
    expect(waiting).toBeGreaterThan(0);
    expect(waiting + log.count('started-with-db')).toBe(50);
    await redis.del(`${namespace}:queue:{ordered}`);
  }

  it('stops taking jobs before global modules (and deeper ones) are destroyed', () =>
    closeUnderLoad(false));

  it('stops taking jobs before a module the root imports ahead of FlumeModule', () =>
    closeUnderLoad(true));
});
