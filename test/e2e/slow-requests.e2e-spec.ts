import 'reflect-metadata';
import { connect } from 'node:net';
import { Controller, Get, type LoggerService, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { ServiceErrorsFilter } from '../../src/service/service-errors.filter.js';
import { publishTo } from '../support/publish.js';
import { rawHttp } from '../support/raw-http.js';
import { type ServiceProcess, startService } from '../support/service-process.js';
import { RawSseClient } from '../support/sse-client.js';
import { waitFor } from '../support/wait-for.js';

const PUBLISH_TOKEN = 'slow-test-publish-token-0123456789';
const TIMEOUT_MS = 400;

describe('slow and broken requests, on the service', () => {
  let service: ServiceProcess;
  let stream: RawSseClient;
  let sent = 0;

  /** A publish still reaches the stream, which has stayed open past every request's timeout. */
  async function publishStillArrives(): Promise<void> {
    const n = ++sent;
    await publishTo(service.url, PUBLISH_TOKEN, { data: { n } });
    await stream.waitForEvent((event) => event.data === JSON.stringify({ n }), `publish ${n}`);
  }

  const lines = () =>
    service
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: string; msg: string; err?: unknown });

  beforeAll(async () => {
    service = await startService({
      SSE_PUBLISH_TOKEN: PUBLISH_TOKEN,
      SSE_REQUEST_TIMEOUT_MS: String(TIMEOUT_MS),
      LOG_LEVEL: 'debug',
    });
    stream = await new RawSseClient(`${service.url}/sse/msg`).opened();
    await stream.waitForEvents(1);
  });

  afterAll(async () => {
    stream.close();
    await service.stop();
  });

  it('answers 408 to a body that never comes', async () => {
    const response = await rawHttp(
      service.url,
      'POST /sse/publish HTTP/1.1\r\nHost: x\r\n' +
        `Authorization: Bearer ${PUBLISH_TOKEN}\r\nContent-Type: application/json\r\n` +
        'Content-Length: 100\r\n\r\n{"data":',
    );
    expect(response.status).toBe(408);
    await publishStillArrives();
  });

  it('answers 408 to headers that never end', async () => {
    const response = await rawHttp(
      service.url,
      'POST /sse/publish HTTP/1.1\r\nHost: x\r\nX-Slow: ',
    );
    expect(response.status).toBe(408);
    await publishStillArrives();
  });

  it('logs a client that drops mid-body as one line at debug, without a stack', async () => {
    const before = lines().length;
    await new Promise<void>((resolve) => {
      const { port } = new URL(service.url);
      const socket = connect(Number(port), '127.0.0.1');
      socket.write(
        'POST /sse/publish HTTP/1.1\r\nHost: x\r\n' +
          `Authorization: Bearer ${PUBLISH_TOKEN}\r\nContent-Type: application/json\r\n` +
          'Content-Length: 100\r\n\r\n{"data":',
        () => {
          socket.destroy();
          resolve();
        },
      );
    });
    await waitFor(
      () =>
        lines()
          .slice(before)
          .some((line) => line.msg.includes('went away')),
      'the line that says so',
    );
    const said = lines()
      .slice(before)
      .filter((line) => line.msg.includes('went away') || line.level === 'error');
    expect(said).toEqual([
      expect.objectContaining({
        level: 'debug',
        msg: 'POST /sse/publish: the client went away mid-request',
      }),
    ]);
    expect(said[0].err).toBeUndefined();
    await publishStillArrives();
  });

  it('keeps connections alive longer than proxies do (65 s)', async () => {
    const response = await fetch(`${service.url}/health/live`);
    const timeout = /timeout=(\d+)/.exec(response.headers.get('keep-alive') ?? '');
    expect(Number(timeout?.[1])).toBeGreaterThan(65);
  });
});

@Controller('broken')
class BrokenController {
  @Get()
  fail(): never {
    throw new Error('a real server error');
  }
}

@Module({ controllers: [BrokenController] })
class BrokenModule {}

it('still logs a real server error at error, with its stack', async () => {
  const errors: unknown[][] = [];
  const logger: LoggerService = {
    log: () => undefined,
    warn: () => undefined,
    error: (...args: unknown[]) => errors.push(args),
  };
  const app = await NestFactory.create(BrokenModule, new FastifyAdapter(), { logger });
  app.useGlobalFilters(new ServiceErrorsFilter(app.getHttpAdapter()));
  await app.listen(0, '127.0.0.1');
  try {
    const response = await fetch(`${await app.getUrl()}/broken`);
    expect(response.status).toBe(500);
    const stacks = errors.flat().map((arg) => (arg instanceof Error ? arg.stack : String(arg)));
    expect(stacks.join('\n')).toMatch(/a real server error\n\s+at [\s\S]*BrokenController/);
  } finally {
    await app.close();
  }
});
