import type { SseBusError } from '../errors/sse-bus.error.js';
import type { PublishOptions } from './message-validation.js';

/** One message of `MessageBus.publishMany()`: its data, and the options `publish()` takes. */
export interface PublishMessage extends PublishOptions {
  data: unknown;
}

/** What became of one message of a batch: its event id, or why it was not sent. */
export type PublishResult = { readonly id: string } | { readonly error: SseBusError };
