import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * A secret that requests must bear, compared in constant time with respect to its content: a
 * token of the secret's length byte for byte (`timingSafeEqual`), any other as a SHA-256 digest
 * (refused, at the cost of a digest). The time taken may tell whether a token has the secret's
 * length, never how much of it is right. Hashing every token cost a twelfth of a publish's CPU.
 */
export class SecretToken {
  private readonly expected: Buffer;
  private readonly expectedDigest: Buffer;

  constructor(secret: string) {
    this.expected = Buffer.from(secret);
    this.expectedDigest = digest(this.expected);
  }

  matches(given: string | undefined): boolean {
    if (given === undefined) return false;
    const bytes = Buffer.from(given);
    return bytes.length === this.expected.length
      ? timingSafeEqual(bytes, this.expected)
      : timingSafeEqual(digest(bytes), this.expectedDigest);
  }
}

function digest(bytes: Buffer): Buffer {
  return createHash('sha256').update(bytes).digest();
}
