// The pipeline names @InjectPipeline was used with, and by which classes, kept by the
// decorator itself: FlumeModule provides a pipeline only under a name it knows, and
// without this, a name it does not know fails the boot with Nest's generic "can't resolve
// dependencies". Classes are decorated when their files load, before the module that
// lists them calls FlumeModule.forRoot / forRootAsync.

const injected = new Map<string, Set<Function>>();

/** Called by @InjectPipeline for each class that injects pipeline `name`. */
export function recordPipelineInjection(name: string, injectingClass: Function): void {
  let classes = injected.get(name);
  if (!classes) injected.set(name, (classes = new Set()));
  classes.add(injectingClass);
}

/** Pipeline names injected so far, with the classes that inject each. */
export function injectedPipelines(): ReadonlyMap<string, ReadonlySet<Function>> {
  return injected;
}
