// Messages of the memory store, in one place: each says what it means for the app.

export function memoryStoreWarning(): string {
  return (
    'Flume keeps its jobs in the memory of this process (connection: { memory: true }): ' +
    'one process only, nothing is durable, and jobs not done when the process exits are lost. ' +
    'Use Redis to keep jobs across restarts or to share queues between processes.'
  );
}

export function memoryRunsEveryPipeline(leftOut: readonly string[], testing: boolean): string {
  const names = leftOut.map((name) => `"${name}"`).join(', ');
  const where = testing ? "testing: 'memory'" : 'connection: { memory: true }';
  return (
    `Invalid option "runPipelines" with ${where}: it leaves out ${names}. ` +
    'The memory store lives in this one process, so no other process can run those pipelines, ' +
    'and their jobs would never run. Remove runPipelines (every declared pipeline runs here), ' +
    (testing
      ? "or use testing: 'fake' to look at the enqueued jobs without running them."
      : 'or use Redis to share queues between processes.')
  );
}
