import 'reflect-metadata';
import {
  Controller,
  Get,
  Injectable,
  Module,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FlumeDashboardModule } from '../../lib/dashboard/index.js';
import { FlumeClient, Worker } from '../../lib/index.js';
import {
  deleteNamespace,
  inspector,
  keysOf,
  rawJob,
  testConnection,
  type TestRedis,
  uniqueNamespace,
} from '../support/redis.js';
import { bootDashboardApp, PLATFORMS, type DashboardApp } from './support/dashboard-app.js';

/** Lets a request through when it carries `x-admin: yes`. */
@Injectable()
class AdminGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string> }>();
    return request.headers['x-admin'] === 'yes';
  }
}

/** A guard with a dependency of its own, given through DI. */
@Injectable()
class Tokens {
  readonly admin = 'secret';
}

@Module({ providers: [Tokens], exports: [Tokens] })
class AuthModule {}

@Injectable()
class TokenGuard implements CanActivate {
  constructor(private readonly tokens: Tokens) {}
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string> }>();
    return request.headers.authorization === `Bearer ${this.tokens.admin}`;
  }
}

/** Only requests with `x-app-key` reach the app's own route. */
@Injectable()
class AppKeyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string> }>();
    return request.headers['x-app-key'] === 'k';
  }
}

@Controller('hello')
class AppController {
  @Get()
  hello() {
    return { hello: 'world' };
  }

  @Get('guarded')
  @UseGuards(AppKeyGuard)
  guarded() {
    return { guarded: true };
  }
}

@Worker('http-q')
class HttpWorker {
  perform(): void {}
}

/** A response's JSON body, untyped: the specs check its shape. */
const json = async (response: Response | Promise<Response>): Promise<any> =>
  (await response).json();

const ACTION = { 'x-flume-dashboard': '1', 'sec-fetch-site': 'same-origin' };

