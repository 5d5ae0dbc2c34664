// Every class decorated with @Worker in this process, kept by the decorator itself: Nest
// discovers only providers, so a worker class no module lists would otherwise go unseen
// until its jobs are dead. The explorer compares the two at boot.

const declared = new Set<Function>();

/** Called by @Worker for each class it decorates. */
export function recordWorkerClass(target: Function): void {
  declared.add(target);
}

/** The @Worker classes declared so far, in declaration order. */
export function declaredWorkerClasses(): Function[] {
  return [...declared];
}
