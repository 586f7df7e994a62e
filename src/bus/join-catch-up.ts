import { Observable } from 'rxjs';
import type { BusEvent, BusMessage } from './bus-event.js';
import { BusUnavailableError } from '../errors/bus-unavailable.error.js';
import type { StreamLease } from './stream-lease.js';
import {
  type LoggedChange,
  type Member,
  type StreamTopics,
  TOPICS_EVENT,
  topicChangeOf,
} from './topic-change.js';
import { reaches } from './visibility.js';

/** What a sharded log gives a stream whose client joined topics: see `BusTransport.joins`. */
export interface CatchUpSource {
  catchUp(
    message: BusMessage,
    change: LoggedChange,
    joined: readonly string[],
    before: Member['topics'],
    stream: Member,
    lease: StreamLease,
  ): AsyncIterable<BusMessage>;
  /**
   * What a stream resuming from an id given during catch-ups (one, or others met within it) is
   * still owed of them, before anything else; undefined when its id was given during none.
   * `asked`: the topics it asked for; `atCursor`: those it had at its cursor, which the replay
   * gives it.
   */
  resume?(
    stream: Member,
    lease: StreamLease,
    asked: Member['topics'],
    atCursor: Promise<StreamTopics>,
  ): AsyncIterable<BusMessage> | undefined;
}

/** What a resuming stream's catch-ups need of its resume (see `CatchUpSource.resume`). */
export interface ResumedCatchUp {
  readonly asked: Member['topics'];
  readonly atCursor: Promise<StreamTopics>;
}

/** Events held back during one catch-up: a client that cannot keep up is let go to retry. */
const MAX_HELD = 10_000;

/**
 * The events of a stream on a sharded log, live or replayed (`source$`), with each change of its
 * client's topics that joins it to topics followed by what it is owed on them (their messages
 * from each join's marker on, see `CatchUpSource`), before anything that came meanwhile. The same
 * runs whether the change is met live or in a replay, so that a stream that resumes gets what one
 * that stayed got. Events the stream has already (a message at or before where it stands on its
 * shard: heard again after a catch-up read it from the log) are dropped, and so are messages on
 * topics the stream is not on when given them: left at a marker its router entry has not seen
 * (met in a catch-up or a replay), or, to the client, by a change a catch-up held back. A stream
 * that `resumed` from an id given during a catch-up goes on with that catch-up first.
 */
export function withJoinCatchUps(
  source$: Observable<BusEvent>,
  source: CatchUpSource,
  stream: Member,
  lease: StreamLease,
  resumed?: ResumedCatchUp,
): Observable<BusEvent> {
  return new Observable<BusEvent>((subscriber) => {
    let held: BusEvent[] | undefined;
    const pass = (event: BusEvent) => {
      if (held) {
        if (held.push(event) > MAX_HELD) {
          subscriber.error(new BusUnavailableError('The client fell too far behind while joining'));
        }
        return;
      }
      if (event.kind === 'reset') return subscriber.next(event);
      if (lease.has(event)) return;
      // Judged again by the topics the events given before it left (a marker moves them, whatever
      // they are): a replay cannot judge a message to the client while a catch-up holds changes.
      if (event.topics !== null && event.event !== TOPICS_EVENT && !reaches(event, stream)) return;
      const change = topicChangeOf(event);
      const joined = change?.join.filter((topic) => !stream.topics?.has(topic)) ?? [];
      // Placed on the joined topics' shards before the change goes out with its id.
      const owed =
        joined.length > 0
          ? source.catchUp(event, change!, joined, stream.topics, stream, lease)
          : undefined;
      subscriber.next(event);
      if (owed) catchUp(owed);
    };
    const catchUp = (owed: AsyncIterable<BusMessage>) => {
      held = [];
      const run = async () => {
        for await (const message of owed) {
          if (subscriber.closed) return;
          subscriber.next(message);
        }
      };
      run().then(
        () => {
          const events = held!;
          held = undefined;
          // A change among them starts another catch-up, which holds back the rest again.
          events.forEach(pass);
        },
        (err: unknown) => subscriber.error(err),
      );
    };
    const subscription = source$.subscribe({
      next: pass,
      error: (err) => subscriber.error(err),
      complete: () => subscriber.complete(),
    });
    // A resume from the middle of a catch-up goes on with it first, as the stream would have.
    const rest = resumed && source.resume?.(stream, lease, resumed.asked, resumed.atCursor);
    if (rest) catchUp(rest);
    return subscription;
  });
}
