/** Whether a client's new stream may open: yes, no while the client is blocked, or it has too many. */
export type Verdict = 'open' | 'blocked' | 'full';

/**
 * What a client's new stream must pass on every instance, whichever one it opens on: a block
 * (`MessageBus.disconnect` with `blockMs`), a revocation of its tokens, and the number of its
 * streams over all instances. In Redis across instances, in memory on the embedded bus. Each is
 * checked when a stream opens, so it holds on an instance that missed the disconnect.
 */
export abstract class ClientGate {
  /** Refuses new streams of `clientId` for `ms`. */
  abstract block(clientId: string, ms: number): Promise<void>;

  abstract unblock(clientId: string): Promise<void>;

  /** Refuses the tokens of `clientId` issued up to `at` (epoch ms), for `ttlMs`. */
  abstract revoke(clientId: string, at: number, ttlMs: number): Promise<void>;

  /** Up to when the tokens of `clientId` are refused (epoch ms), if they are. */
  abstract revokedUpTo(clientId: string): Promise<number | undefined>;

  /**
   * Whether a new stream of `clientId` may open, with `streams` its streams on this instance, the
   * new one among them, and `limit` the most it may have on all of them (0: no limit). Counts
   * the new one when it may.
   */
  abstract admit(clientId: string, streams: number, limit: number): Promise<Verdict>;

  /** A stream of `clientId` ended, or never opened: it has `streams` left on this instance. */
  abstract released(clientId: string, streams: number): void;
}
