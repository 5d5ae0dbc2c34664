// The queue names @InjectQueue was used with, kept by the decorator itself: FlumeModule
// provides a handle for each. Classes are decorated when their files load, before the
// module that lists them calls FlumeModule.forRoot / forRootAsync.

const injected = new Set<string>();

/** Called by @InjectQueue. */
export function recordQueueInjection(name: string): void {
  injected.add(name);
}

/** Queue names injected so far. */
export function injectedQueues(): ReadonlySet<string> {
  return injected;
}
