import 'reflect-metadata';
import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FlumeClient, FlumeProducer, Worker } from '../../lib/index.js';
import { JobLog } from '../support/job-log.js';
import {
  deleteNamespace,
  inspector,
  keysOf,
  rawJob,
  testConnection,
  type TestRedis,
  uniqueNamespace,
} from '../support/redis.js';
import { clickOn, launchBrowser, openPage, screenshot, textOf } from './support/browser.js';
import { bootDashboardApp, PLATFORMS, type DashboardApp } from './support/dashboard-app.js';

/** The test's stand-in for an app's auth: the browser sends `x-admin: yes`. */
@Injectable()
class AdminGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string> }>();
    return request.headers['x-admin'] === 'yes';
  }
}

@Worker('browser-q')
class BrowserWorker {
  constructor(private readonly log: JobLog) {}

  perform(tag: string): void {
    this.log.record('browser', [tag]);
  }
}

const XSS_ARG = '<img src=x onerror="window.__xss=1">';
const XSS_ERROR = '<script>window.__xss=2</script> boom';
/** A queue name needs no space or brace to be hostile HTML. */
const XSS_QUEUE = '<svg/onload=window.__xss=3>';

/** A dead job as the engine files it. */
function deadJob(jid: string, args: unknown[], error: string, worker = 'BrowserWorker'): string {
  const job = JSON.parse(rawJob({ queue: 'browser-q', class: worker, jid, args }));
  return JSON.stringify({
    ...job,
    retry_count: 5,
    failed_at: Date.now() / 1000,
    error_message: error,
    error_backtrace: `Error: ${error}\n    at BrowserWorker.perform (browser.worker.ts:1:1)`,
  });
}

