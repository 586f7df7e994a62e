import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** What a request id given by a proxy in front may be: short, and safe in a log line. */
const GIVEN_ID = /^[\w.:-]{1,128}$/;

/** A request's id: the `X-Request-Id` a proxy in front gave it, if well-formed, or a new one. */
export function requestId(request: { readonly headers: IncomingHttpHeaders }): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && GIVEN_ID.test(given) ? given : randomUUID();
}
