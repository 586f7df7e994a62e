import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

// Where Fastify and Express differ for the module's routes: Fastify wraps Node's request and
// response (`request.raw`, `reply.raw`), Express extends them.

/** What a stream reads of Node's request (HTTP/1 or HTTP/2). */
export interface RawStreamRequest {
  readonly headers: IncomingHttpHeaders;
  readonly httpVersionMajor: number;
  readonly socket: Socket | null;
}

/** A stream's request as the handler gets it: Fastify's, or Express's (Node's own, extended). */
export type StreamRequest = (RawStreamRequest | { readonly raw: RawStreamRequest }) & {
  readonly query?: unknown;
};

/** A Fastify reply, or the response itself under Express. */
export type StreamReply =
  ServerResponse | { raw: ServerResponse; hijack(): void; getHeaders(): OutgoingHttpHeaders };

export function rawRequest(request: StreamRequest): RawStreamRequest {
  return 'raw' in request ? request.raw : request;
}

export function rawResponse(reply: StreamReply): ServerResponse {
  return 'raw' in reply ? reply.raw : reply;
}

/**
 * Takes the response over from the framework, with the headers set on it so far (CORS, say):
 * the caller writes it from now on.
 */
export function takeOver(reply: StreamReply): [ServerResponse, OutgoingHttpHeaders] {
  if (!('raw' in reply)) return [reply, {}];
  reply.hijack();
  return [reply.raw, reply.getHeaders()];
}
