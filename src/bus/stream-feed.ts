import { Injectable } from '@nestjs/common';
import { Observable, type Subscriber, type Unsubscribable } from 'rxjs';
import { BusCounters } from './bus-counters.js';
import type { Audience, BusEvent } from './bus-event.js';
import { BusTransport } from './bus-transport.js';
import { ClientRouter } from './client-router.js';
import { withJoinCatchUps } from './join-catch-up.js';
import { type Pacer, resume } from './resume.js';
import type { StreamLease } from './stream-lease.js';
import { type Member, type StreamTopics, cursorTopics, startingTopics } from './topic-change.js';

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
   * `topics` as it is given each. On a sharded log, a change that joins it to topics is followed
   * by what it is owed on them (see `withJoinCatchUps`).
   */
  feed(
    audience: Member,
    lastEventId: string | undefined,
    reader: FeedReader,
  ): Observable<BusEvent> {
    return new Observable<BusEvent>((subscriber) => {
      const end = new FeedEnd(this.transport, audience.clientId);
      // A transport that stopped reading for want of streams reads again first: where it reads
      // on from is where the stream starts.
      const reading = this.transport.attend();
      const open = () => {
        if (!subscriber.closed) end.lease = this.open(audience, lastEventId, reader, subscriber);
      };
      if (reading) void reading.then(open);
      else open();
      return end;
    });
  }

  /** The stream's lease; its events go to `subscriber` once the bus delivers what it may see. */
  private open(
    audience: Member,
    lastEventId: string | undefined,
    reader: FeedReader,
    subscriber: Subscriber<BusEvent>,
  ): StreamLease {
    const lease = this.transport.lease(audience, lastEventId);
    const start = () => this.start(audience, lastEventId, lease, reader, subscriber);
    if (lease.ready) lease.ready.then(start, (err: unknown) => subscriber.error(err));
    else start();
    return lease;
  }

  /**
   * The start, its topics, then the events, in one turn: nothing comes in between the lease's id
   * and the membership being read and the router being subscribed.
   */
  private start(
    audience: Member,
    lastEventId: string | undefined,
    lease: StreamLease,
    reader: FeedReader,
    subscriber: Subscriber<BusEvent>,
  ): void {
    if (subscriber.closed) return;
    const { transport } = this;
    const { clientId, topics: asked } = audience;
    audience.topics = startingTopics(asked, transport.membership(clientId));
    reader.start(lease, !!lastEventId);
    // The topics it had at its cursor, when it resumes: what its replay starts with.
    const atCursor = lastEventId
      ? transport
          .membershipAt(clientId, lastEventId)
          .then((membership) => cursorTopics(asked, membership))
      : undefined;
    const events$ = this.events(audience, atCursor, lastEventId, lease, reader);
    const { joins } = transport;
    const resumed = atCursor && { asked, atCursor };
    (joins ? withJoinCatchUps(events$, joins, audience, lease, resumed) : events$).subscribe(
      subscriber,
    );
  }

  /** Live events, or, when it resumes, what it missed first. */
  private events(
    audience: Member,
    atCursor: Promise<StreamTopics> | undefined,
    lastEventId: string | undefined,
    lease: StreamLease,
    reader: FeedReader,
  ): Observable<BusEvent> {
    const { transport, router, counters } = this;
    if (!lastEventId || !atCursor) return router.view(audience);
    const { clientId } = audience;
    // Routed by its topics now, while the replay gives it those it had at its cursor.
    const live$ = router.view({ clientId, topics: audience.topics });
    return resume(live$, transport, audience, lastEventId, atCursor, lease, reader, counters);
  }

  /** The id of the last event this process has read that `audience` may see: where it starts. */
  position(audience?: Audience): string {
    return this.transport.position(audience);
  }
}

/**
 * The end of a feed: releases its lease (once it has one), and keeps its client's membership from
 * then on. An object rather than a closure, as it is held for as long as the stream is open.
 */
class FeedEnd implements Unsubscribable {
  lease: StreamLease | undefined;

  constructor(
    private readonly transport: BusTransport,
    private readonly clientId: string,
  ) {}

  unsubscribe(): void {
    this.lease?.unsubscribe?.();
    this.transport.unattend();
    this.transport.keepMembership(this.clientId);
  }
}
