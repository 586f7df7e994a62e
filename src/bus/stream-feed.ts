import { Injectable } from '@nestjs/common';
import { Observable } from 'rxjs';
import { BusCounters } from './bus-counters.js';
import type { Audience, BusEvent } from './bus-event.js';
import { BusTransport } from './bus-transport.js';
import { ClientRouter } from './client-router.js';
import { type Pacer, resume } from './resume.js';
import type { StreamLease } from './stream-lease.js';

/** What reads a feed: a stream, told where it starts, and waited for during a replay. */
export interface FeedReader extends Pacer {
  /**
   * The bus delivers everything the stream may see from now on: `lease.id` is where the stream
   * starts (the client's own `Last-Event-ID` when it `resumes`). No event comes before.
   */
  start(lease: StreamLease, resumes: boolean): void;
}

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
   * The events of a stream of `audience` from `lastEventId` (or from now): what it missed when
   * it resumes, then live events, each once and in order, once `reader` is told the stream's
   * lease. A view of the router's one shared stream, not a pipeline of its own: unsubscribing
   * takes the stream out of the router and releases its lease. The lease comes to the reader
   * rather than down the stream, so that its events are all alike where they are hot.
   */
  feed(
    audience: Audience,
    lastEventId: string | undefined,
    reader: FeedReader,
  ): Observable<BusEvent> {
    return new Observable<BusEvent>((subscriber) => {
      const lease = this.transport.lease(audience, lastEventId);
      // The start, then the events, in one turn: nothing comes in between the lease's id being
      // read and the router being subscribed.
      const start = () => {
        if (subscriber.closed) return;
        reader.start(lease, !!lastEventId);
        const live$ = this.router.view(audience);
        const { transport, counters } = this;
        const events$ = lastEventId
          ? resume(live$, transport, audience, lastEventId, lease, reader, counters)
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
