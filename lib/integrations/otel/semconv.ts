// The attributes of Flume's spans: OpenTelemetry's messaging semantic conventions
// (messaging.*), and Flume's own (flume.*) for what they have no name for.

export const MESSAGING_SYSTEM = 'messaging.system';
export const MESSAGING_DESTINATION_NAME = 'messaging.destination.name';
export const MESSAGING_OPERATION_TYPE = 'messaging.operation.type';
export const MESSAGING_OPERATION_NAME = 'messaging.operation.name';
export const MESSAGING_MESSAGE_ID = 'messaging.message.id';
export const MESSAGING_BATCH_MESSAGE_COUNT = 'messaging.batch.message_count';
/** The registered name of the worker. */
export const FLUME_WORKER = 'flume.worker';
/** The handler method the job names (absent when it leaves that to the worker). */
export const FLUME_JOB_FUNCTION = 'flume.job.function';
/** Which attempt this run is: 1 for the first, 2 for the first retry, ... */
export const FLUME_JOB_ATTEMPT = 'flume.job.attempt';

/** The value of messaging.system. */
export const SYSTEM = 'flume';
