// Messages of FlumeEngine.untilIdle (FlumeTesting.untilIdle), in one place.

export const idleMessages = {
  needsMemory: (): string =>
    'untilIdle() works on the memory store only (testing: "memory", or connection: { memory: true }): ' +
    'on Redis, other processes change the queues and this process cannot see when they are done.',
};
