import { Observable, type Subscriber, type Subscription } from 'rxjs';
import type { BusEvent } from './bus-event.js';

/**
 * Routes one hot stream of bus events to many clients: `forClient(id)` is
 * `events$.pipe(filter((e) => isVisibleTo(e, id)))`, but a message for one client touches
 * that client's subscribers only, not a predicate per connected client. Subscribing adds to an
 * index, unsubscribing removes from it; the source is subscribed while anyone listens.
 */
export class ClientRouter {
  private readonly everyone = new Set<Subscriber<BusEvent>>();
  private readonly byClient = new Map<string, Set<Subscriber<BusEvent>>>();
  private connection: Subscription | undefined;

  constructor(private readonly source: Observable<BusEvent>) {}

  /** How many subscriptions are open. */
  get size(): number {
    return this.everyone.size;
  }

  forClient(clientId: string): Observable<BusEvent> {
    return new Observable<BusEvent>((subscriber) => {
      let own = this.byClient.get(clientId);
      if (!own) this.byClient.set(clientId, (own = new Set()));
      own.add(subscriber);
      this.everyone.add(subscriber);
      this.connection ??= this.source.subscribe({
        next: (event) => this.route(event),
        complete: () => this.everyone.forEach((each) => each.complete()),
      });
      return () => {
        own.delete(subscriber);
        if (own.size === 0 && this.byClient.get(clientId) === own) this.byClient.delete(clientId);
        this.everyone.delete(subscriber);
        if (this.everyone.size === 0) {
          this.connection?.unsubscribe();
          this.connection = undefined;
        }
      };
    });
  }

  private route(event: BusEvent): void {
    if (event.kind === 'reset' || event.to === null) {
      for (const subscriber of this.everyone) subscriber.next(event);
      return;
    }
    for (const clientId of event.to) {
      const subscribers = this.byClient.get(clientId);
      if (subscribers) for (const subscriber of subscribers) subscriber.next(event);
    }
  }
}
