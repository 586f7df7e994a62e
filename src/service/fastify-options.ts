import type { Server } from 'node:http';
import type { FastifyHttpOptions, FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import type { ServiceConfig } from './env.config.js';
import { redactSecrets } from './logging/redact-secrets.js';
import { LazyRequestLogger } from './logging/lazy-request-logger.js';
import { RequestLogController } from './logging/request-log-controller.js';
import { requestId } from './logging/request-id.js';

/**
 * Keep-alive connections stay open longer than the 60 to 65 s idle timeout of common load
 * balancers and proxies: a server that closes first races the proxy's next request on that
 * connection, which then fails.
 */
const KEEP_ALIVE_MS = 72_000;

/** The service's HTTP server: its logger, request ids, and the bounds on a request. */
export function fastifyOptions(
  config: Pick<ServiceConfig, 'requestTimeoutMs'>,
  logger: Logger,
): FastifyHttpOptions<Server> {
  const { requestTimeoutMs } = config;
  return {
    loggerInstance: logger,
    logController: new RequestLogController(),
    genReqId: requestId,
    childLoggerFactory: LazyRequestLogger.of,
    keepAliveTimeout: KEEP_ALIVE_MS,
    // A request's headers and body must be in within this (408 otherwise), or a client that
    // sends them a byte at a time holds a socket as long as it likes. A stream's request is all
    // in with its headers: the response that follows is not bounded.
    requestTimeout: requestTimeoutMs,
    http: {
      headersTimeout: requestTimeoutMs,
      // How often Node looks for requests past their time: a tenth of it, so that one is ended
      // close to its deadline (Node's default looks every 30 s).
      connectionsCheckingInterval: Math.max(10, Math.floor(requestTimeoutMs / 10)),
    },
    // The router's answer to a malformed URL quotes it, secrets and all.
    frameworkErrors: (error: Error, _request: unknown, reply: FastifyReply) => {
      error.message = redactSecrets(error.message);
      void reply.send(error);
    },
  };
}
