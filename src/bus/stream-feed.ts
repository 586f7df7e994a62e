import { Injectable } from '@nestjs/common';
import { Observable, type Unsubscribable } from 'rxjs';
import { BusCounters } from './bus-counters.js';
import type { Audience, BusEvent } from './bus-event.js';
import { BusTransport } from './bus-transport.js';
import { ClientRouter } from './client-router.js';
import { type Pacer, resume } from './resume.js';
import type { StreamLease } from './stream-lease.js';
import { type Member, applyTopicChange, startingTopics } from './topic-change.js';

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
   *
   * The stream's topics are those it asked for with its client's membership applied, as it
   * stood where the stream starts; the changes that follow reach it in log order, and move its
   * `topics` as it is given each.
   */
  feed(
    audience: Member,
    lastEventId: string | undefined,
    reader: FeedReader,
  ): Observable<BusEvent> {
    return new Observable<BusEvent>((subscriber) => {
      const { clientId } = audience;
      const end = new FeedEnd(this.transport, clientId);
      // The membership is read as it stood at the last event routed; what the router routes
      // meanwhile is added to it.
      const watch = this.router.watchChanges(clientId);
      const ids = [this.transport.position(), ...(lastEventId ? [lastEventId] : [])];
      this.transport.membershipAt(clientId, ids).then(
        ([now, atCursor]) => {
          watch.unsubscribe();
          if (subscriber.closed) return;
          const routed = watch.changes.reduce(
            applyTopicChange,
            startingTopics(audience.topics, now),
          );
          audience.topics = atCursor ? startingTopics(audience.topics, atCursor) : routed;
          this.open(audience, routed, lastEventId, reader, end).subscribe(subscriber);
        },
        (err: unknown) => {
          watch.unsubscribe();
          subscriber.error(err);
        },
      );
      return end;
    });
  }

  /** The id of the last event this process has read that `audience` may see: where it starts. */
  position(audience?: Audience): string {
    return this.transport.position(audience);
  }

  /** The stream's events, its topics known: `routed` from now on, its own at its cursor. */
  private open(
    audience: Audience,
    routed: Audience['topics'],
    lastEventId: string | undefined,
    reader: FeedReader,
    end: FeedEnd,
  ): Observable<BusEvent> {
    return new Observable<BusEvent>((subscriber) => {
      const lease = (end.lease = this.transport.lease(audience, lastEventId));
      // The start, then the events, in one turn: nothing comes in between the lease's id being
      // read and the router being subscribed.
      const start = () => {
        if (subscriber.closed) return;
        reader.start(lease, !!lastEventId);
        const live$ = this.router.view(audience, routed);
        const { transport, counters } = this;
        const events$ = lastEventId
          ? resume(live$, transport, audience, lastEventId, lease, reader, counters)
          : live$;
        events$.subscribe(subscriber);
      };
      if (lease.ready) lease.ready.then(start, (err: unknown) => subscriber.error(err));
      else start();
    });
  }
}

/**
 * The end of a feed: releases its lease, and keeps its client's membership from then on. An
 * object rather than a closure, as it is held for as long as the stream is open.
 */
class FeedEnd implements Unsubscribable {
  lease: StreamLease | undefined;

  constructor(
    private readonly transport: BusTransport,
    private readonly clientId: string,
  ) {}

  unsubscribe(): void {
    this.lease?.unsubscribe?.();
    this.transport.keepMembership(this.clientId);
  }
}
