// A worker process of rows 3 and 7: runs one library's consumer on its own, so its
// CPU and memory are its own. Started by child/spawn.ts with a WorkerProcessSpec.
import 'reflect-metadata';
import { LIBS } from '../libs/index.js';
import { Probe } from '../probe.js';
import { epochMs } from '../rows/context.js';
import {
  memorySample,
  type ParentMessage,
  type WorkerMessage,
  type WorkerProcessSpec,
} from './protocol.js';

function send(message: WorkerMessage): void {
  process.send!(message);
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2]) as WorkerProcessSpec;
  const probe = new Probe(spec.expected);
  const milestones = [...spec.milestones].sort((a, b) => a - b);
  let next = 0;
  probe.onHit = () => {
    while (next < milestones.length && probe.distinct >= milestones[next]) {
      send({
        type: 'milestone',
        count: milestones[next],
        at: epochMs(),
        ...memorySample(spec.gcSamples),
      });
      next++;
    }
  };
  const session = await LIBS[spec.lib].open({
    port: spec.port,
    namespace: spec.namespace,
    consume: { concurrency: spec.concurrency, probe },
  });
  send({ type: 'ready', ...memorySample(spec.gcSamples) });
  process.on('message', (message: ParentMessage) => {
    if (message.type !== 'stop') return;
    void session.close().then(() => {
      const { calls, distinct, duplicates } = probe;
      send({ type: 'stopped', calls, distinct, duplicates, ...memorySample(spec.gcSamples) });
      process.disconnect();
    });
  });
}

main().catch((err: Error) => {
  send({ type: 'error', message: err.stack ?? err.message });
  process.disconnect();
  process.exitCode = 1;
});
