// Engine events for Nest providers: @OnFlumeEvent methods, discovered at boot.
export { OnFlumeEvent } from './on-flume-event.decorator.js';
export type { FlumeEventOf } from './event-listeners.js';
