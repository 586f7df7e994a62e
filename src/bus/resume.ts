import { Observable } from 'rxjs';
import type { BusMetrics } from '../metrics/bus-metrics.js';
import { type Audience, type BusEvent, type BusReset, isVisibleTo } from './bus-event.js';
import { type BusTransport, HistoryGap } from './bus-transport.js';
import { type StreamPosition, comparePositions, parseCursor } from './cursor.js';
import { BusUnavailableError } from './errors/bus-unavailable.error.js';

/** Live events held back during one replay: a client that cannot catch up is let go to retry. */
const MAX_HELD_BACK = 10_000;

/**
 * A stream's events from `lastEventId` on: first those it missed that it may see, from the
 * history, then live ones, each exactly once and in order. Live events that arrive during the
 * replay are held back and released after it, minus those the replay already gave. A cursor the
 * history cannot serve gives one `reset`, carrying the position live events continue from.
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
  pace: () => Promise<void> | undefined,
  metrics: BusMetrics,
): Observable<BusEvent> {
  return new Observable<BusEvent>((subscriber) => {
    const start = transport.position();
    let heldBack: BusEvent[] | undefined = [];
    // Events at or before it were replayed: a reader behind the history may bring them again.
    let replayedUpTo: StreamPosition | undefined;
    const forward = (event: BusEvent) => {
      if (replayedUpTo) {
        if (event.kind === 'message' && comparePositions(event.position, replayedUpTo) <= 0) {
          return;
        }
        replayedUpTo = undefined;
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
      const cursor = parseCursor(lastEventId);
      if (!cursor) throw new HistoryGap('malformed');
      // The client has everything up to its cursor, which may be ahead of this instance's reader
      // (it came from an instance that had read further): live events up to it are repeats too.
      replayedUpTo = cursor;
      for await (const page of transport.history(cursor)) {
        if (subscriber.closed) return;
        for (const message of page) {
          if (!isVisibleTo(message, audience)) continue;
          subscriber.next(message);
          metrics.framesReplayed++;
          replayedUpTo = message.position;
          const backedUp = pace();
          if (backedUp) await backedUp;
          if (subscriber.closed) return;
        }
        replayedUpTo = page[page.length - 1].position;
      }
    };
    replay()
      .catch((err: unknown) => {
        if (!(err instanceof HistoryGap)) throw err;
        // The cursor means nothing here: every live event from the reset's position on goes out.
        replayedUpTo = undefined;
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
  const cursor = parseCursor(id);
  return { kind: 'reset', id, position: cursor ?? { ms: 0, seq: 0 }, reason: gap.reason };
}
