/** Injection token of the `FlumeQueue` handle of queue `name`, as used by @InjectQueue. */
export function getQueueToken(name: string): string {
  return `FlumeQueue:${name}`;
}
