import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { MessageBus, SseBusModule, type SseBusOptions } from '../../src/index.js';

export interface TestApp {
  readonly app: NestFastifyApplication;
  readonly url: string;
  readonly bus: MessageBus;
  close(): Promise<void>;
}

/** An in-process instance of the module on a Fastify server at a free port. */
export async function startApp(
  options: SseBusOptions = {},
  { http2 = false }: { http2?: boolean } = {},
): Promise<TestApp> {
  const app = await NestFactory.create<NestFastifyApplication>(
    SseBusModule.forRoot(options),
    new FastifyAdapter(http2 ? { http2: true } : {}),
    { logger: false, abortOnError: false },
  );
  await app.listen(0, '127.0.0.1');
  return {
    app,
    url: await app.getUrl(),
    bus: app.get(MessageBus),
    close: () => app.close(),
  };
}
