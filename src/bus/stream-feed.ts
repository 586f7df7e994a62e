import { Injectable } from '@nestjs/common';
import { Observable } from 'rxjs';
import { BusCounters } from './bus-counters.js';
import type { Audience, BusEvent } from './bus-event.js';
import { BusTransport } from './bus-transport.js';
import { ClientRouter } from './client-router.js';
import { type Pacer, resume } from './resume.js';
import type { StreamLease } from './stream-lease.js';

/**
 * The first thing a feed gives, once the bus delivers everything its audience may see: the
 * stream's lease, whose id is where the stream starts (the client's own `Last-Event-ID` when it
 * `resumes`). Nothing of the bus comes before it.
 */
export interface FeedStart {
  readonly kind: 'start';
  readonly lease: StreamLease;
  readonly resumes: boolean;
}

export type FeedEvent = FeedStart | BusEvent;

/**
 * Where every stream's events come from, whichever way it is written: `feed(audience,
 * lastEventId)` is the one call from the bus to a stream.
 */
@Injectable()
export class StreamFeeds {
  constructor(
    private readonly transport: BusTransport,
    private readonly router: ClientRouter,
    private readonly counters: BusCounters,
  ) {}

  /**
   * The events of a stream of `audience` from `lastEventId` (or from now): a `start` with the
   * stream's lease, then what it missed when it resumes, then live events, each once and in
   * order. A view of the router's one shared stream, not a pipeline of its own: unsubscribing
   * takes the stream out of the router and releases its lease. `pacer` is the stream's reader,
   * which a replay waits for.
   */
  feed(audience: Audience, lastEventId: string | undefined, pacer: Pacer): Observable<FeedEvent> {
    return new Observable<FeedEvent>((subscriber) => {
      const lease = this.transport.lease(audience, lastEventId);
      // The start, then the events, in one turn: nothing comes in between the lease's id being
      // read and the router being subscribed.
      const start = () => {
        if (subscriber.closed) return;
        subscriber.next({ kind: 'start', lease, resumes: !!lastEventId });
        const live$ = this.router.view(audience);
        const { transport, counters } = this;
        const events$ = lastEventId
          ? resume(live$, transport, audience, lastEventId, lease, pacer, counters)
          : live$;
        events$.subscribe(subscriber);
      };
      if (lease.ready) lease.ready.then(start, (err: unknown) => subscriber.error(err));
      else start();
      // A lease that holds nothing costs the stream no teardown.
      return lease.unsubscribe ? (lease as Required<StreamLease>) : undefined;
    });
  }

  /** The id of the last event this process has read that `audience` may see: where it starts. */
  position(audience?: Audience): string {
    return this.transport.position(audience);
  }
}
