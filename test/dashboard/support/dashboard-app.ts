import type {
  DynamicModule,
  INestApplication,
  LoggerService,
  Provider,
  Type,
} from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { FlumeDashboardModule, type FlumeDashboardOptions } from '../../../lib/dashboard/index.js';
import { FlumeModule, type FlumeModuleOptions } from '../../../lib/index.js';

export type Platform = 'express' | 'fastify';
export const PLATFORMS: Platform[] = ['express', 'fastify'];

/** Keeps what Nest's Logger is told (the dashboard's boot warnings among it), prints nothing. */
export class NestCapture implements LoggerService {
  readonly lines: { level: string; message: string; context?: string }[] = [];
  log(message: unknown, context?: string) {
    this.lines.push({ level: 'log', message: String(message), context });
  }
  warn(message: unknown, context?: string) {
    this.lines.push({ level: 'warn', message: String(message), context });
  }
  error(message: unknown, context?: string) {
    this.lines.push({ level: 'error', message: String(message), context });
  }
  debug() {}
  verbose() {}
  /** Lines of the dashboard at `level`. */
  dashboard(level: string): string[] {
    return this.lines
      .filter((line) => line.level === level && line.context === 'FlumeDashboard')
      .map((line) => line.message);
  }
}

export interface DashboardAppSpec {
  platform: Platform;
  flume: FlumeModuleOptions;
  /** The dashboard module: forRoot(options) when options are given. */
  dashboard: FlumeDashboardOptions | DynamicModule;
  prefix?: string;
  controllers?: Type<unknown>[];
  providers?: Provider[];
  imports?: (Type<unknown> | DynamicModule)[];
}

export interface DashboardApp {
  app: INestApplication;
  /** Origin of the app, e.g. http://127.0.0.1:41234. */
  origin: string;
  logs: NestCapture;
  close(): Promise<void>;
}

/** Boots a real HTTP app (Express or Fastify) with Flume and the dashboard, on a free port. */
export async function bootDashboardApp(spec: DashboardAppSpec): Promise<DashboardApp> {
  const logs = new NestCapture();
  const dashboard =
    'module' in spec.dashboard
      ? (spec.dashboard as DynamicModule)
      : FlumeDashboardModule.forRoot(spec.dashboard as FlumeDashboardOptions);
  const moduleRef = await Test.createTestingModule({
    imports: [FlumeModule.forRoot(spec.flume), dashboard, ...(spec.imports ?? [])],
    controllers: spec.controllers ?? [],
    providers: spec.providers ?? [],
  }).compile();
  const app =
    spec.platform === 'fastify'
      ? moduleRef.createNestApplication<NestFastifyApplication>(
          new FastifyAdapter({ forceCloseConnections: true }),
          // A browser's keep-alive connections must not hold close() up (a busy machine
          // made the hook wait for them past its timeout).
          { logger: logs, forceCloseConnections: true },
        )
      : moduleRef.createNestApplication(new ExpressAdapter(), {
          logger: logs,
          forceCloseConnections: true,
        });
  if (spec.prefix) app.setGlobalPrefix(spec.prefix);
  await app.listen(0, '127.0.0.1');
  const url = new URL(await app.getUrl());
  url.hostname = '127.0.0.1';
  return { app, origin: url.origin, logs, close: () => app.close() };
}
