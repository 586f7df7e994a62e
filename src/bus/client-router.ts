import { Observable, type Subscriber, type Subscription } from 'rxjs';
import type { BusMetrics } from '../metrics/bus-metrics.js';
import type { Audience, BusEvent, BusMessage } from './bus-event.js';

type Route = Subscriber<BusEvent>;

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
 * while anyone listens.
 */
export class ClientRouter {
  private readonly everyone = new Map<Route, Audience>();
  private readonly byClient = new Map<string, Set<Route>>();
  private readonly byTopic = new Map<string, Set<Route>>();
  private connection: Subscription | undefined;
  private watcher: RouteWatcher | undefined;

  constructor(
    private readonly source: Observable<BusEvent>,
    private readonly metrics: BusMetrics,
  ) {}

  /** How many streams are open. */
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
      return () => {
        remove(this.byClient, clientId, route);
        topics?.forEach((topic) => remove(this.byTopic, topic, route));
        this.everyone.delete(route);
        this.watcher?.left(audience);
        if (this.everyone.size === 0) {
          this.connection?.unsubscribe();
          this.connection = undefined;
        }
      };
    });
  }

  /** Open streams of `clientId` on this instance. */
  streamsOf(clientId: string): number {
    return this.byClient.get(clientId)?.size ?? 0;
  }

  /** Open streams per client, and per topic and client: the whole of this instance's presence. */
  *audiences(): Iterable<Audience> {
    yield* this.everyone.values();
  }

  /** Up to `limit` client ids with a stream on `topic`. */
  clientsOn(topic: string, limit: number): string[] {
    const clients = new Set<string>();
    for (const route of this.byTopic.get(topic) ?? []) {
      if (clients.size >= limit) break;
      clients.add(this.everyone.get(route)!.clientId);
    }
    return [...clients];
  }

  private route(event: BusEvent): void {
    if (event.kind === 'reset' || (event.to === null && event.topics === null)) {
      const reached = this.everyone.size;
      for (const route of this.everyone.keys()) route.next(event);
      this.metrics.framesDelivered += reached;
      if (event.kind === 'reset') this.metrics.resets[event.reason] += reached;
    } else if (event.to !== null) {
      this.metrics.framesDelivered += this.toClients(event, event.to);
    } else {
      this.metrics.framesDelivered += this.toTopics(event, event.topics!);
    }
  }

  /** Routes `message` to the streams of `clientIds`; returns how many it reached. */
  private toClients(message: BusMessage, clientIds: readonly string[]): number {
    const topics = message.topics;
    let reached = 0;
    for (const clientId of clientIds) {
      const routes = this.byClient.get(clientId);
      if (!routes) continue;
      for (const route of routes) {
        const subscribed = this.everyone.get(route)!.topics;
        if (topics === null || (subscribed !== null && topics.some((t) => subscribed.has(t)))) {
          route.next(message);
          reached++;
        }
      }
    }
    return reached;
  }

  /** Routes `message` to the streams on `topics`; returns how many it reached. */
  private toTopics(message: BusMessage, topics: readonly string[]): number {
    if (topics.length === 1) {
      const routes = this.byTopic.get(topics[0]);
      if (!routes) return 0;
      const reached = routes.size;
      routes.forEach((route) => route.next(message));
      return reached;
    }
    // A stream on several of its topics gets it once.
    const reached = new Set<Route>();
    for (const topic of topics) {
      for (const route of this.byTopic.get(topic) ?? []) {
        if (reached.has(route)) continue;
        reached.add(route);
        route.next(message);
      }
    }
    return reached.size;
  }
}

function add(index: Map<string, Set<Route>>, key: string, route: Route): void {
  let routes = index.get(key);
  if (!routes) index.set(key, (routes = new Set()));
  routes.add(route);
}

function remove(index: Map<string, Set<Route>>, key: string, route: Route): void {
  const routes = index.get(key);
  if (!routes) return;
  routes.delete(route);
  if (routes.size === 0) index.delete(key);
}
