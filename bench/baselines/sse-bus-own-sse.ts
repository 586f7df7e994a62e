/**
 * sse-bus through an app's own `@Sse()` endpoint, and Nest's floor beside it. An app as a user of
 * the library builds it: `SseBusModule.forRoot()` from the service's environment, on Fastify, and
 * one controller:
 *
 * - `GET /sse/own`: returns `bus.sse(request, { clientId })`, so Nest's SSE plumbing writes the
 *   bus's events;
 * - `GET /sse/never`: returns `NEVER`, the least any `@Sse()` stream holds per connection.
 *
 * Both take the client id from the token as `GET /sse/msg` does (an HS256 JWT in `?token=`, its
 * `sub`), so that what the first holds beyond the second is the bus's stream alone. The module
 * still registers `GET /sse/msg` and `POST /sse/publish`; the bench publishes through the latter.
 */
import 'reflect-metadata';
import {
  Controller,
  Inject,
  type MessageEvent,
  Module,
  Req,
  Sse,
  UnauthorizedException,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';
import { NEVER, type Observable } from 'rxjs';
import type * as EnvConfig from '../../dist/service/env.config.js';
import type * as Library from '../../dist/index.js';
import { importBuilt } from '../lib/paths.js';
import { clientIdOf } from './common.js';

// This checkout's build, or the one $SSE_BUS_DIST names (`--before`). The service's own reading
// of the environment, which the library does not export, was under config/ before the redesign.
const { MessageBus, SseBusModule } = (await importBuilt('index.js')) as typeof Library;
const { loadEnvConfig } = (await importBuilt(
  'service/env.config.js',
  'config/env.config.js',
)) as typeof EnvConfig;
type Bus = Library.MessageBus;

/** The client id of the request's token, or 401 (the same check as `GET /sse/msg`'s guard). */
async function clientOf(request: FastifyRequest): Promise<string> {
  const clientId = await clientIdOf(request.url);
  if (!clientId) throw new UnauthorizedException('A valid token is required');
  return clientId;
}

@Controller('sse')
class OwnSseController {
  constructor(@Inject(MessageBus) private readonly bus: Bus) {}

  @Sse('own')
  async own(@Req() request: FastifyRequest): Promise<Observable<MessageEvent>> {
    return this.bus.sse(request, { clientId: await clientOf(request) });
  }

  @Sse('never')
  async never(@Req() request: FastifyRequest): Promise<Observable<MessageEvent>> {
    await clientOf(request);
    return NEVER;
  }
}

const config = loadEnvConfig();

@Module({ imports: [SseBusModule.forRoot(config.options)], controllers: [OwnSseController] })
class AppModule {}

const app = await NestFactory.create<NestFastifyApplication>(
  AppModule,
  // Fastify logs as the service's does (`main.ts`): a logger per request, as for `/sse/msg`.
  new FastifyAdapter({ logger: { level: config.logLevel } }),
  { logger: ['fatal', 'error', 'warn'] },
);
await app.listen(config.port, config.host);
console.log(`sse-bus own @Sse() listening on ${config.host}:${config.port}`);
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => process.exit(0));
