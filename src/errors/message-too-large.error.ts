import { SseBusError } from './sse-bus.error.js';

/** The serialized message is over `maxMessageBytes`. */
export class MessageTooLargeError extends SseBusError {
  constructor(
    readonly bytes: number,
    readonly maxBytes: number,
  ) {
    super(`The message is ${bytes} bytes of JSON, over the limit of ${maxBytes}`);
  }
}
