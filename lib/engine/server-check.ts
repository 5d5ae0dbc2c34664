import type { FlumeLogger } from './logger.js';
import type { RedisStore } from './redis-store.js';

/** LPOP with a count, used by the take script, came with Redis 6.2. */
const MIN_VERSION = [6, 2];

/** Reads one field of an INFO reply. */
function infoField(info: string, field: string): string | undefined {
  return new RegExp(`^${field}:(.*)$`, 'm').exec(info)?.[1]?.trim();
}

/** Compares dotted versions: true when `version` is at least `min`. */
export function versionAtLeast(version: string, min: readonly number[]): boolean {
  const parts = version.split('.').map(Number);
  for (let i = 0; i < min.length; i++) {
    if ((parts[i] ?? 0) !== min[i]) return (parts[i] ?? 0) > min[i];
  }
  return true;
}

/**
 * Says what would make Redis lose or refuse jobs: an eviction policy (an evicting
 * Redis drops keys, jobs included, silently when memory is full) or a version older
 * than the scripts need. Warnings only: the app runs on.
 */
export async function checkServer(store: RedisStore, logger: FlumeLogger): Promise<void> {
  let info: string;
  try {
    info = await store.serverInfo();
  } catch {
    return; // INFO may be denied by an ACL; nothing to say then.
  }
  const version = infoField(info, 'redis_version');
  if (version && !versionAtLeast(version, MIN_VERSION)) {
    logger.error(
      `Redis ${version} is older than ${MIN_VERSION.join('.')}: taking jobs will fail (LPOP with a count). Upgrade Redis.`,
    );
  }
  const policy = infoField(info, 'maxmemory_policy');
  if (policy && policy !== 'noeviction') {
    logger.warn(
      `Redis maxmemory-policy is "${policy}": when memory is full Redis evicts keys, and jobs with them, silently. ` +
        'Set maxmemory-policy to noeviction for a Redis that holds jobs.',
    );
  }
}
