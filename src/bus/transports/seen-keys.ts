import { IdempotencyKeyReusedError } from '../../errors/idempotency-key-reused.error.js';
import type { Idempotency, IdempotencyLimits } from '../idempotency.js';

interface Seen {
  /** The id the publish was given. */
  readonly id: string;
  readonly fingerprint: string;
  /** Epoch ms at which it is forgotten. */
  readonly until: number;
}

/**
 * The idempotency keys the embedded bus has seen, with the id each publish was given. Every key
 * is kept as long as the others, so the order they came in is the order they expire in: the
 * expired ones, and past `maxKeys` the oldest, go from the front, in O(1) a key.
 */
export class SeenKeys {
  private readonly keys = new Map<string, Seen>();

  constructor(private readonly limits: IdempotencyLimits) {}

  /**
   * The id given to a publish with this key within the window, or undefined; throws
   * `IdempotencyKeyReusedError` when that publish was of another message.
   */
  idOf({ key, fingerprint }: Idempotency, now: number): string | undefined {
    for (const [old, { until }] of this.keys) {
      if (until > now) break;
      this.keys.delete(old);
    }
    const seen = this.keys.get(key);
    if (seen && seen.fingerprint !== fingerprint) throw new IdempotencyKeyReusedError();
    return seen?.id;
  }

  /** A publish with a key not seen (`idOf` said so) was given `id`. */
  remember({ key, fingerprint }: Idempotency, id: string, now: number): void {
    this.keys.set(key, { id, fingerprint, until: now + this.limits.windowMs });
    if (this.keys.size > this.limits.maxKeys) this.keys.delete(this.keys.keys().next().value!);
  }
}
