import { Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { InvalidQueryError } from '../errors/invalid-query.error.js';
import { clientIdProblem } from '../bus/message-validation.js';
import { topicProblem } from '../bus/topics.js';
import { type ClientPresence, type PresenceCount, PresenceStore } from './presence-store.js';

/**
 * Who is connected, on every instance: inject it anywhere. Across instances through Redis, an
 * instance's changes show within a third of `presenceTtlMs`, and the streams of an instance
 * that died leave within `presenceTtlMs`. Rejects with `InvalidQueryError` for a bad client id,
 * topic or limit, and `BusUnavailableError` when Redis does not answer in time.
 */
@Injectable()
export class Presence implements OnModuleInit, OnApplicationShutdown {
  constructor(private readonly store: PresenceStore) {}

  async isOnline(clientId: string): Promise<boolean> {
    return (await this.client(clientId)).online;
  }

  /** Whether `clientId` has a stream open, and how many. */
  async client(clientId: string): Promise<ClientPresence> {
    const problem = clientIdProblem(clientId);
    if (problem) throw new InvalidQueryError(`clientId: ${problem}`);
    const streams = await this.store.streamsOf(clientId);
    return { online: streams > 0, streams };
  }

  /** Distinct clients with a stream open, and open streams. */
  count(): Promise<PresenceCount> {
    return this.store.count();
  }

  /** The ids of clients with a stream on `topic`, `limit` at most. */
  async clientsOn(topic: string, limit = 1000): Promise<string[]> {
    const problem = topicProblem(topic);
    if (problem) throw new InvalidQueryError(problem);
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new InvalidQueryError(`limit must be a whole number >= 1, got ${String(limit)}`);
    }
    return this.store.clientsOn(topic, limit);
  }

  onModuleInit(): Promise<void> {
    return this.store.start();
  }

  /** Once the streams have ended (`beforeApplicationShutdown`): none is counted again. */
  onApplicationShutdown(): Promise<void> {
    return this.store.close();
  }
}
