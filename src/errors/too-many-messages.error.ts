import { SseBusError } from './sse-bus.error.js';

/** A batch carries more messages than `maxBatch`. */
export class TooManyMessagesError extends SseBusError {
  constructor(
    readonly messages: number,
    readonly maxBatch: number,
  ) {
    super(`The batch has ${messages} messages, over the limit of ${maxBatch}`);
  }
}
