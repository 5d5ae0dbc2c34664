import type { FlumeTestMode } from '../engine/index.js';

// Messages of the test mode, in one place: each says what to do instead.

export function fakeModeOnly(method: string, mode: FlumeTestMode | undefined): string {
  if (mode === 'memory') {
    return (
      `FlumeTesting.${method}() works in the fake test mode only: in memory mode the pipelines run ` +
      'the jobs themselves. Wait for them with FlumeTesting.untilIdle(), and look at the queues ' +
      "and their retry, scheduled and dead sets with FlumeInspector. Use mode 'fake' to list and drain jobs by hand."
    );
  }
  if (mode === 'inline') {
    return (
      `FlumeTesting.${method}() works in the fake test mode only: in inline mode each job runs ` +
      "as it is enqueued, so none are kept. Use mode 'fake' to list and drain jobs."
    );
  }
  return (
    `FlumeTesting.${method}() works in the fake test mode only, and this app runs Flume on Redis. ` +
    "Override FLUME_TEST_MODE with 'fake', or pass testing: 'fake' to FlumeModule.forRoot. " +
    "(Nest's overrideModule(FlumeModule) does not replace a FlumeModule.forRoot() import: see docs/testing.md.)"
  );
}

export function noPipelinesInTestMode(): string {
  return (
    "Pipeline control is not available in the 'fake' and 'inline' test modes: no pipeline runs. " +
    "Jobs run when the test calls FlumeTesting.drain() (mode 'fake') or as they are enqueued (mode 'inline'). " +
    "Use mode 'memory' to run the pipelines for real."
  );
}

export function untilIdleNeedsEngine(mode: FlumeTestMode | undefined): string {
  return (
    `FlumeTesting.untilIdle() waits for the pipelines, and the '${mode}' test mode runs none. ` +
    "Use mode 'memory' (pipelines run on a store in memory), or FlumeTesting.drain() in mode 'fake'."
  );
}

export function cannotRunHere(jid: string, reason: string): string {
  return (
    `Job ${jid} cannot run: ${reason}. ` +
    'In test mode jobs run only through the @Worker classes of the app under test.'
  );
}

export function runawayDrain(limit: number): string {
  return (
    `drain() ran ${limit} jobs and more are waiting: a job probably enqueues another one ` +
    'every time it runs. Pass drain({ limit }) if the test really needs more.'
  );
}
