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
