import {
  BadRequestException,
  Get,
  Inject,
  NotFoundException,
  Param,
  Post,
  Query,
  Req,
  Res,
  ServiceUnavailableException,
  UseGuards,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { FlumeConfigError, FlumeConnectionError, FlumePayloadError } from '../engine/index.js';
import { DashboardAccessGuard } from './dashboard-access.guard.js';
import { DashboardApi } from './dashboard-api.js';
import { DashboardAssets } from './dashboard-assets.js';
import { SECURITY_HEADERS } from './dashboard.constants.js';

type Query = Record<string, string | undefined>;

/** Errors of the engine as HTTP answers: what was wrong with the request, or Redis away. */
function asHttpError(err: unknown): unknown {
  if (err instanceof FlumePayloadError) return new BadRequestException(err.message);
  if (err instanceof FlumeConnectionError || err instanceof FlumeConfigError) {
    return new ServiceUnavailableException(err.message);
  }
  return err;
}

/**
 * The dashboard's routes: the page, its assets and its JSON API. Answers are written
 * through the HTTP adapter (Express or Fastify) with `@Res()`, so that the app's
 * interceptors that reshape return values leave the API's answers alone. The path
 * is set on a subclass made per module (see dashboard.module.ts).
 */
@UseGuards(DashboardAccessGuard)
export class DashboardController {
  constructor(
    private readonly api: DashboardApi,
    private readonly assets: DashboardAssets,
    @Inject(HttpAdapterHost) private readonly host: HttpAdapterHost,
  ) {}

  @Get()
  page(@Req() req: unknown, @Res() res: unknown): void {
    const path = String(this.host.httpAdapter.getRequestUrl(req) ?? '');
    this.send(res, 200, this.assets.page(path), 'text/html; charset=utf-8', 'no-store');
  }

  @Get('assets/:file')
  asset(@Param('file') file: string, @Res() res: unknown): void {
    const asset = this.assets.get(file);
    if (!asset) throw new NotFoundException(`No dashboard asset named ${file}`);
    this.send(res, 200, asset.body, asset.type, 'public, max-age=86400');
  }

  @Get('api/overview')
  overview(@Res() res: unknown): Promise<void> {
    return this.json(res, () => this.api.overview());
  }

  @Get('api/history')
  history(@Query('minutes') minutes: string | undefined, @Res() res: unknown): Promise<void> {
    return this.json(res, () => this.api.history(minutes));
  }

  @Get('api/processes')
  processes(@Res() res: unknown): Promise<void> {
    return this.json(res, () => this.api.processes());
  }

  // Before api/queues/:queue/:list, which Express would match first (Fastify prefers the
  // static segment either way).
  @Get('api/queues/:queue/groups')
  groups(@Param('queue') queue: string, @Res() res: unknown): Promise<void> {
    return this.json(res, () => this.api.groups(queue));
  }

  @Get('api/queues/:queue/:list')
  jobs(
    @Param('queue') queue: string,
    @Param('list') list: string,
    @Query() query: Query,
    @Res() res: unknown,
  ): Promise<void> {
    return this.json(res, () => this.api.page(queue, list, query));
  }

  @Post('api/queues/:queue/:set/jobs/:jid/retry')
  retry(@Param() p: Query, @Res() res: unknown): Promise<void> {
    return this.json(res, () => this.api.retry(p.queue!, p.set!, p.jid!));
  }

  @Post('api/queues/:queue/:set/jobs/:jid/delete')
  remove(@Param() p: Query, @Res() res: unknown): Promise<void> {
    return this.json(res, () => this.api.remove(p.queue!, p.set!, p.jid!));
  }

  @Post('api/queues/:queue/:set/retry-all')
  retryAll(@Param() p: Query, @Query('limit') limit: string, @Res() res: unknown) {
    return this.json(res, () => this.api.retryAll(p.queue!, p.set!, limit));
  }

  @Post('api/queues/:queue/:set/delete-all')
  deleteAll(@Param() p: Query, @Query('limit') limit: string, @Res() res: unknown) {
    return this.json(res, () => this.api.deleteAll(p.queue!, p.set!, limit));
  }

  @Post('api/pipelines/:name/pause')
  pause(@Param('name') name: string, @Res() res: unknown): Promise<void> {
    return this.json(res, () => this.api.setPaused(name, true));
  }

  @Post('api/pipelines/:name/resume')
  resume(@Param('name') name: string, @Res() res: unknown): Promise<void> {
    return this.json(res, () => this.api.setPaused(name, false));
  }

  @Post('api/queues/:queue/groups/:group/pause')
  pauseGroup(@Param() p: Query, @Res() res: unknown): Promise<void> {
    return this.json(res, () => this.api.setGroupPaused(p.queue!, p.group!, true));
  }

  @Post('api/queues/:queue/groups/:group/resume')
  resumeGroup(@Param() p: Query, @Res() res: unknown): Promise<void> {
    return this.json(res, () => this.api.setGroupPaused(p.queue!, p.group!, false));
  }

  private async json(res: unknown, answer: () => Promise<unknown>): Promise<void> {
    let body: unknown;
    try {
      body = await answer();
    } catch (err) {
      throw asHttpError(err);
    }
    this.send(res, 200, JSON.stringify(body), 'application/json; charset=utf-8', 'no-store');
  }

  private send(res: unknown, status: number, body: string, type: string, cache: string): void {
    const adapter = this.host.httpAdapter;
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
      adapter.setHeader(res, name, value);
    }
    adapter.setHeader(res, 'Content-Type', type);
    adapter.setHeader(res, 'Cache-Control', cache);
    adapter.reply(res, body, status);
  }
}
