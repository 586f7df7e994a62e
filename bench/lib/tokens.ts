import { SignJWT } from 'jose';

/** The secrets every system under test is started with. */
export const JWT_SECRET = 'bench-jwt-secret-0123456789abcdef';
export const PUBLISH_TOKEN = 'bench-publish-token';

const key = new TextEncoder().encode(JWT_SECRET);

/** An HS256 token whose `sub` is the client id, valid for a few hours. */
export function signToken(clientId: string): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(clientId)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + 6 * 3600)
    .sign(key);
}

/** The client id of connection number `index`: the same in every system. */
export function clientIdOf(index: number): string {
  return `c${index}`;
}
