import { SignJWT } from 'jose';

/**
 * An HS256 token for `sub`, valid for `seconds` (negative: already expired; null: no `exp` at
 * all), with `claims`.
 */
export function signToken(
  secret: string,
  sub: string,
  seconds: number | null = 600,
  claims: Record<string, unknown> = {},
): Promise<string> {
  const token = new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt();
  if (seconds !== null) token.setExpirationTime(Math.floor(Date.now() / 1000) + seconds);
  return token.sign(new TextEncoder().encode(secret));
}

/** A token that claims no signature at all. */
export function unsignedToken(sub: string): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part({ sub, exp: Math.floor(Date.now() / 1000) + 600 })}.`;
}