describe.each(PLATFORMS)('the dashboard in Chromium, on %s', (platform) => {
  const namespace = uniqueNamespace(`dashboard-browser-${platform}`);
  const busy = keysOf(namespace, 'browser-q');
  const parked = keysOf(namespace, 'parked');
  const hostile = keysOf(namespace, XSS_QUEUE);
  const open: DashboardApp[] = [];
  const pages: Page[] = [];
  let browser: Browser;
  let redis: TestRedis;

  const boot = async (guarded: boolean) => {
    const app = await bootDashboardApp({
      platform,
      flume: {
        connection: testConnection(),
        namespace,
        logger: false,
        pipelines: [{ name: 'browser-pipeline', queue: 'browser-q', maxDemand: 5 }],
      },
      dashboard: {
        guards: guarded ? [AdminGuard] : [],
        queues: ['parked', XSS_QUEUE],
        refreshInterval: 1_000,
      },
      providers: [JobLog, BrowserWorker],
    });
    open.push(app);
    return app;
  };

  beforeAll(async () => {
    redis = inspector();
    browser = await launchBrowser();
  }, 90_000);

  const watch = async (headers?: Record<string, string>) => {
    const watched = await openPage(browser, headers);
    pages.push(watched.page);
    return watched;
  };

  afterEach(async () => {
    // Pages first: a page still polling would hold the app's HTTP server open.
    await Promise.allSettled(pages.splice(0).map((page) => page.close()));
    await Promise.allSettled(open.splice(0).map((app) => app.close()));
    await deleteNamespace(redis, namespace);
  });

  afterAll(async () => {
    await browser?.close();
    redis?.disconnect();
  });

  it('shows counts that match Redis, retries a dead job by a click, keeps job text as text', async () => {
    const now = Date.now();
    await redis.zadd(busy.dead, now - 2_000, deadJob('dead-ok', ['revived'], 'first try failed'));
    await redis.zadd(busy.dead, now - 1_000, deadJob('dead-xss', [XSS_ARG], XSS_ERROR, XSS_QUEUE));
    for (let i = 0; i < 3; i++) {
      await redis.rpush(parked.waiting, rawJob({ queue: 'parked', class: 'Parked', args: [i] }));
    }
    for (let i = 0; i < 2; i++) {
      await redis.zadd(parked.scheduled, now + 3_600_000, rawJob({ queue: 'parked', class: 'P' }));
      await redis.zadd(parked.retry, now + 3_600_000, rawJob({ queue: 'parked', class: 'P' }));
    }
    await redis.rpush(hostile.waiting, rawJob({ queue: XSS_QUEUE, class: XSS_QUEUE }));
    const { origin, app } = await boot(true);
    const log = app.get(JobLog);
    const { page, problems } = await watch({ 'x-admin': 'yes' });

    await page.goto(`${origin}/flume`);
    await page.waitForSelector('[data-queue="parked"] [data-count="waiting"]');
    // Every count on the page is Redis's, for every queue and list.
    const expected = async (keys: ReturnType<typeof keysOf>) => ({
      waiting: await redis.llen(keys.waiting),
      running: await redis.zcard(keys.processing),
      scheduled: await redis.zcard(keys.scheduled),
      retry: await redis.zcard(keys.retry),
      dead: await redis.zcard(keys.dead),
    });
    for (const [queue, keys] of [
      ['browser-q', busy],
      ['parked', parked],
      [XSS_QUEUE, hostile],
    ] as const) {
      const shown = await page.$eval(`[data-queue="${queue}"]`, (row) =>
        Object.fromEntries(
          [...row.querySelectorAll('[data-count]')].map((cell) => [
            cell.getAttribute('data-count'),
            Number(cell.textContent),
          ]),
        ),
      );
      expect(shown, queue).toEqual(await expected(keys));
    }
    expect(await textOf(page, `[data-queue="${XSS_QUEUE}"] td a`)).toBe(XSS_QUEUE);
    await page.waitForSelector('[data-pipeline="browser-pipeline"] button[data-action="pause"]');
    await page.waitForSelector('[data-test="chart"] canvas');
    await screenshot(page, `overview-${platform}`);

    // The dead set: the hostile job's args, error and worker name are shown as text.
    await clickOn(page, '[data-queue="browser-q"] [data-count="dead"] a');
    await clickOn(page, 'tr.job[data-jid="dead-xss"]');
    expect(await textOf(page, 'tr.details pre[data-test="args"]')).toBe(
      JSON.stringify([XSS_ARG], null, 2),
    );
    expect(await textOf(page, 'tr.details pre.error-text')).toBe(XSS_ERROR);
    expect(await textOf(page, 'tr.job[data-jid="dead-xss"] td:nth-child(2)')).toBe(XSS_QUEUE);
    expect(await page.$$('main img, main script, main svg')).toHaveLength(0);
    await screenshot(page, `dead-set-${platform}`);

    // Retry now, by a click: the job leaves the dead set and runs.
    await clickOn(page, 'tr.job[data-jid="dead-ok"]');
    await clickOn(page, 'tr.job[data-jid="dead-ok"] + tr.details button[data-action="retry"]');
    await log.until(() => log.performed.some((p) => p.args[0] === 'revived'), 'the retried job');
    expect(await redis.zrange(busy.dead, '0', '-1')).toEqual([expect.stringContaining('dead-xss')]);
    await page.waitForFunction('!document.querySelector(\'tr.job[data-jid="dead-ok"]\')');

    // Retry all of a set, after a confirmation.
    await page.goto(`${origin}/flume#/queues/parked/retry`);
    await clickOn(page, 'button[data-action="retry-all"]');
    await page.waitForSelector('dialog#confirm[open]');
    expect(await textOf(page, '#confirm-title')).toBe('Retry all 2 jobs of retry?');
    await clickOn(page, '#confirm-ok');
    await page.waitForSelector('dialog#confirm:not([open])');
    expect(await redis.zcard(parked.retry)).toBe(0);
    expect(await redis.llen(parked.waiting)).toBe(5);
    await page.waitForSelector('[data-test="empty"]');

    // The processes: this one, with its pipeline.
    await page.goto(`${origin}/flume#/processes`);
    const row = await page.waitForSelector('[data-process]');
    const text = await row!.evaluate((node) => node.textContent ?? '');
    expect(text).toContain(String(process.pid));
    expect(text).toContain('browser-pipeline');
    await screenshot(page, `processes-${platform}`);

    expect(await page.evaluate('window.__xss')).toBeUndefined();
    expect(problems).toEqual([]);
  });

  it("lists a queue's groups, and pauses and resumes one by a click", async () => {
    const { origin, app } = await boot(true);
    const log = app.get(JobLog);
    const client = app.get(FlumeClient);
    // The pipeline holds still (in this process) while the jobs are queued.
    await app.get(FlumeProducer).pause('browser-pipeline');
    await client.enqueue('browser-q', BrowserWorker, ['acme-0'], { group: 'acme' });
    await client.enqueue('browser-q', BrowserWorker, ['acme-1'], { group: 'acme' });
    await client.enqueue('browser-q', BrowserWorker, ['globex-0'], { group: 'globex' });
    const { page, problems } = await watch({ 'x-admin': 'yes' });

    await page.goto(`${origin}/flume#/queues/browser-q`);
    const cell = (group: string, count: string) =>
      `[data-test="groups"] tr[data-group="${group}"] [data-count="${count}"]`;
    expect(await textOf(page, cell('acme', 'waiting'))).toBe('2');
    expect(await textOf(page, cell('globex', 'waiting'))).toBe('1');
    expect(await textOf(page, cell('acme', 'running'))).toBe('0');

    // Pause acme, after a confirmation: stored for every instance, shown as paused.
    await clickOn(page, 'tr[data-group="acme"] button[data-action="pause"]');
    await page.waitForSelector('dialog#confirm[open]');
    expect(await textOf(page, '#confirm-title')).toBe('Pause group acme of queue browser-q?');
    await clickOn(page, '#confirm-ok');
    await page.waitForSelector('dialog#confirm:not([open])');
    expect(await redis.hkeys(busy.groupsPaused)).toEqual(['acme']);
    await page.waitForSelector('tr[data-group="acme"] [data-state="paused"]');

    // The pipeline takes globex's job, and acme's wait (round robin would take acme first).
    await app.get(FlumeProducer).resume('browser-pipeline');
    await log.until(() => log.performed.some((p) => p.args[0] === 'globex-0'), 'the globex job');
    expect(log.performed.map((p) => p.args[0])).toEqual(['globex-0']);
    await page.waitForFunction('!document.querySelector(\'tr[data-group="globex"]\')');
    expect(await textOf(page, cell('acme', 'waiting'))).toBe('2');
    await screenshot(page, `groups-${platform}`);

    // Resume it: its jobs run, and the panel goes once the queue has no group left.
    await clickOn(page, 'tr[data-group="acme"] button[data-action="resume"]');
    await page.waitForSelector('dialog#confirm[open]');
    expect(await textOf(page, '#confirm-title')).toBe('Resume group acme of queue browser-q?');
    await clickOn(page, '#confirm-ok');
    await log.untilCount(3);
    expect(log.performed.map((p) => p.args[0])).toEqual(['globex-0', 'acme-0', 'acme-1']);
    expect(await redis.hkeys(busy.groupsPaused)).toEqual([]);
    await page.waitForSelector('[data-test="groups"][hidden]');
    expect(problems).toEqual([]);
  });

  it('without a guard: says it is read-only, shows no action, and the server refuses one', async () => {
    await redis.zadd(busy.dead, Date.now(), deadJob('dead-ro', ['x'], 'failed'));
    const { origin, app } = await boot(false);
    const { page, problems } = await watch();
    await page.goto(`${origin}/flume#/queues/browser-q/dead`);
    await clickOn(page, 'tr.job[data-jid="dead-ro"]');
    await page.waitForSelector('tr.details');
    expect(await textOf(page, '#notice')).toContain('Read-only');
    expect(await page.$$('button[data-action]')).toHaveLength(0);
    await screenshot(page, `read-only-${platform}`);

    // What a hand-made request from the page gets: 403, and the job stays dead.
    const status =
      await page.evaluate(`fetch('flume/api/queues/browser-q/dead/jobs/dead-ro/retry', {
      method: 'POST',
      headers: { 'X-Flume-Dashboard': '1' },
    }).then((response) => response.status)`);
    expect(status).toBe(403);
    expect(await redis.zcard(busy.dead)).toBe(1);
    await page.goto(`${origin}/flume`);
    await page.waitForSelector('[data-pipeline="browser-pipeline"]');
    expect(await page.$$('button[data-action]')).toHaveLength(0);
    // A queue's groups are listed, without a pause button.
    await app.get(FlumeClient).enqueue('parked', 'Parked', [], { group: 'acme' });
    await page.goto(`${origin}/flume#/queues/parked`);
    expect(
      await textOf(page, '[data-test="groups"] tr[data-group="acme"] [data-count="waiting"]'),
    ).toBe('1');
    expect(await page.$$('button[data-action]')).toHaveLength(0);
    // The one problem: the browser reports the refused request itself.
    expect(problems).toEqual([expect.stringContaining('403')]);
  });
});
