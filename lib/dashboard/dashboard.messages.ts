// Messages of the dashboard, in one place: each says how to fix what it reports.
import { describe } from '../engine/index.js';

export function badOption(key: string, expected: string, value: unknown): string {
  const which = key ? `option "${key}" of FlumeDashboardModule` : 'FlumeDashboardModule options';
  return `Invalid ${which}: expected ${expected}, got: ${describe(value)}`;
}

export function actionsNeedAGuard(): string {
  return (
    'FlumeDashboardModule: readOnly: false needs a guard. Protect the dashboard with ' +
    'guards: [YourAdminGuard], or, for a dashboard only a trusted network reaches, set ' +
    'dangerouslyAllowActionsWithoutGuards: true.'
  );
}

export function noGuardWarning(path: string): string {
  return (
    `The Flume dashboard at ${path} has no guard: anyone who can reach it sees every job's ` +
    'arguments. It is read-only; add guards: [YourAdminGuard] to protect it and allow actions.'
  );
}

export function unguardedActionsWarning(path: string): string {
  return (
    `The Flume dashboard at ${path} has no guard and dangerouslyAllowActionsWithoutGuards is set: ` +
    'anyone who can reach it can retry, delete and pause jobs.'
  );
}

export function guardNotResolved(name: string, reason: string): string {
  return (
    `FlumeDashboardModule could not create guard ${name}: ${reason}. Provide it in a module ` +
    'the app imports, or give forRootAsync the imports its dependencies come from.'
  );
}

export function readOnlyRefusal(): string {
  return (
    'The Flume dashboard is read-only: actions need a guard (FlumeDashboardModule guards option) ' +
    'and readOnly not set to true.'
  );
}

export function crossSiteRefusal(why: string): string {
  return `Refused a dashboard action from another site (${why}): actions are sent by the dashboard's own page.`;
}
