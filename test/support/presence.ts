import { RawSseClient } from './sse-client.js';
import { signToken } from './tokens.js';

export interface PresenceAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** `GET /sse/presence` of `baseUrl` with `query` (`?clientId=…`), with `token` as the Bearer. */
export async function getPresence(
  baseUrl: string,
  query: string,
  token: string | undefined,
): Promise<PresenceAnswer> {
  const response = await fetch(`${baseUrl}/sse/presence${query}`, {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** A stream of `sub` (a token signed with `secret` that grants every topic) on `topics`. */
export async function streamOf(
  baseUrl: string,
  secret: string,
  sub: string,
  topics: string[] = [],
): Promise<RawSseClient> {
  const query = new URLSearchParams({
    token: await signToken(secret, sub, 600, { topics: ['*'] }),
  });
  topics.forEach((topic) => query.append('topic', topic));
  const client = new RawSseClient(`${baseUrl}/sse/msg?${query}`);
  await client.waitForEvents(1);
  return client;
}
