/** Options of `@Worker(queue, options)`. */
export interface WorkerOptions {
  /** Name jobs carry to find this worker. Default: the class name. Must be unique. */
  name?: string;
  /** Method that runs a job when the job names none. Default `'perform'`. */
  method?: string;
  /** Overrides the module's `maxRetries` for this worker's jobs. */
  maxRetries?: number;
}

/** What @Worker stores on the class. */
export interface WorkerMetadata {
  queue: string;
  name: string;
  method: string;
  maxRetries?: number;
}
