import { Observable } from 'rxjs';
import { BusUnavailableError } from '../errors/bus-unavailable.error.js';
import type { BusCounters } from './bus-counters.js';
import type { BusEvent, BusMessage, BusReset } from './bus-event.js';
import { type BusTransport, HistoryGap } from './bus-transport.js';
import { isDisconnect } from './disconnect.js';
import { START } from './log-position.js';
import type { StreamLease } from './stream-lease.js';
import { type Member, type StreamTopics, TOPICS_EVENT } from './topic-change.js';
import { isVisibleTo } from './visibility.js';

/** A reader that can tell when it has read enough of what was written to it. */
export interface Pacer {
  /** Undefined while it keeps up; otherwise settles once it has read enough (or left). */
  whenWritable(): Promise<void> | undefined;
}

/** Live events held back during one replay: a client that cannot catch up is let go to retry. */
const MAX_HELD_BACK = 10_000;

/**
 * A stream's events from `lastEventId` on: first those it missed that it may see, from the
 * history, then live ones, each exactly once and in order (on a sharded log, the shards
 * interleaved by their entries' times, and in order within each). Live events that arrive
 * during the replay are held back and released after it, minus those the stream has by then (its `lease`, which its client's id starts and
 * each event it is sent moves on). A cursor the history cannot serve gives one `reset`, carrying
 * the position live events continue from. After each replayed message the replay waits for the
 * stream's `pacer`, so history reaches a slow reader at the pace it reads. The replay is read
 * with the topics the stream had at its cursor (`atCursor`), which the changes it replays move to
 * those it has where live events start.
 */
export function resume(
  live$: Observable<BusEvent>,
  transport: BusTransport,
  audience: Member,
  lastEventId: string,
  atCursor: Promise<StreamTopics>,
  lease: StreamLease,
  pacer: Pacer,
  counters: BusCounters,
): Observable<BusEvent> {
  return new Observable<BusEvent>((subscriber) => {
    const start = transport.position(audience);
    const { topics, clientTopics, rejoins } = audience;
    // On a sharded log, a message to the client on topics (not a marker) is judged where it is
    // given, by the changes given before it, which a catch-up may hold back (see withJoinCatchUps).
    const judgedLater = ({ to, topics: on, event }: BusMessage) =>
      transport.joins !== undefined && to !== null && on !== null && event !== TOPICS_EVENT;
    let heldBack: BusEvent[] | undefined = [];
    // Until a live event of a shard (of the log, when it has one order) is new to the stream,
    // the shard's live events may be repeats: of the replay, or of what the client got from an
    // instance that had read further than this one.
    const caughtUp = new Set<number | undefined>();
    const forward = (event: BusEvent) => {
      if (event.kind === 'message' && !caughtUp.has(event.shard)) {
        if (lease.has(event)) return;
        caughtUp.add(event.shard);
      }
      subscriber.next(event);
    };
    const subscription = live$.subscribe({
      next: (event) => {
        if (!heldBack) return forward(event);
        if (heldBack.push(event) > MAX_HELD_BACK) {
          subscriber.error(
            new BusUnavailableError('The client fell too far behind while catching up'),
          );
        }
      },
      error: (err) => subscriber.error(err),
      complete: () => subscriber.complete(),
    });

    const replay = async () => {
      ({
        topics: audience.topics,
        clientTopics: audience.clientTopics,
        rejoins: audience.rejoins,
      } = await atCursor);
      for await (const page of transport.replay(lastEventId, audience)) {
        if (subscriber.closed) return;
        for (const message of page) {
          // A disconnect ended the streams open then: this one, resuming, came after it.
          const visible = judgedLater(message)
            ? message.to!.includes(audience.clientId)
            : isVisibleTo(message, audience);
          if (!visible || lease.has(message) || isDisconnect(message)) continue;
          subscriber.next(message);
          counters.framesReplayed++;
          const backedUp = pacer.whenWritable();
          if (backedUp) await backedUp;
          if (subscriber.closed) return;
        }
      }
    };
    replay()
      .catch((err: unknown) => {
        if (!(err instanceof HistoryGap)) throw err;
        // The cursor means nothing here: every live event from the reset's position on goes out,
        // to the topics the stream has there.
        audience.topics = topics;
        audience.clientTopics = clientTopics;
        audience.rejoins = rejoins;
        subscriber.next(resetAt(start, err));
        counters.resets[err.reason]++;
      })
      .then(
        () => {
          const events = heldBack ?? [];
          heldBack = undefined;
          events.forEach(forward);
        },
        (err: unknown) => subscriber.error(err),
      );
    return subscription;
  });
}

function resetAt(id: string, gap: HistoryGap): BusReset {
  return { kind: 'reset', id, position: START, reason: gap.reason };
}
