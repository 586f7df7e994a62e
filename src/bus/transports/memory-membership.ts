import { type LogPosition, comparePositions } from '../log-position.js';
import {
  type Membership,
  NO_MEMBERSHIP,
  type TopicChange,
  changeMembership,
} from '../topic-change.js';

/** Changes kept per client: a stream resuming from before the oldest starts with none. */
const MAX_CHANGES = 1000;

interface ClientMembership {
  /** The membership after each change, oldest first, at the change's place in the log. */
  readonly changes: { readonly position: LogPosition; readonly membership: Membership }[];
  expiresAt: number;
}

/**
 * The embedded bus's memberships: each client's, after each of its changes, until `ttlMs` after
 * its last change or its last stream. Kept by last use, so the expired ones are at the front.
 */
export class MemoryMembership {
  private readonly clients = new Map<string, ClientMembership>();

  constructor(private readonly ttlMs: number) {}

  change(clientId: string, position: LogPosition, change: TopicChange, now: number): void {
    const client = this.use(clientId, now) ?? { changes: [], expiresAt: 0 };
    const before = client.changes.at(-1)?.membership ?? NO_MEMBERSHIP;
    client.changes.push({ position, membership: changeMembership(before, change) });
    if (client.changes.length > MAX_CHANGES) client.changes.shift();
    this.keep(clientId, now, client);
  }

  /** The membership as it stood at `position` (undefined: now). */
  at(clientId: string, position: LogPosition | undefined, now: number): Membership {
    const changes = this.use(clientId, now)?.changes ?? [];
    let last = changes.length - 1;
    while (position && last >= 0 && comparePositions(changes[last].position, position) > 0) last--;
    return last >= 0 ? changes[last].membership : NO_MEMBERSHIP;
  }

  /** Keeps the client's membership for `ttlMs` from `now`. */
  keep(clientId: string, now: number, client = this.use(clientId, now)): void {
    if (!client) return;
    client.expiresAt = now + this.ttlMs;
    this.clients.delete(clientId);
    this.clients.set(clientId, client);
  }

  private use(clientId: string, now: number): ClientMembership | undefined {
    for (const [id, client] of this.clients) {
      if (client.expiresAt > now) break;
      this.clients.delete(id);
    }
    return this.clients.get(clientId);
  }
}
