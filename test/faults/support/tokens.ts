import { SignJWT } from 'jose';

export const JWT_SECRET = 'faults-jwt-secret-of-enough-length';

/** An HS256 token whose `sub` is the client id, valid for the whole suite. */
export function tokenFor(sub: string, secret = JWT_SECRET): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(secret));
}
