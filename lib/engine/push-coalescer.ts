import type { QueueKeys } from './keys.js';

/** Sends the payloads of one queue in one command; resolves once Redis has them all. */
export type PushMany = (keys: QueueKeys, payloads: string[]) => Promise<void>;

interface Group {
  keys: QueueKeys;
  payloads: string[];
  settle: { resolve: () => void; reject: (err: unknown) => void }[];
}

/** Most jobs one coalesced command carries; more start another. */
const MAX_GROUP = 1_000;

/**
 * Single enqueues to one queue made in the same turn of the event loop (concurrent
 * callers: request handlers, a loop of un-awaited enqueues) go to Redis as one RPUSH,
 * in the order they were made. Each call still resolves only once Redis has its job,
 * and fails with the command when it fails (the RPUSH stores all or none).
 */
export class PushCoalescer {
  private readonly groups = new Map<string, Group>();
  private scheduled = false;

  constructor(private readonly pushMany: PushMany) {}

  push(keys: QueueKeys, payload: string): Promise<void> {
    let group = this.groups.get(keys.waiting);
    if (!group || group.payloads.length >= MAX_GROUP) {
      if (group) this.send(group);
      group = { keys, payloads: [], settle: [] };
      this.groups.set(keys.waiting, group);
    }
    group.payloads.push(payload);
    const done = new Promise<void>((resolve, reject) => group.settle.push({ resolve, reject }));
    if (!this.scheduled) {
      this.scheduled = true;
      // After this turn's synchronous code and every promise it settles: the callers
      // that continue from one reply all join the next command.
      process.nextTick(() => this.flush());
    }
    return done;
  }

  private flush(): void {
    this.scheduled = false;
    const groups = [...this.groups.values()];
    this.groups.clear();
    for (const group of groups) this.send(group);
  }

  private send(group: Group): void {
    this.pushMany(group.keys, group.payloads).then(
      () => {
        for (const { resolve } of group.settle) resolve();
      },
      (err: unknown) => {
        for (const { reject } of group.settle) reject(err);
      },
    );
  }
}
