export { FlumeError } from './flume.error.js';
export { FlumeConfigError } from './flume-config.error.js';
export { FlumePayloadError } from './flume-payload.error.js';
export { FlumeWorkerError } from './flume-worker.error.js';
export { FlumeConnectionError } from './flume-connection.error.js';
