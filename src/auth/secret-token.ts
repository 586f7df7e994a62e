import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * A secret that requests must bear, compared in constant time: what is compared are digests,
 * which have one length, so the time taken says nothing about what was given.
 */
export class SecretToken {
  private readonly expected: Buffer;

  constructor(secret: string) {
    this.expected = digest(secret);
  }

  matches(given: string | undefined): boolean {
    return given !== undefined && timingSafeEqual(digest(given), this.expected);
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
