import { Inject, Injectable, Optional } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import type { FlumeEngine, QueueStats, ResolvedOptions } from '../../engine/index.js';
import { FLUME_ENGINE, FLUME_RESOLVED_OPTIONS } from '../../flume.constants.js';
import { HEALTH_DEFAULTS, type FlumeHealthCheckOptions } from './flume-health.options.js';
import {
  overThreshold,
  pingTimedOut,
  pipelinesNotRunning,
  redisDown,
} from './terminus.messages.js';

/** What the indicator reports of one pipeline of this process. */
export interface PipelineHealth {
  status: 'running' | 'stopped' | 'failed';
  paused: boolean;
  /** Jobs of the pipeline running in this process now. */
  running: number;
}

/**
 * A `@nestjs/terminus` health indicator for Flume: up when Redis answers a PING, every
 * pipeline this process runs is running (paused counts as running; a pipeline whose
 * loop died of an error does not), and the optional thresholds on waiting and dead
 * jobs hold. List it in the providers of the module that imports `TerminusModule`:
 *
 * ```ts
 * @Get('health') @HealthCheck()
 * check() { return this.health.check([() => this.flume.isHealthy('flume', { maxDead: 100 })]); }
 * ```
 *
 * In test mode (no Redis) it is up, saying so.
 */
@Injectable()
export class FlumeHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    @Inject(FLUME_RESOLVED_OPTIONS) private readonly options: ResolvedOptions,
    @Optional() @Inject(FLUME_ENGINE) private readonly engine: FlumeEngine | null,
  ) {}

  /** Checks Flume; the result is under `key` (default `'flume'`). */
  async isHealthy<const Key extends string = 'flume'>(
    key: Key = 'flume' as Key,
    opts: FlumeHealthCheckOptions = {},
  ): Promise<HealthIndicatorResult<Key>> {
    const indicator = this.indicators.check(key);
    const engine = this.engine;
    if (!engine) return indicator.up({ message: 'test mode: no Redis, no pipelines' });

    const pipelines = this.pipelines(engine);
    const problems: string[] = [];
    const stopped = Object.entries(pipelines).filter(([, p]) => p.status !== 'running');
    if (stopped.length > 0) problems.push(pipelinesNotRunning(stopped.map(([name]) => name)));

    try {
      await this.ping(engine, opts.timeout ?? HEALTH_DEFAULTS.timeout);
    } catch (err) {
      problems.unshift(redisDown((err as Error).message));
      return indicator.down({ message: problems.join('; '), redis: 'down', pipelines });
    }

    let queues: Record<string, Pick<QueueStats, 'waiting' | 'dead'>> | undefined;
    if (opts.maxWaiting !== undefined || opts.maxDead !== undefined) {
      try {
        queues = await this.queueCounts(engine, opts);
      } catch (err) {
        problems.push(redisDown((err as Error).message));
      }
      for (const [queue, counts] of Object.entries(queues ?? {})) {
        if (opts.maxWaiting !== undefined && counts.waiting > opts.maxWaiting) {
          problems.push(overThreshold(queue, 'waiting', counts.waiting, opts.maxWaiting));
        }
        if (opts.maxDead !== undefined && counts.dead > opts.maxDead) {
          problems.push(overThreshold(queue, 'dead', counts.dead, opts.maxDead));
        }
      }
    }
    const data = { redis: 'up', pipelines, ...(queues && { queues }) };
    if (problems.length > 0) return indicator.down({ message: problems.join('; '), ...data });
    return indicator.up(data);
  }

  private pipelines(engine: FlumeEngine): Record<string, PipelineHealth> {
    return Object.fromEntries(
      this.options.runPipelines.map((name) => {
        const runner = engine.runner(name);
        const health: PipelineHealth = {
          status: runner.state.status,
          paused: runner.isPaused,
          running: runner.pendingJobsCount,
        };
        return [name, health];
      }),
    );
  }

  private async ping(engine: FlumeEngine, timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const ping = engine.ping();
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(pingTimedOut(timeoutMs))), timeoutMs);
    });
    ping.catch(() => undefined);
    try {
      await Promise.race([ping, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async queueCounts(engine: FlumeEngine, opts: FlumeHealthCheckOptions) {
    const queues = opts.queues ?? [...new Set(this.options.pipelines.map((p) => p.queue))];
    const stats = await Promise.all(queues.map((queue) => engine.inspector.queueStats(queue)));
    return Object.fromEntries(
      queues.map((queue, i) => [queue, { waiting: stats[i].waiting, dead: stats[i].dead }]),
    );
  }
}
