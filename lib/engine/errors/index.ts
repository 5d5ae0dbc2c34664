export { FlumeError } from './flume.error.js';
export { FlumeConfigError } from './flume-config.error.js';
export { FlumePayloadError } from './flume-payload.error.js';
export { FlumeWorkerError } from './flume-worker.error.js';
export { FlumeConnectionError } from './flume-connection.error.js';
export { FlumeTimeoutError } from './flume-timeout.error.js';
export { FlumeBatchError, type BatchItemFailure } from './flume-batch.error.js';
export { FlumeUnrecoverableError } from './flume-unrecoverable.error.js';
