import { FlumeError } from './flume.error.js';

/** An option given to `FlumeModule.forRoot` (or a pipeline) is invalid. Thrown at boot. */
export class FlumeConfigError extends FlumeError {}
