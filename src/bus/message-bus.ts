import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Observable } from 'rxjs';
import type { ResolvedSseBusOptions } from '../config/sse-bus.options.js';
import type { BusEvent } from './bus-event.js';
import { BusTransport, type TransportHealth } from './bus-transport.js';
import { ClientRouter } from './client-router.js';
import { type PublishOptions, toOutgoingMessage } from './message-validation.js';
import { resume } from './resume.js';
import { SSE_BUS_OPTIONS } from './sse-bus.constants.js';

/**
 * Publishes messages to clients on every instance, and gives each client its view of them.
 * Inject it anywhere: `await bus.publish({ hello: 'world' }, { clientId: 'alice' })`.
 */
@Injectable()
export class MessageBus implements OnModuleInit, OnApplicationShutdown {
  private readonly router: ClientRouter;
  private readonly publishing = new Set<Promise<string>>();

  constructor(
    private readonly transport: BusTransport,
    @Inject(SSE_BUS_OPTIONS) private readonly options: ResolvedSseBusOptions,
  ) {
    this.router = new ClientRouter(transport.events$);
  }

  /** Every event on the bus as this instance reads it: hot, in log order. */
  get events$(): Observable<BusEvent> {
    return this.transport.events$;
  }

  /** Open client subscriptions on this instance. */
  get subscriberCount(): number {
    return this.router.size;
  }

  /**
   * Sends `data` (any JSON value) to the clients `options.clientId` names, or to all.
   * Resolves to the event id once the message is on the bus; rejects with `InvalidMessageError`
   * or `MessageTooLargeError` for what cannot be sent, and with `BusUnavailableError` when the
   * bus cannot take it within `publishTimeoutMs`.
   */
  async publish(data: unknown, options: PublishOptions = {}): Promise<string> {
    const message = toOutgoingMessage(data, options, this.options.maxMessageBytes);
    const publishing = this.transport.publish(message, this.options.publishTimeoutMs);
    this.publishing.add(publishing);
    try {
      return await publishing;
    } finally {
      this.publishing.delete(publishing);
    }
  }

  /**
   * What `clientId` may see: broadcasts and messages addressed to it, live from now on, or
   * first the ones it missed after `lastEventId` (see `resume`).
   */
  stream(
    clientId: string,
    lastEventId?: string,
    pace: () => Promise<void> | undefined = () => undefined,
  ): Observable<BusEvent> {
    const live$ = this.router.forClient(clientId);
    return lastEventId ? resume(live$, this.transport, clientId, lastEventId, pace) : live$;
  }

  /** The id of the last event this instance has read: where a stream opened now starts. */
  position(): string {
    return this.transport.position();
  }

  health(): TransportHealth {
    return this.transport.health();
  }

  async onModuleInit(): Promise<void> {
    await this.transport.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled(this.publishing);
    await this.transport.close();
  }
}
