import { readFileSync } from 'node:fs';
import { type Socket, connect } from 'node:net';
import { assertBuildIsFresh } from '../faults/support/built.js';
import { type NginxServer, startNginx } from '../support/nginx.js';
import { scrape } from '../support/prometheus.js';
import { publishTo } from '../support/publish.js';
import { type ServiceProcess, startService } from '../support/service-process.js';
import { RawSseClient } from '../support/sse-client.js';
import type { SseEvent } from '../support/sse-parser.js';
import { waitFor } from '../support/wait-for.js';

const DEPLOY_DOC = new URL('../../docs/deploy.md', import.meta.url);
const PUBLISH_TOKEN = 'nginx-publish-token';
/** Far beyond the test: no heartbeat could push a held-back event out of a buffer. */
const HEARTBEAT_MS = 600_000;
/** How long an event may take through nginx; a buffered one would wait for the heartbeat. */
const WAIT_MS = 5_000;
/** 64 MB of messages: far more than the socket buffers between the service and the client. */
const MAX_FLOOD_MESSAGES = 2_000;

/**
 * The nginx configuration of docs/deploy.md, as it is written there, listening on `listen` and
 * proxying to `upstreams`: what the test runs is what the doc says.
 */
function documentedSite(listen: string, upstreams: string[]): string {
  const doc = readFileSync(DEPLOY_DOC, 'utf8');
  const site = /```nginx\n([\s\S]*?)```/.exec(doc)?.[1];
  if (!site) throw new Error('docs/deploy.md has no ```nginx block');
  const servers = upstreams.map((host) => `    server ${host};`).join('\n');
  return site
    .replace(/^ {4}listen 80;$/m, `    listen ${listen};`)
    .replace(/(^ {4}server \d+\.\d+\.\d+\.\d+:\d+;\n)+/m, `${servers}\n`);
}

/** How a site-wide setting might compress every event stream; the site must turn it off. */
const GZIP_EVERYTHING =
  'gzip on; gzip_types text/event-stream; gzip_min_length 1; gzip_proxied any;';

describe('the service behind nginx, configured as docs/deploy.md says', () => {
  let service: ServiceProcess;
  let nginx: NginxServer;
  const clients: RawSseClient[] = [];
  const sockets: Socket[] = [];
  beforeAll(async () => {
    assertBuildIsFresh();
    service = await startService({
      SSE_PUBLISH_TOKEN: PUBLISH_TOKEN,
      SSE_HEARTBEAT_MS: String(HEARTBEAT_MS),
      LOG_LEVEL: 'warn',
    });
    nginx = await startNginx(
      (listen) => documentedSite(listen, [new URL(service.url).host]),
      GZIP_EVERYTHING,
    );
  });
  afterAll(async () => {
    clients.forEach((client) => client.close());
    sockets.forEach((socket) => socket.destroy());
    await nginx?.stop();
    await service?.stop();
  });

  const open = (headers: Record<string, string> = {}) => {
    const client = new RawSseClient(`${nginx.url}/sse/msg`, {
      'accept-encoding': 'gzip',
      ...headers,
    });
    clients.push(client);
    return client;
  };
  const isMessage = (data: string) => (event: SseEvent) => event.data === JSON.stringify(data);

  it('passes each event on as it comes, uncompressed, with nothing after it to push it out', async () => {
    const client = open();
    await client.waitForEvent((event) => event.event === 'connected', 'connected', WAIT_MS);
    expect(client.status).toBe(200);
    expect(client.headers['content-type']).toBe('text/event-stream');
    expect(client.headers['content-encoding']).toBeUndefined();
    expect(client.headers['transfer-encoding']).toBe('chunked');

    const id = await publishTo(nginx.url, PUBLISH_TOKEN, { data: 'through nginx' });
    const event = await client.waitForEvent(isMessage('through nginx'), 'the message', WAIT_MS);
    expect(event.id).toBe(id);
    // The message is the last thing the service sent: nothing came after it to flush a buffer.
    expect(client.comments).toBe(0);
    expect(client.raw.endsWith(`data: ${JSON.stringify('through nginx')}\n\n`)).toBe(true);
  });

  it('lets a client resume through it with Last-Event-ID', async () => {
    const first = open();
    const connected = await first.waitForEvent(
      (event) => event.event === 'connected',
      'connected',
      WAIT_MS,
    );
    first.close();
    for (const data of ['missed 1', 'missed 2']) {
      await publishTo(nginx.url, PUBLISH_TOKEN, { data });
    }
    const back = open({ 'last-event-id': connected.id! });
    await back.waitForEvent(isMessage('missed 2'), 'what it missed', WAIT_MS);
    expect(back.messages).toEqual(['missed 1', 'missed 2']);
  });

  it('lets the service see a client that stops reading, and cut it off', async () => {
    const slow = 'sse_bus_streams_closed_total{reason="slow"}';
    const before = (await scrape(service.url)).get(slow) ?? 0;
    // Reads the headers and a little more, then nothing.
    const socket = connect({
      port: Number(new URL(nginx.url).port),
      host: '127.0.0.1',
      onread: { buffer: Buffer.alloc(1024), callback: () => false },
    });
    sockets.push(socket);
    socket.on('error', () => undefined);
    socket.write('GET /sse/msg HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n');
    // Unbuffered, nginx reads from the service only as fast as the client takes it: what waits
    // is in socket buffers (a few MB each) and then in the service, which cuts the client off
    // past SSE_MAX_BUFFERED_BYTES. Buffered, nginx would read on into a temporary file.
    const data = 'x'.repeat(32 * 1024);
    const cutOff = async () => ((await scrape(service.url)).get(slow) ?? 0) > before;
    for (let sent = 0; sent < MAX_FLOOD_MESSAGES; sent++) {
      await publishTo(service.url, PUBLISH_TOKEN, { data });
      if (sent % 25 === 0 && (await cutOff())) break;
    }
    await waitFor(cutOff, 'the service to cut the client off', WAIT_MS);
  });
});
