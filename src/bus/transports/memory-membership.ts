import type { BusMessage } from '../bus-event.js';
import { MembershipProjection } from '../membership-projection.js';

/**
 * The embedded bus's memberships: each client's until `ttlMs` after its last change or its last
 * stream. Kept by last use, so the expired ones are at the front.
 */
export class MemoryMembership extends MembershipProjection {
  private readonly expiries = new Map<string, number>();

  constructor(private readonly ttlMs: number) {
    super();
  }

  /** Applies a change published `now`, first forgetting the memberships expired by then. */
  change(message: BusMessage, now: number): void {
    this.expire(now);
    this.apply(message);
    this.keep(message.to![0], now);
  }

  /** Keeps the client's membership for `ttlMs` from `now`. */
  keep(clientId: string, now: number): void {
    if (!this.has(clientId)) return;
    this.expiries.delete(clientId);
    this.expiries.set(clientId, now + this.ttlMs);
  }

  /** Forgets the memberships unused since `ttlMs` before `now`. */
  expire(now: number): void {
    for (const [clientId, expiresAt] of this.expiries) {
      if (expiresAt > now) break;
      this.expiries.delete(clientId);
      this.clients.delete(clientId);
    }
  }
}
