import type { PublishOptions } from './bus/message-validation.js';
import type { StreamOptions } from './sse/own-sse-streams.js';

/*
 * `MessageBus<Events>` takes the data of each event name as a map (an interface or a type), the
 * same as the browser client's `connect<Events>()`: `message` is an event published without a
 * name. A map with no names, `object` (the default, and what `app.get(MessageBus)` gives), lets
 * any name through with any data.
 */

/** The names `publish()` takes: those of `Events`, and `message` (refused without its data). */
export type EventName<Events extends object> = [keyof Events] extends [never]
  ? string
  : (keyof Events & string) | 'message';

/** What an event named `Name` carries in `Events`; `never` for a name it does not have. */
export type EventData<Events extends object, Name extends string> = [keyof Events] extends [never]
  ? unknown
  : Name extends keyof Events
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
