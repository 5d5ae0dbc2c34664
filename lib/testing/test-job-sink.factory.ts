import type { JobSink, ResolvedOptions, WorkerRegistry } from '../engine/index.js';
import { FakeJobSink } from './fake-job-sink.js';
import { InlineJobSink } from './inline-job-sink.js';
import { JobPerformer } from './job-performer.js';

/** The sink FlumeClient writes to in test mode, in place of the Redis enqueuer. */
export function createTestJobSink(options: ResolvedOptions, registry: WorkerRegistry): JobSink {
  const performer = new JobPerformer(registry, options);
  return options.testing === 'inline'
    ? new InlineJobSink(performer, options)
    : new FakeJobSink(performer, options);
}
