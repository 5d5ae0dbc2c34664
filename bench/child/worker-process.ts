// A worker process: runs one library's consumer on its own, as a user's worker process
// runs, so its CPU, memory and event loop are its own (not the bench's, not the
// producer's). Started by child/spawn.ts with a WorkerProcessSpec.
import 'reflect-metadata';
import { loadLib } from '../libs/index.js';
import { Probe } from '../probe.js';
import { startProfile } from '../profile/cpu.js';
import { epochMs } from '../rows/context.js';
import {
  cpuMicros,
  memorySample,
  type ParentMessage,
  type WorkerMessage,
  type WorkerProcessSpec,
} from './protocol.js';

function send(message: WorkerMessage, then?: () => void): void {
  process.send!(message, undefined, {}, then);
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2]) as WorkerProcessSpec;
  const probe = new Probe(spec.expected);
  const milestones = [...spec.milestones].sort((a, b) => a - b);
  const starts = spec.recordStarts ? new Float64Array(spec.expected).fill(NaN) : undefined;
  let firstAt = NaN;
  let lastAt = NaN;
  let cpuAtFirstUs = NaN;
  let next = 0;
  // Per job: two clock reads and a compare; a milestone report is rare.
  probe.onHit = (index) => {
    const at = epochMs();
    if (probe.calls === 1) {
      firstAt = at;
      cpuAtFirstUs = cpuMicros();
    }
    lastAt = at;
    if (starts && index >= 0 && index < starts.length && Number.isNaN(starts[index])) {
      starts[index] = at;
    }
    while (next < milestones.length && probe.distinct >= milestones[next]) {
      send({
        type: 'milestone',
        count: milestones[next],
        at,
        cpuUs: cpuMicros(),
        ...memorySample(spec.gcSamples),
      });
      next++;
    }
  };
  const lib = await loadLib(spec.lib);
  if (spec.waitForGo) {
    const go = new Promise<void>((resolve) =>
      process.on('message', (message: ParentMessage) => message.type === 'go' && resolve()),
    );
    send({ type: 'loaded' });
    await go;
  }
  const profile = await startProfile(spec.profileFile);
  const session = await lib.open({
    port: spec.port,
    namespace: spec.namespace,
    batchSize: spec.batchSize,
    consume: {
      concurrency: spec.concurrency,
      probe,
      handlerMs: spec.handlerMs,
      groupConcurrency: spec.groupConcurrency,
      prefetch: spec.prefetch,
    },
  });
  send({ type: 'ready', ...memorySample(spec.gcSamples) });
  process.on('message', (message: ParentMessage) => {
    if (message.type !== 'stop') return;
    const cpuAtStopUs = cpuMicros();
    void profile
      .stop()
      .then(() => session.close())
      .then(() => {
        send(
          {
            type: 'stopped',
            report: {
              calls: probe.calls,
              distinct: probe.distinct,
              duplicates: probe.duplicates,
              firstAt,
              lastAt,
              cpuAtFirstUs,
              cpuAtStopUs,
              seen: probe.seenBytes(),
              starts,
            },
            ...memorySample(spec.gcSamples),
          },
          // Once written: a large report is still being sent when send() returns.
          () => process.disconnect(),
        );
      });
  });
}

main().catch((err: Error) => {
  process.exitCode = 1;
  send({ type: 'error', message: err.stack ?? err.message }, () => process.disconnect());
});
