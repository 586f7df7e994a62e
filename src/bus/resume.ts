import { Observable } from 'rxjs';
import type { BusMetrics } from '../metrics/bus-metrics.js';
import { type Audience, type BusEvent, type BusReset, isVisibleTo } from './bus-event.js';
import { type BusTransport, HistoryGap } from './bus-transport.js';
import { START } from './cursor.js';
import { BusUnavailableError } from './errors/bus-unavailable.error.js';
import type { StreamCursor } from './stream-cursor.js';

/** Live events held back during one replay: a client that cannot catch up is let go to retry. */
const MAX_HELD_BACK = 10_000;

/**
 * A stream's events from `lastEventId` on: first those it missed that it may see, from the
 * history, then live ones, each exactly once and in order. Live events that arrive during the
 * replay are held back and released after it, minus those the stream has by then (`cursor`,
 * which its client's id starts and each event it is sent moves on). A cursor the history cannot
 * serve gives one `reset`, carrying the position live events continue from.
 *
 * @param pace called after each replayed message; when it returns a promise, the replay waits
 * for it, so history reaches a slow reader at the pace it reads.
 * @param metrics counts the messages replayed and the resets.
 */
export function resume(
  live$: Observable<BusEvent>,
  transport: BusTransport,
  audience: Audience,
  lastEventId: string,
  cursor: StreamCursor,
  pace: () => Promise<void> | undefined,
  metrics: BusMetrics,
): Observable<BusEvent> {
  return new Observable<BusEvent>((subscriber) => {
    const start = transport.position(audience);
    let heldBack: BusEvent[] | undefined = [];
    // Until a live event of a shard (of the log, when it has one order) is new to the stream,
    // the shard's live events may be repeats: of the replay, or of what the client got from an
    // instance that had read further than this one.
    const caughtUp = new Set<number | undefined>();
    const forward = (event: BusEvent) => {
      if (event.kind === 'message' && !caughtUp.has(event.shard)) {
        if (cursor.has(event)) return;
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
      for await (const page of transport.replay(lastEventId, audience)) {
        if (subscriber.closed) return;
        for (const message of page) {
          if (!isVisibleTo(message, audience) || cursor.has(message)) continue;
          subscriber.next(message);
          metrics.framesReplayed++;
          const backedUp = pace();
          if (backedUp) await backedUp;
          if (subscriber.closed) return;
        }
      }
    };
    replay()
      .catch((err: unknown) => {
        if (!(err instanceof HistoryGap)) throw err;
        // The cursor means nothing here: every live event from the reset's position on goes out.
        subscriber.next(resetAt(start, err));
        metrics.resets[err.reason]++;
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
