import type { CanActivate, Type } from '@nestjs/common';
import { FlumeConfigError, keyNameProblemFor } from '../engine/index.js';
import { actionsNeedAGuard, badOption } from './dashboard.messages.js';
import type { FlumeDashboardOptions } from './interfaces/dashboard-options.interface.js';

/** The dashboard's options with every default applied. */
export interface ResolvedDashboardOptions {
  /** Without a trailing slash: `/flume`. */
  path: string;
  guards: (Type<CanActivate> | CanActivate)[];
  /** Whether actions are allowed at all: not read-only, and guarded or opted out. */
  actions: boolean;
  /** True when actions are allowed without any guard. */
  unguardedActions: boolean;
  queues: string[];
  refreshInterval: number;
}

const KNOWN = [
  'path',
  'guards',
  'readOnly',
  'dangerouslyAllowActionsWithoutGuards',
  'queues',
  'refreshInterval',
];

/** A path of plain segments: no parameters, wildcards or anything to escape. */
const PATH = /^(\/[A-Za-z0-9._~-]+)+\/?$/;

const isGuard = (guard: unknown): boolean =>
  typeof guard === 'function' ||
  (typeof guard === 'object' &&
    guard !== null &&
    typeof (guard as CanActivate).canActivate === 'function');

/** Validates the options and applies the defaults, in one place. Throws FlumeConfigError. */
export function resolveDashboardOptions(
  raw: FlumeDashboardOptions | undefined,
): ResolvedDashboardOptions {
  const options = raw ?? {};
  if (typeof options !== 'object') throw new FlumeConfigError(badOption('', 'an object', raw));
  const unknown = Object.keys(options).find((key) => !KNOWN.includes(key));
  if (unknown !== undefined) {
    throw new FlumeConfigError(
      `Unknown option "${unknown}" of FlumeDashboardModule. Known options: ${KNOWN.join(', ')}.`,
    );
  }
  const path = options.path ?? '/flume';
  if (typeof path !== 'string' || !PATH.test(path)) {
    throw new FlumeConfigError(
      badOption('path', "a path of plain segments such as '/flume' (not '/')", path),
    );
  }
  const guards = options.guards ?? [];
  if (!Array.isArray(guards) || !guards.every(isGuard)) {
    throw new FlumeConfigError(
      badOption('guards', 'an array of guard classes or objects with canActivate()', guards),
    );
  }
  for (const key of ['readOnly', 'dangerouslyAllowActionsWithoutGuards'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'boolean') {
      throw new FlumeConfigError(badOption(key, 'a boolean', options[key]));
    }
  }
  const unguarded = options.dangerouslyAllowActionsWithoutGuards === true;
  const guarded = guards.length > 0;
  if (options.readOnly === false && !guarded && !unguarded) {
    throw new FlumeConfigError(actionsNeedAGuard());
  }
  const queues = options.queues ?? [];
  if (!Array.isArray(queues)) {
    throw new FlumeConfigError(badOption('queues', 'an array of queue names', queues));
  }
  for (const queue of queues) {
    const problem = keyNameProblemFor(queue);
    if (problem) throw new FlumeConfigError(`Invalid option "queues": ${problem}`);
  }
  const refreshInterval = options.refreshInterval ?? 3_000;
  if (!Number.isSafeInteger(refreshInterval) || refreshInterval < 500) {
    throw new FlumeConfigError(
      badOption('refreshInterval', 'an integer >= 500 (ms)', refreshInterval),
    );
  }
  const actions = options.readOnly !== true && (guarded || unguarded);
  return {
    path: path.replace(/\/$/, ''),
    guards,
    actions,
    unguardedActions: actions && !guarded,
    queues: [...queues],
    refreshInterval,
  };
}
