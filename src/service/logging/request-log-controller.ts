import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';

/** The route every publisher calls, many times a second. */
function isPublish(request: FastifyRequest): boolean {
  return request.method === 'POST' && request.routeOptions.url === '/sse/publish';
}

/**
 * Fastify's request lines, but for publishes: one that was taken (2xx) logs its two lines at
 * `debug`, as a busy publisher would otherwise write two lines per message and the service spend
 * a sixth of a publish's CPU writing them (the metrics count publishes). One that was refused
 * logs one line at `info`, `request completed` with its request and status; an error stays an
 * `error`. Other requests log as Fastify does.
 */
export class RequestLogController extends LogController {
  override incomingRequest(request: FastifyRequest, reply: FastifyReply): void {
    if (!isPublish(request)) return super.incomingRequest(request, reply);
    if (!this.isLogDisabled(request)) request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    if (error || !isPublish(request) || this.isLogDisabled(request)) {
      return super.requestCompleted(error, request, reply);
    }
    const line = { req: request, res: reply, responseTime: reply.elapsedTime };
    if (reply.statusCode < 300) reply.log.debug(line, 'request completed');
    else reply.log.info(line, 'request completed');
  }
}
