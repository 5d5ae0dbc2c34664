// Messages of the Nest layer, in one place: each says how to fix what it reports.

/** A @Worker class on a queue this process runs, that no module lists in its providers. */
export function workerNotProvided(className: string, name: string, queue: string): string {
  return (
    `Worker class ${className} has @Worker('${queue}') but no module lists it in its providers, ` +
    `so this process runs queue "${queue}" without it: its jobs (worker "${name}") would go to the ` +
    `dead set. Add ${className} to a module's providers.`
  );
}

/** An enqueue naming a @Worker class that discovery never found, for a queue run here. */
export function enqueueOfWorkerNotProvided(className: string, queue: string): string {
  return (
    `Worker class ${className} is not registered: no module lists it in its providers. ` +
    `This process runs queue "${queue}", where the job would go to the dead set. ` +
    `Add ${className} to a module's providers.`
  );
}

/** A pipeline injected with @InjectPipeline that the module does not provide. */
export function pipelineNotProvided(
  name: string,
  injectedBy: readonly string[],
  async: boolean,
  provided: readonly string[],
): string {
  const by = `${injectedBy.join(', ')} ${injectedBy.length > 1 ? 'inject' : 'injects'}`;
  const listed = provided.map((n) => `"${n}"`).join(', ') || 'none';
  if (async) {
    return (
      `${by} @InjectPipeline('${name}'), but FlumeModule.forRootAsync provides no pipeline "${name}": ` +
      'under forRootAsync the pipeline names must be listed in its "pipelines" option, since they are needed ' +
      `before the factory runs. Add it: FlumeModule.forRootAsync({ ..., pipelines: ['${name}'] }) ` +
      `(listed now: ${listed}).`
    );
  }
  return (
    `${by} @InjectPipeline('${name}'), but FlumeModule.forRoot configures no pipeline "${name}" ` +
    `(configured: ${listed}). Add { name: '${name}', queue: '...' } to its "pipelines" option, ` +
    'or to the FlumeModule.forFeature({ pipelines }) of the module that owns its workers.'
  );
}
