import { createHash } from 'node:crypto';
import { InvalidMessageError } from '../errors/invalid-message.error.js';
import type { BusMessage } from './bus-event.js';

/** How long a log remembers idempotency keys, and how many at most. */
export interface IdempotencyLimits {
  readonly windowMs: number;
  readonly maxKeys: number;
}

/** A publish's idempotency key, with what it was given for: a true retry carries both the same. */
export interface Idempotency {
  readonly key: string;
  readonly fingerprint: string;
}

// Printable ASCII without spaces: safe in a header, a log line and a Redis key name.
const KEY = /^[\x21-\x7e]{1,255}$/;

/** Checks `key`; throws `InvalidMessageError` saying what is wrong with it. */
export function idempotencyOf(
  key: unknown,
  message: Pick<BusMessage, 'to' | 'topics' | 'event' | 'data'>,
): Idempotency {
  if (typeof key !== 'string' || !KEY.test(key)) {
    throw new InvalidMessageError(
      'idempotencyKey must be 1 to 255 printable ASCII characters, without spaces',
    );
  }
  // No field can hold \x1f (JSON escapes it; names refuse control characters): unambiguous.
  const hash = createHash('sha256');
  for (const part of [message.to?.join('\n'), message.topics?.join('\n'), message.event]) {
    hash.update(part ?? '').update('\x1f');
  }
  hash.update(message.data);
  return { key, fingerprint: hash.digest('base64url').slice(0, 22) };
}
