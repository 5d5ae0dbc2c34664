import { Redis } from 'ioredis';
import type { FixtureConfig } from '../fixtures/fixture-config.js';
import { REDIS_URL, deleteNamespace, uniqueNamespace } from '../../support/redis.js';
import { AppProcess } from './app-process.js';
import { RedisServer, type RedisServerOptions } from '../../support/redis-server.js';

export type FixtureOverrides = Partial<Omit<FixtureConfig, 'flume'>> & {
  flume?: FixtureConfig['flume'];
};

/**
 * What one fault scenario owns: a namespace (plus one for the fixture's bookkeeping),
 * its child processes, and optionally a redis-server of its own. `dispose()` kills
 * and deletes all of it, whatever state the test left it in.
 */
export class Scenario {
  readonly namespace: string;
  readonly marks: string;
  readonly processes: AppProcess[] = [];
  private readonly servers: RedisServer[] = [];
  private readonly connections: Redis[] = [];
  private readonly cleanups: (() => Promise<void> | void)[] = [];

  constructor(
    name: string,
    private redisUrl = REDIS_URL,
  ) {
    this.namespace = uniqueNamespace(`faults-${name}`);
    this.marks = `${this.namespace}-marks`;
  }

  get url(): string {
    return this.redisUrl;
  }

  /** Starts a redis-server of the scenario's own and points the scenario at it. */
  async ownRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
    const server = await this.extraRedis(options);
    this.redisUrl = server.url;
    return server;
  }

  /** Starts a redis-server of the scenario's own without pointing the scenario at it. */
  async extraRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
    const server = await RedisServer.start(options);
    this.servers.push(server);
    return server;
  }

  /** Points the apps spawned from now on (and new inspectors) at `url`. */
  useUrl(url: string): void {
    this.redisUrl = url;
  }

  /** Runs `cleanup` in dispose(), before the servers stop. */
  onDispose(cleanup: () => Promise<void> | void): void {
    this.cleanups.push(cleanup);
  }

  /** A plain connection to inspect Redis with; closed by dispose(). */
  inspector(url = this.redisUrl): Redis {
    const redis = new Redis(url, { maxRetriesPerRequest: null });
    redis.on('error', () => undefined);
    this.connections.push(redis);
    return redis;
  }

  config(overrides: FixtureOverrides = {}): FixtureConfig {
    return {
      redisUrl: this.redisUrl,
      namespace: this.namespace,
      marks: this.marks,
      maxDemand: 20,
      reportStarts: true,
      ...overrides,
      flume: { visibilityTimeout: 5_000, shutdownTimeout: 5_000, ...overrides.flume },
    };
  }

  /** Starts a fixture app process; resolves once it has booted. */
  async spawn(label: string, overrides: FixtureOverrides = {}): Promise<AppProcess> {
    const app = new AppProcess(label, this.config(overrides));
    this.processes.push(app);
    await app.ready();
    return app;
  }

  async dispose(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.dispose()));
    const shared = this.servers.length === 0;
    if (shared && this.connections[0]) {
      await deleteNamespace(this.connections[0], this.namespace).catch(() => undefined);
      await deleteNamespace(this.connections[0], this.marks).catch(() => undefined);
    }
    for (const redis of this.connections) redis.disconnect();
    for (const cleanup of this.cleanups) await cleanup();
    await Promise.all(this.servers.map((s) => s.dispose()));
  }
}
