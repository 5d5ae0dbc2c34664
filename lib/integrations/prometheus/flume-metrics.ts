import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Counter, Gauge, Histogram, register, type Metric, type Registry } from 'prom-client';
import { FlumeConfigError, type FlumeLogger, type ResolvedOptions } from '../../engine/index.js';
import { OnFlumeEvent, type FlumeEventOf } from '../../events/index.js';
import { FLUME_LOGGER, FLUME_RESOLVED_OPTIONS } from '../../flume.constants.js';
import { FlumeInspector } from '../../flume.inspector.js';
import {
  FLUME_METRICS_OPTIONS,
  METRICS_DEFAULTS,
  type FlumeMetricsOptions,
} from './flume-metrics.options.js';
import { metricAlreadyRegistered, statsUnreadable } from './prometheus.messages.js';
import { QueueStatsCache } from './queue-stats.cache.js';

type JobLabels = 'queue' | 'worker';

/** The states `flume_queue_jobs` reports, and the QueueStats field each is read from. */
const STATES = {
  waiting: 'waiting',
  running: 'processing',
  scheduled: 'scheduled',
  retry: 'retry',
  dead: 'dead',
} as const;

/**
 * Prometheus metrics of the jobs, registered by `FlumeMetricsModule`:
 *
 * - `flume_jobs_processed_total`, `flume_jobs_failed_total` (every failed attempt),
 *   `flume_jobs_retried_total`, `flume_jobs_dead_total`: counters by queue and worker,
 *   of the jobs this process ran;
 * - `flume_job_run_duration_seconds` (success or failure) and
 *   `flume_job_wait_duration_seconds` (enqueue to start, including a planned delay):
 *   histograms by queue and worker;
 * - `flume_queue_jobs{queue, state}`: jobs waiting, running, scheduled, retry and dead,
 *   across every instance, read from Redis on scrape (cached for `cacheMs`).
 *
 * Counters and histograms come from engine events: the pipelines of this app publish
 * them because this class listens (see @OnFlumeEvent), unless `instrument: false`.
 */
@Injectable()
export class FlumeMetrics implements OnModuleInit, OnApplicationShutdown {
  /** The registry the metrics are in. */
  readonly registry: Registry;
  private readonly processed: Counter<JobLabels>;
  private readonly failed: Counter<JobLabels>;
  private readonly retried: Counter<JobLabels>;
  private readonly dead: Counter<JobLabels>;
  private readonly runTime: Histogram<JobLabels>;
  private readonly waitTime: Histogram<JobLabels>;
  private readonly queueJobs: Gauge<'queue' | 'state'>;
  private readonly stats?: QueueStatsCache;
  private registered: Metric[] = [];
  /** Set while reads fail, so a Redis outage is logged once, not on every scrape. */
  private failing = false;

  constructor(
    @Inject(FLUME_METRICS_OPTIONS) options: FlumeMetricsOptions,
    @Inject(FLUME_RESOLVED_OPTIONS) flume: ResolvedOptions,
    @Inject(FLUME_LOGGER) private readonly logger: FlumeLogger,
    inspector: FlumeInspector,
  ) {
    this.registry = options.registry ?? register;
    const counter = (name: string, help: string) =>
      new Counter({ name, help, labelNames: ['queue', 'worker'], registers: [] });
    this.processed = counter('flume_jobs_processed_total', 'Jobs that ran and succeeded.');
    this.failed = counter('flume_jobs_failed_total', 'Job attempts that failed.');
    this.retried = counter('flume_jobs_retried_total', 'Failed jobs filed for a retry.');
    this.dead = counter(
      'flume_jobs_dead_total',
      'Jobs moved to the dead set (out of retries, or unable to run).',
    );
    this.runTime = new Histogram({
      name: 'flume_job_run_duration_seconds',
      help: 'Time a job ran, to success or failure.',
      labelNames: ['queue', 'worker'],
      buckets: options.runTimeBuckets ?? [...METRICS_DEFAULTS.runTimeBuckets],
      registers: [],
    });
    this.waitTime = new Histogram({
      name: 'flume_job_wait_duration_seconds',
      help: 'Time from enqueue to start (a scheduled job or a retry includes its planned delay).',
      labelNames: ['queue', 'worker'],
      buckets: options.waitTimeBuckets ?? [...METRICS_DEFAULTS.waitTimeBuckets],
      registers: [],
    });
    const queues = [
      ...new Set([...flume.pipelines.map((p) => p.queue), ...(options.queues ?? [])]),
    ];
    // Test mode has no Redis to read.
    if (!flume.testing && queues.length > 0) {
      this.stats = new QueueStatsCache(
        queues,
        (queue) => inspector.queueStats(queue),
        options.cacheMs ?? METRICS_DEFAULTS.cacheMs,
      );
    }
    const self = this;
    this.queueJobs = new Gauge({
      name: 'flume_queue_jobs',
      help: 'Jobs of a queue by state, across every instance, read from Redis.',
      labelNames: ['queue', 'state'],
      registers: [],
      collect() {
        return self.collectQueueJobs();
      },
    });
  }

  onModuleInit(): void {
    const metrics: Metric[] = [
      this.processed,
      this.failed,
      this.retried,
      this.dead,
      this.runTime,
      this.waitTime,
      this.queueJobs,
    ];
    for (const metric of metrics) {
      const name = (metric as unknown as { name: string }).name;
      if (this.registry.getSingleMetric(name)) {
        throw new FlumeConfigError(metricAlreadyRegistered(name));
      }
    }
    for (const metric of metrics) this.registry.registerMetric(metric);
    this.registered = metrics;
  }

  /** After the pipelines drained, so the last jobs are counted; a later app may register again. */
  onApplicationShutdown(): void {
    for (const metric of this.registered) {
      this.registry.removeSingleMetric((metric as unknown as { name: string }).name);
    }
    this.registered = [];
  }

  @OnFlumeEvent('job:start')
  protected onStart(event: FlumeEventOf<'job:start'>): void {
    this.waitTime.observe(labels(event), event.waitMs / 1000);
  }

  @OnFlumeEvent('job:success')
  protected onSuccess(event: FlumeEventOf<'job:success'>): void {
    this.processed.inc(labels(event));
    this.runTime.observe(labels(event), event.runMs / 1000);
  }

  @OnFlumeEvent('job:failure')
  protected onFailure(event: FlumeEventOf<'job:failure'>): void {
    this.failed.inc(labels(event));
    this.runTime.observe(labels(event), event.runMs / 1000);
  }

  @OnFlumeEvent('job:retry')
  protected onRetry(event: FlumeEventOf<'job:retry'>): void {
    this.retried.inc(labels(event));
  }

  @OnFlumeEvent('job:dead')
  protected onDead(event: FlumeEventOf<'job:dead'>): void {
    this.dead.inc(labels(event));
  }

  private async collectQueueJobs(): Promise<void> {
    if (!this.stats) return;
    let stats;
    try {
      stats = await this.stats.get();
    } catch (err) {
      // No counts rather than stale ones; the rest of the scrape goes on.
      this.queueJobs.reset();
      if (!this.failing) this.logger.warn(statsUnreadable((err as Error).message));
      this.failing = true;
      return;
    }
    this.failing = false;
    for (const [queue, counts] of stats) {
      for (const [state, field] of Object.entries(STATES)) {
        this.queueJobs.set({ queue, state }, counts[field]);
      }
    }
  }
}

function labels(event: { queue: string; worker: string }) {
  return { queue: event.queue, worker: event.worker };
}
