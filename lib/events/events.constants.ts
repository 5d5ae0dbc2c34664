/** Metadata key written by @OnFlumeEvent on the method: the event types it listens to. */
export const FLUME_EVENT_LISTENER_METADATA = 'flume:on-event';
