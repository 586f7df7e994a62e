import type { PublishOptions } from './bus/message-validation.js';
import type { StreamOptions } from './sse/own-sse-streams.js';

/**
 * The data of each event name, as `MessageBus<Events>` takes it (an interface or a type), the
 * same map as the browser client's `connect<Events>()`: `message` is an event published without
 * a name. This, the default, lets any name through with any data.
 */
export type EventMap = Record<string, unknown>;

/** What an event named `Name` carries in `Events`; `never` for a name it does not have. */
export type EventData<Events extends object, Name extends string> = Name extends keyof Events
  ? Events[Name]
  : never;

/** `publish()`'s options, with its event one of `Name` and its topics among `Topic`. */
export interface TypedPublishOptions<Name extends string, Topic extends string> extends Omit<
  PublishOptions,
  'event' | 'topic'
> {
  event?: Name;
  topic?: Topic | readonly Topic[];
}

/** `sse()`'s options, with its topics among `Topic`. */
export interface TypedStreamOptions<Topic extends string> extends Omit<StreamOptions, 'topics'> {
  topics?: Topic | readonly Topic[];
}
