/** How many are connected, on every instance. */
export interface PresenceCount {
  /** Distinct client ids with at least one open stream. */
  readonly clients: number;
  /** Open streams. */
  readonly streams: number;
}

/** Whether one client is connected, and with how many streams, on every instance. */
export interface ClientPresence {
  readonly online: boolean;
  readonly streams: number;
}

/**
 * Where presence is kept: the router itself for the embedded bus, totals in Redis across
 * instances otherwise. `Presence` checks what it is asked; a store just answers.
 */
export abstract class PresenceStore {
  abstract streamsOf(clientId: string): Promise<number>;

  abstract count(): Promise<PresenceCount>;

  abstract clientsOn(topic: string, limit: number): Promise<string[]>;

  abstract start(): Promise<void>;

  /** Takes this instance's streams (ended by now) out of presence, and lets go of what it holds. */
  abstract close(): Promise<void>;
}