describe.each(PLATFORMS)('the dashboard over HTTP on %s', (platform) => {
  const namespace = uniqueNamespace(`dashboard-http-${platform}`);
  const keys = keysOf(namespace, 'http-q');
  const flume = {
    connection: testConnection(),
    namespace,
    logger: false as const,
    pipelines: [{ name: 'http-pipeline', queue: 'http-q', maxDemand: 2 }],
    runPipelines: [],
  };
  const open: DashboardApp[] = [];
  let redis: TestRedis;

  const boot = async (spec: Partial<Parameters<typeof bootDashboardApp>[0]>) => {
    const app = await bootDashboardApp({ platform, flume, dashboard: {}, ...spec });
    open.push(app);
    return app;
  };

  beforeAll(() => {
    redis = inspector();
  });

  afterEach(async () => {
    await Promise.allSettled(open.splice(0).map((app) => app.close()));
  });

  afterAll(async () => {
    await deleteNamespace(redis, namespace);
    redis.disconnect();
  });

  it('serves the page under the global prefix with a strict CSP, and leaves the app alone', async () => {
    const { origin, logs } = await boot({
      prefix: 'api',
      controllers: [AppController],
      providers: [AppKeyGuard],
    });
    const page = await fetch(`${origin}/api/flume`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('cache-control')).toBe('no-store');
    const html = await page.text();
    // Its files, relative to the page's URL: /api/flume -> /api/flume/assets/...
    expect(html).toMatch(/<script src="flume\/assets\/app\.js\?v=[0-9a-f]{12}" type="module">/);
    // No inline script or style: every <script> has a src, no element has a style attribute.
    expect(html.match(/<script(?![^>]*\ssrc=)[^>]*>/g)).toBeNull();
    expect(html).not.toMatch(/\sstyle=/);
    expect(html).not.toMatch(/\son[a-z]+=/);
    expect(html).not.toMatch(/https?:\/\//);

    const script = /src="flume\/(assets\/app\.js\?v=[0-9a-f]+)"/.exec(html)![1];
    const js = await fetch(`${origin}/api/flume/${script}`);
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(js.headers.get('cache-control')).toContain('max-age');
    expect(await js.text()).toContain('X-Flume-Dashboard');
    const chart = await fetch(`${origin}/api/flume/assets/uPlot.iife.min.js`);
    expect(chart.status).toBe(200);
    expect((await fetch(`${origin}/api/flume/assets/nope.js`)).status).toBe(404);
    expect((await fetch(`${origin}/api/flume/assets/..%2Fdashboard.module.js`)).status).toBe(404);
    expect((await fetch(`${origin}/flume`)).status).toBe(404);

    // The app's own route and guard are as they were.
    expect(await json(fetch(`${origin}/api/hello`))).toEqual({ hello: 'world' });
    expect((await fetch(`${origin}/api/hello/guarded`)).status).toBe(403);
    const guarded = await fetch(`${origin}/api/hello/guarded`, { headers: { 'x-app-key': 'k' } });
    expect(guarded.status).toBe(200);

    expect(logs.dashboard('warn')).toEqual([
      expect.stringContaining('has no guard: anyone who can reach it sees every job'),
    ]);
  });

  it('answers the overview with counts that match Redis, in a process that runs no pipeline', async () => {
    const { origin } = await boot({});
    await redis.rpush(keys.waiting, rawJob({ queue: 'http-q', class: 'HttpWorker' }));
    await redis.rpush(keys.waiting, rawJob({ queue: 'http-q', class: 'HttpWorker' }));
    await redis.zadd(keys.dead, Date.now(), rawJob({ queue: 'http-q', class: 'X', jid: 'd-1' }));
    await redis.zadd(keys.scheduled, Date.now() + 60_000, rawJob({ queue: 'http-q', class: 'X' }));
    const overview = await json(fetch(`${origin}/flume/api/overview`));
    expect(overview.actions).toBe(false);
    expect(overview.queues).toEqual([
      { name: 'http-q', waiting: 2, processing: 0, scheduled: 1, retry: 0, dead: 1 },
    ]);
    expect(overview.pipelines).toEqual([
      expect.objectContaining({ name: 'http-pipeline', queue: 'http-q', processes: 0 }),
    ]);
    await expect
      .poll(async () => (await json(fetch(`${origin}/flume/api/processes`))).length)
      .toBe(1);

    const page = await json(fetch(`${origin}/flume/api/queues/http-q/dead`));
    expect(page).toMatchObject({ total: 1, next: null, jobs: [{ jid: 'd-1', worker: 'X' }] });
    const bad = await fetch(`${origin}/flume/api/queues/http-q/dead?limit=abc`);
    expect(bad.status).toBe(400);
    expect((await json(bad)).message).toContain('Expected limit to be a non-negative integer');
    expect((await fetch(`${origin}/flume/api/queues/bad%20name/dead`)).status).toBe(400);
    const history = await json(fetch(`${origin}/flume/api/history?minutes=5`));
    expect(history.processed['http-q']).toHaveLength(5);
    await redis.del(keys.waiting, keys.dead, keys.scheduled);
  });

  it('refuses every action without a guard, and with readOnly: true, on the server', async () => {
    await redis.zadd(keys.dead, Date.now(), rawJob({ queue: 'http-q', class: 'X', jid: 'd-2' }));
    const unguarded = await boot({});
    const refused = await fetch(`${unguarded.origin}/flume/api/queues/http-q/dead/jobs/d-2/retry`, {
      method: 'POST',
      headers: ACTION,
    });
    expect(refused.status).toBe(403);
    expect((await json(refused)).message).toContain('The Flume dashboard is read-only');

    const readOnly = await boot({ dashboard: { guards: [AdminGuard], readOnly: true } });
    const alsoRefused = await fetch(`${readOnly.origin}/flume/api/pipelines/http-pipeline/pause`, {
      method: 'POST',
      headers: { ...ACTION, 'x-admin': 'yes' },
    });
    expect(alsoRefused.status).toBe(403);
    for (const { origin, headers } of [
      { origin: unguarded.origin, headers: ACTION },
      { origin: readOnly.origin, headers: { ...ACTION, 'x-admin': 'yes' } },
    ]) {
      const group = await fetch(`${origin}/flume/api/queues/http-q/groups/acme/pause`, {
        method: 'POST',
        headers,
      });
      expect(group.status).toBe(403);
      expect((await json(group)).message).toContain('The Flume dashboard is read-only');
    }
    expect(readOnly.logs.dashboard('warn')).toEqual([]);
    expect(await redis.zcard(keys.dead)).toBe(1);
    expect(await redis.hkeys(`${namespace}:pipelines:paused`)).toEqual([]);
    expect(await redis.exists(keys.groupsPaused)).toBe(0);
    await redis.del(keys.dead);
  });

  it('runs its guards on every route, and allows actions from its own page only', async () => {
    await redis.zadd(keys.dead, Date.now(), rawJob({ queue: 'http-q', class: 'X', jid: 'd-3' }));
    const { origin, logs } = await boot({ dashboard: { guards: [AdminGuard] } });
    expect((await fetch(`${origin}/flume`)).status).toBe(403);
    expect((await fetch(`${origin}/flume/api/overview`)).status).toBe(403);
    const admin = { 'x-admin': 'yes' };
    expect((await fetch(`${origin}/flume`, { headers: admin })).status).toBe(200);
    expect((await json(fetch(`${origin}/flume/api/overview`, { headers: admin }))).actions).toBe(
      true,
    );

    const retry = `${origin}/flume/api/queues/http-q/dead/jobs/d-3/retry`;
    const attempt = (headers: Record<string, string>) =>
      fetch(retry, { method: 'POST', headers: { ...admin, ...headers } });
    const crossSite: Record<string, string>[] = [
      { 'x-flume-dashboard': '1', 'sec-fetch-site': 'cross-site' },
      { 'x-flume-dashboard': '1', 'sec-fetch-site': 'same-site' },
      { 'x-flume-dashboard': '1', origin: 'https://evil.example' },
      { 'x-flume-dashboard': '1', origin: 'null' },
      { 'sec-fetch-site': 'same-origin' },
    ];
    for (const headers of crossSite) {
      const response = await attempt(headers);
      expect(response.status, JSON.stringify(headers)).toBe(403);
      expect((await json(response)).message).toContain(
        'Refused a dashboard action from another site',
      );
    }
    expect(await redis.zcard(keys.dead)).toBe(1);

    const done = await attempt({ 'x-flume-dashboard': '1', origin: origin });
    expect(done.status).toBe(200);
    expect(await json(done)).toEqual({ done: true });
    expect(await redis.zcard(keys.dead)).toBe(0);
    expect(await redis.lrange(keys.waiting, 0, -1)).toEqual([
      expect.stringContaining('"jid":"d-3"'),
    ]);
    const again = await attempt(ACTION);
    expect(await json(again)).toEqual({ done: false });

    const pause = await fetch(`${origin}/flume/api/pipelines/http-pipeline/pause`, {
      method: 'POST',
      headers: { ...admin, ...ACTION },
    });
    expect(pause.status).toBe(200);
    expect(await redis.hkeys(`${namespace}:pipelines:paused`)).toEqual(['http-pipeline']);
    await fetch(`${origin}/flume/api/pipelines/http-pipeline/resume`, {
      method: 'POST',
      headers: { ...admin, ...ACTION },
    });
    expect(await redis.hkeys(`${namespace}:pipelines:paused`)).toEqual([]);
    expect(logs.dashboard('warn')).toEqual([]);
    expect(logs.dashboard('log')).toEqual(
      expect.arrayContaining([
        'Retry now of job d-3 (dead of queue "http-q"): done.',
        'Pipeline "http-pipeline" paused for every instance.',
      ]),
    );
    await redis.del(keys.waiting);
  });

  it('lists the groups of a queue, and pauses and resumes one for every instance', async () => {
    const { app, origin, logs } = await boot({ dashboard: { guards: [AdminGuard] } });
    const client = app.get(FlumeClient);
    await client.enqueue('http-q', HttpWorker, [], { group: 'acme' });
    await client.enqueue('http-q', HttpWorker, [], { group: 'acme' });
    await client.enqueue('http-q', HttpWorker, [], { group: 'team/eu' });
    await client.enqueue('http-q', HttpWorker, []);
    const admin = { 'x-admin': 'yes' };
    const groups = (queue = 'http-q') =>
      fetch(`${origin}/flume/api/queues/${queue}/groups`, { headers: admin });
    const post = (group: string, verb: string, queue = 'http-q') =>
      fetch(`${origin}/flume/api/queues/${queue}/groups/${group}/${verb}`, {
        method: 'POST',
        headers: { ...admin, ...ACTION },
      });

    expect((await fetch(`${origin}/flume/api/queues/http-q/groups`)).status).toBe(403);
    expect(await json(groups())).toEqual([
      { group: 'acme', waiting: 2, running: 0, paused: false },
      { group: 'team/eu', waiting: 1, running: 0, paused: false },
    ]);
    // A queue that uses no groups has none; the job lists are still where they were.
    expect(await json(groups('other-q'))).toEqual([]);
    expect(
      (await json(fetch(`${origin}/flume/api/queues/http-q/waiting`, { headers: admin }))).total,
    ).toBe(4);

    const paused = await post('acme', 'pause');
    expect(paused.status).toBe(200);
    expect(await json(paused)).toEqual({ done: true });
    expect(await json(post(encodeURIComponent('team/eu'), 'pause'))).toEqual({ done: true });
    expect((await redis.hkeys(keys.groupsPaused)).sort()).toEqual(['acme', 'team/eu']);
    expect(await json(groups())).toEqual([
      { group: 'acme', waiting: 2, running: 0, paused: true },
      { group: 'team/eu', waiting: 1, running: 0, paused: true },
    ]);
    expect(await json(post('acme', 'resume'))).toEqual({ done: true });
    expect(await json(post(encodeURIComponent('team/eu'), 'resume'))).toEqual({ done: true });
    expect(await redis.hkeys(keys.groupsPaused)).toEqual([]);
    // A paused group with no job left is still listed, so that it can be resumed.
    expect(await json(post('idle', 'pause'))).toEqual({ done: true });
    expect(await json(groups())).toContainEqual({
      group: 'idle',
      waiting: 0,
      running: 0,
      paused: true,
    });
    expect(await json(post('idle', 'resume'))).toEqual({ done: true });

    // Bad names: 400, as for the other routes, and nothing written.
    const badQueue = await groups('bad%20name');
    expect(badQueue.status).toBe(400);
    expect((await json(badQueue)).message).toContain('Invalid queue name');
    expect((await post('acme', 'pause', 'bad%20name')).status).toBe(400);
    for (const group of ['a%20b', '%7Bacme%7D', 'x'.repeat(201)]) {
      const response = await post(group, 'pause');
      // Fastify answers a path parameter over 100 characters (its maxParamLength) itself.
      if (platform === 'fastify' && group.length > 100) {
        expect(response.status).toBe(414);
        continue;
      }
      expect(response.status, group).toBe(400);
      expect((await json(response)).message).toContain('group must be a non-empty string');
    }
    expect(await redis.exists(keys.groupsPaused)).toBe(0);

    // An action from another site is refused before it reaches Redis.
    const crossSite = await fetch(`${origin}/flume/api/queues/http-q/groups/acme/pause`, {
      method: 'POST',
      headers: { ...admin, 'x-flume-dashboard': '1', 'sec-fetch-site': 'cross-site' },
    });
    expect(crossSite.status).toBe(403);
    expect(await redis.exists(keys.groupsPaused)).toBe(0);

    expect(logs.dashboard('log')).toEqual(
      expect.arrayContaining([
        'Group "acme" of queue "http-q" paused for every instance.',
        'Group "acme" of queue "http-q" resumed for every instance.',
        'Group "team/eu" of queue "http-q" paused for every instance.',
      ]),
    );
    await deleteNamespace(redis, namespace);
  });

  it('retries and deletes a whole set in bounded chunks', async () => {
    for (let i = 0; i < 5; i++) {
      await redis.zadd(keys.retry, Date.now() + 60_000, rawJob({ queue: 'http-q', class: 'X' }));
    }
    const { origin } = await boot({ dashboard: { guards: [new AdminGuard()] } });
    const post = (path: string) =>
      fetch(`${origin}/flume/api/queues/http-q/retry/${path}`, {
        method: 'POST',
        headers: { ...ACTION, 'x-admin': 'yes' },
      }).then(json);
    expect(await post('retry-all?limit=2')).toEqual({ done: 2, left: 3 });
    expect(await post('delete-all?limit=2')).toEqual({ done: 2, left: 1 });
    expect(await post('delete-all')).toEqual({ done: 1, left: 0 });
    expect(await redis.llen(keys.waiting)).toBe(2);
    await redis.del(keys.waiting);
  });

  it('takes its path and guards from forRootAsync, guards with dependencies injected', async () => {
    const { origin } = await boot({
      prefix: 'admin',
      dashboard: FlumeDashboardModule.forRootAsync({
        imports: [AuthModule],
        useFactory: async () => ({ path: '/queues-ui/', guards: [TokenGuard] }),
      }),
    });
    expect((await fetch(`${origin}/admin/queues-ui`)).status).toBe(403);
    const page = await fetch(`${origin}/admin/queues-ui/`, {
      headers: { authorization: 'Bearer secret' },
    });
    // Fastify matches no trailing slash by default: the page is at /admin/queues-ui.
    if (page.status === 200) expect(await page.text()).toContain('src="assets/app.js?v=');
    const exact = await fetch(`${origin}/admin/queues-ui`, {
      headers: { authorization: 'Bearer secret' },
    });
    expect(exact.status).toBe(200);
    expect(await exact.text()).toContain('src="queues-ui/assets/app.js?v=');
  });

  it('allows actions without a guard only when told so, loudly', async () => {
    await expect(boot({ dashboard: { readOnly: false } })).rejects.toThrow(
      'readOnly: false needs a guard',
    );
    const { origin, logs } = await boot({
      dashboard: { dangerouslyAllowActionsWithoutGuards: true },
    });
    expect((await json(fetch(`${origin}/flume/api/overview`))).actions).toBe(true);
    expect(logs.dashboard('warn')).toEqual([
      expect.stringContaining('anyone who can reach it can retry, delete and pause jobs'),
    ]);
  });
});
