/** Base class of every error nestjs-flume throws: `err instanceof FlumeError`. */
export class FlumeError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}
