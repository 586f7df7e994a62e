/**
 * The name of the stream the tabs of this origin share: one per URL and token (or the cookie),
 * through a digest, so that the token does not stand in clear in lock and channel names. Not a
 * secret: only this origin's scripts see the names, and they can see the token too.
 */
export function streamIdentity(url: string, token: string | undefined): string {
  // cyrb53: 53 bits, so two tokens in one browser do not meet by chance.
  const text = `${url}\n${token ?? 'cookie'}`;
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ code, 2654435761);
    h2 = Math.imul(h2 ^ code, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return `sse-bus:${(4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36)}`;
}
