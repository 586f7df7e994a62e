import { signToken } from '../../support/tokens.js';

export const JWT_SECRET = 'faults-jwt-secret-of-enough-length';

/** An HS256 token whose `sub` is the client id, valid for the whole suite. */
export function tokenFor(sub: string): Promise<string> {
  return signToken(JWT_SECRET, sub, 3600);
}
