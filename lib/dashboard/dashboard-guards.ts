import {
  Inject,
  Injectable,
  Logger,
  type CanActivate,
  type ExecutionContext,
  type OnModuleInit,
  type Type,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { isObservable, lastValueFrom } from 'rxjs';
import { FLUME_DASHBOARD_RESOLVED } from './dashboard.constants.js';
import { guardNotResolved, noGuardWarning, unguardedActionsWarning } from './dashboard.messages.js';
import type { ResolvedDashboardOptions } from './dashboard-options.js';

/**
 * The user's guards, as instances: a class is taken from the app's providers when it
 * is one, else created with its dependencies injected (as `@UseGuards` would). Built
 * at init, so a guard that cannot be made fails the boot, not a request. Known only
 * once the options are (forRootAsync), which is why they are not `@UseGuards` metadata.
 */
@Injectable()
export class DashboardGuards implements OnModuleInit {
  private readonly logger = new Logger('FlumeDashboard');
  private guards: CanActivate[] = [];

  constructor(
    @Inject(FLUME_DASHBOARD_RESOLVED) private readonly options: ResolvedDashboardOptions,
    private readonly moduleRef: ModuleRef,
  ) {}

  async onModuleInit(): Promise<void> {
    this.guards = await Promise.all(this.options.guards.map((guard) => this.instance(guard)));
    const { path, unguardedActions } = this.options;
    if (unguardedActions) this.logger.warn(unguardedActionsWarning(path));
    else if (this.guards.length === 0) this.logger.warn(noGuardWarning(path));
  }

  /** True when every guard lets the request through (a guard may throw its own error). */
  async allow(context: ExecutionContext): Promise<boolean> {
    for (const guard of this.guards) {
      const result = guard.canActivate(context);
      const allowed = isObservable(result) ? await lastValueFrom(result) : await result;
      if (!allowed) return false;
    }
    return true;
  }

  private async instance(guard: Type<CanActivate> | CanActivate): Promise<CanActivate> {
    if (typeof guard !== 'function') return guard;
    try {
      return this.moduleRef.get(guard, { strict: false });
    } catch {
      // Not a provider of the app: make one, as Nest does for @UseGuards(Class).
    }
    try {
      return await this.moduleRef.create(guard);
    } catch (err) {
      throw new Error(guardNotResolved(guard.name, (err as Error).message));
    }
  }
}
