import type { ClientRouter } from '../bus/client-router.js';
import { type PresenceCount, PresenceStore } from './presence-store.js';

/** The embedded bus's presence: one instance, so its router knows every open stream. */
export class MemoryPresenceStore extends PresenceStore {
  constructor(private readonly router: ClientRouter) {
    super();
  }

  async streamsOf(clientId: string): Promise<number> {
    return this.router.streamsOf(clientId);
  }

  async count(): Promise<PresenceCount> {
    return { clients: this.router.clients, streams: this.router.size };
  }

  async clientsOn(topic: string, limit: number): Promise<string[]> {
    return this.router.clientsOn(topic, limit);
  }

  async start(): Promise<void> {}

  async close(): Promise<void> {}
}
