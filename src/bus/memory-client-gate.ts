import { ClientGate, type Verdict } from './client-gate.js';

/**
 * The embedded bus's gate: one instance, whose own count of a client's streams is the count over
 * all of them, so only blocks and revocations are kept, each until it runs out.
 */
export class MemoryClientGate extends ClientGate {
  private readonly blocked = new Map<string, NodeJS.Timeout>();
  private readonly revoked = new Map<string, { at: number; timer: NodeJS.Timeout }>();

  async block(clientId: string, ms: number): Promise<void> {
    clearTimeout(this.blocked.get(clientId));
    this.blocked.set(
      clientId,
      expiring(ms, () => this.blocked.delete(clientId)),
    );
  }

  async unblock(clientId: string): Promise<void> {
    clearTimeout(this.blocked.get(clientId));
    this.blocked.delete(clientId);
  }

  async revoke(clientId: string, at: number, ttlMs: number): Promise<void> {
    clearTimeout(this.revoked.get(clientId)?.timer);
    this.revoked.set(clientId, { at, timer: expiring(ttlMs, () => this.revoked.delete(clientId)) });
  }

  async revokedUpTo(clientId: string): Promise<number | undefined> {
    return this.revoked.get(clientId)?.at;
  }

  async admit(clientId: string): Promise<Verdict> {
    return this.blocked.has(clientId) ? 'blocked' : 'open';
  }

  released(): void {}
}

/** A timer that runs `done` after `ms` and holds no process open. */
function expiring(ms: number, done: () => void): NodeJS.Timeout {
  return setTimeout(done, ms).unref();
}
