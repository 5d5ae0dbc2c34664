import {
  ForbiddenException,
  Inject,
  Injectable,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { FLUME_DASHBOARD_RESOLVED } from './dashboard.constants.js';
import { DashboardGuards } from './dashboard-guards.js';
import { crossSiteRefusal, readOnlyRefusal } from './dashboard.messages.js';
import type { ResolvedDashboardOptions } from './dashboard-options.js';
import { crossSiteProblem } from './same-origin.js';

/**
 * The one guard on the dashboard's routes: the user's guards first (every request),
 * then, for an action (a POST), the cross-site check and the read-only refusal, both
 * on the server: a page that hides its buttons protects nothing.
 */
@Injectable()
export class DashboardAccessGuard implements CanActivate {
  constructor(
    private readonly guards: DashboardGuards,
    @Inject(FLUME_DASHBOARD_RESOLVED) private readonly options: ResolvedDashboardOptions,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (!(await this.guards.allow(context))) return false;
    const request = context.switchToHttp().getRequest<{
      method: string;
      headers: Record<string, string | string[] | undefined>;
    }>();
    if (request.method !== 'POST') return true;
    const crossSite = crossSiteProblem(request.headers);
    if (crossSite) throw new ForbiddenException(crossSiteRefusal(crossSite));
    if (!this.options.actions) throw new ForbiddenException(readOnlyRefusal());
    return true;
  }
}
