import { SseBusError } from './sse-bus.error.js';

/**
 * A change of a client's topics would leave it joined to more than `maxTopicsPerClient`: none of
 * it was made.
 */
export class TooManyTopicsError extends SseBusError {
  constructor(
    readonly topics: number,
    readonly maxTopicsPerClient: number,
  ) {
    super(
      `The change would leave the client joined to ${topics} topics, over the limit of ${maxTopicsPerClient} per client`,
    );
  }
}
