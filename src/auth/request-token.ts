import type { IncomingHttpHeaders } from 'node:http';
import { parseCookie } from 'cookie';

/** The parts of a request a token can come in, whichever HTTP adapter parsed it. */
export interface TokenCarrier {
  readonly headers: IncomingHttpHeaders;
  readonly query?: unknown;
}

/** The bearer token of an `Authorization` header. */
export function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
  return match?.[1];
}

/**
 * A client's token: from `Authorization: Bearer`, the `token` query parameter (EventSource cannot
 * set headers) or the named cookie (which keeps it out of URLs and logs), in that order.
 */
export function requestToken(request: TokenCarrier, cookieName: string): string | undefined {
  const query = request.query as Record<string, unknown> | undefined;
  const fromQuery =
    typeof query?.token === 'string' && query.token !== '' ? query.token : undefined;
  const cookies = request.headers.cookie ? parseCookie(request.headers.cookie) : {};
  return bearerToken(request.headers) ?? fromQuery ?? (cookies[cookieName] || undefined);
}
