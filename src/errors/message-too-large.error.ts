import { SseBusError } from './sse-bus.error.js';

/** The message (its data as JSON, client ids, topics and event name) is over `maxMessageBytes`. */
export class MessageTooLargeError extends SseBusError {
  constructor(
    readonly bytes: number,
    readonly maxBytes: number,
  ) {
    super(
      `The message is ${bytes} bytes (data as JSON, client ids, topics and event name), over the limit of ${maxBytes}`,
    );
  }
}
