import { Observable, type Subscriber, type Subscription, type Unsubscribable } from 'rxjs';
import type { BusCounters } from './bus-counters.js';
import type { Audience, BusEvent, BusMessage } from './bus-event.js';
import { type TopicChange, moveTopics, topicEffectOf } from './topic-change.js';
import { reaches } from './visibility.js';

type Route = Subscriber<BusEvent>;
/**
 * The routes of one client or topic: the route itself while there is one (the usual case), a
 * set once there are more. An index entry is held per open stream, and a set costs more than
 * the rest of the entry.
 */
type Routes = Route | Set<Route>;

/** Told when a stream opens or ends: what presence is counted from. */
export interface RouteWatcher {
  joined(audience: Audience): void;
  left(audience: Audience): void;
}

/**
 * Routes one hot stream of bus events to many streams: `view(audience)` is
 * `events$.pipe(filter((e) => isVisibleTo(e, audience)))`, but a message for one client or one
 * topic touches that client's or topic's subscribers only, not a predicate per open stream.
 * Subscribing adds to the indexes, unsubscribing removes from them; the source is subscribed
 * while anyone listens. A change of a client's topics (or, on a sharded log, its marker) moves its
 * streams in the topic index, in log order, before they are given it.
 */
export class ClientRouter {
  private readonly everyone = new Map<Route, Audience>();
  private readonly byClient = new Map<string, Routes>();
  private readonly byTopic = new Map<string, Routes>();
  private connection: Subscription | undefined;
  private watcher: RouteWatcher | undefined;

  constructor(
    private readonly source: Observable<BusEvent>,
    private readonly counters: BusCounters,
  ) {}

  get size(): number {
    return this.everyone.size;
  }

  /** How many distinct clients have a stream open. */
  get clients(): number {
    return this.byClient.size;
  }

  watch(watcher: RouteWatcher): void {
    this.watcher = watcher;
  }

  /**
   * The events a stream of `audience` gets, routed by its topics, which its client's changes
   * move from then on.
   */
  view(audience: Audience): Observable<BusEvent> {
    return new Observable<BusEvent>((route) => {
      this.everyone.set(route, audience);
      const { clientId, topics } = audience;
      add(this.byClient, clientId, route);
      topics?.forEach((topic) => add(this.byTopic, topic, route));
      this.watcher?.joined(audience);
      this.connection ??= this.source.subscribe({
        next: (event) => this.route(event),
        complete: () => this.everyone.forEach((_, each) => each.complete()),
      });
      return new Membership(this, route);
    });
  }

  /** Takes `route` out of the indexes: what unsubscribing from its view does. */
  leave(route: Route): void {
    const audience = this.everyone.get(route);
    if (!audience) return;
    const { clientId, topics } = audience;
    remove(this.byClient, clientId, route);
    topics?.forEach((topic) => remove(this.byTopic, topic, route));
    this.everyone.delete(route);
    this.watcher?.left(audience);
    if (this.everyone.size === 0) {
      this.connection?.unsubscribe();
      this.connection = undefined;
    }
  }

  streamsOf(clientId: string): number {
    const routes = this.byClient.get(clientId);
    return routes === undefined ? 0 : routes instanceof Set ? routes.size : 1;
  }

  /** The ids of the clients with a stream open. */
  clientIds(): Iterable<string> {
    return this.byClient.keys();
  }

  /** The audience of every open stream: the whole of this instance's presence. */
  *audiences(): Iterable<Audience> {
    yield* this.everyone.values();
  }

  /** Up to `limit` client ids with a stream on `topic`. */
  clientsOn(topic: string, limit: number): string[] {
    const clients = new Set<string>();
    for (const route of each(this.byTopic.get(topic))) {
      if (clients.size >= limit) break;
      clients.add(this.everyone.get(route)!.clientId);
    }
    return [...clients];
  }

  /**
   * Moves `route` to the topics `message` (whose effect on routing is `effect`) leaves it on, in
   * the indexes and for presence.
   */
  private retopic(route: Route, message: BusMessage, effect: TopicChange): void {
    const before = this.everyone.get(route)!;
    const after = { clientId: before.clientId, ...moveTopics(before, message, effect) };
    before.topics?.forEach((topic) => remove(this.byTopic, topic, route));
    after.topics?.forEach((topic) => add(this.byTopic, topic, route));
    this.everyone.set(route, after);
    this.watcher?.left(before);
    this.watcher?.joined(after);
  }

  private route(event: BusEvent): void {
    if (event.kind === 'reset' || (event.to === null && event.topics === null)) {
      const reached = this.everyone.size;
      for (const route of this.everyone.keys()) route.next(event);
      this.counters.framesDelivered += reached;
      if (event.kind === 'reset') this.counters.resets[event.reason] += reached;
    } else if (event.to !== null) {
      this.counters.framesDelivered += this.toClients(event, event.to);
    } else {
      this.counters.framesDelivered += this.toTopics(event, event.topics!);
    }
  }

  /** Routes `message` to the streams of `clientIds`; returns how many it reached. */
  private toClients(message: BusMessage, clientIds: readonly string[]): number {
    let reached = 0;
    const effect = topicEffectOf(message);
    // A marker goes to each stream of its client, which applies what is its to take.
    const marker = effect !== undefined && message.topics !== null;
    for (const clientId of clientIds) {
      for (const route of each(this.byClient.get(clientId))) {
        if (effect) this.retopic(route, message, effect);
        // Found by its client id: whether it is on the stream's topics is all there is to ask.
        if (marker || reaches(message, this.everyone.get(route)!)) {
          route.next(message);
          reached++;
        }
      }
    }
    return reached;
  }

  /** Routes `message` to the streams on `topics`; returns how many it reached. */
  private toTopics(message: BusMessage, topics: readonly string[]): number {
    let reached = 0;
    for (const topic of topics) {
      for (const route of each(this.byTopic.get(topic))) {
        if (topics.length > 1 || message.spread !== undefined) {
          const audience = this.everyone.get(route)!;
          // Reached through the first of its topics the message is on, so once; and a copy of a
          // message on several shards, only by the streams that take their copy from this one.
          if (topics.find((t) => audience.topics!.has(t)) !== topic) continue;
          if (!reaches(message, audience)) continue;
        }
        route.next(message);
        reached++;
      }
    }
    return reached;
  }
}

/**
 * Unsubscribing from a view: an object rather than a closure, as it is held for as long as the
 * stream is open, and a closure would hold its scopes too.
 */
class Membership implements Unsubscribable {
  constructor(
    private readonly router: ClientRouter,
    private readonly route: Route,
  ) {}

  unsubscribe(): void {
    this.router.leave(this.route);
  }
}

const NONE: readonly Route[] = [];

function each(routes: Routes | undefined): Iterable<Route> {
  return routes === undefined ? NONE : routes instanceof Set ? routes : [routes];
}

function add(index: Map<string, Routes>, key: string, route: Route): void {
  const routes = index.get(key);
  if (routes === undefined) index.set(key, route);
  else if (routes instanceof Set) routes.add(route);
  else index.set(key, new Set([routes, route]));
}

function remove(index: Map<string, Routes>, key: string, route: Route): void {
  const routes = index.get(key);
  if (routes === route) {
    index.delete(key);
  } else if (routes instanceof Set && routes.delete(route) && routes.size === 1) {
    index.set(key, routes.values().next().value!);
  }
}
