import { SseBusError } from './sse-bus.error.js';

/** The message names more client ids than `maxRecipients`. */
export class TooManyRecipientsError extends SseBusError {
  constructor(
    readonly recipients: number,
    readonly maxRecipients: number,
  ) {
    super(`The message names ${recipients} client ids, over the limit of ${maxRecipients}`);
  }
}
