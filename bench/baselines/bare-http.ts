/**
 * Baseline "the limit": plain node:http. Each message becomes one frame Buffer, built once and
 * written with `res.write` to every response it is for; `Map<clientId, Set<response>>` routes
 * targeted messages; one global timer writes the heartbeat. No backpressure policy: a client
 * that does not read makes the process buffer for it. With REDIS_URL, publishes go through
 * Redis pub/sub to every instance.
 */
import http, { type ServerResponse } from 'node:http';
import {
  type Envelope,
  SSE_HEADERS,
  clientIdOf,
  env,
  nextId,
  openingText,
  parsePublish,
  publishAllowed,
  readBody,
  redisRelay,
} from './common.js';

const everyone = new Set<ServerResponse>();
const byClient = new Map<string, Set<ServerResponse>>();
const HEARTBEAT = Buffer.from(':\n\n');
let lastId = '0';

function deliver({ id, to, event, data }: Envelope): void {
  lastId = id;
  const frame = Buffer.from(
    `id: ${id}\n${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(data)}\n\n`,
  );
  if (to === null) {
    for (const res of everyone) res.write(frame);
    return;
  }
  for (const clientId of to) {
    const responses = byClient.get(clientId);
    if (responses) for (const res of responses) res.write(frame);
  }
}

let relay: ((envelope: Envelope) => Promise<unknown>) | undefined;

async function stream(url: string | undefined, res: ServerResponse): Promise<void> {
  const clientId = await clientIdOf(url);
  if (!clientId) {
    res.writeHead(401).end();
    return;
  }
  if (everyone.size >= env.maxConnections) {
    res.writeHead(503, { 'retry-after': '5' }).end();
    return;
  }
  res.writeHead(200, SSE_HEADERS);
  res.write(openingText(clientId, lastId));
  everyone.add(res);
  let own = byClient.get(clientId);
  if (!own) byClient.set(clientId, (own = new Set()));
  own.add(res);
  res.on('close', () => {
    everyone.delete(res);
    own.delete(res);
    if (own.size === 0 && byClient.get(clientId) === own) byClient.delete(clientId);
  });
}

async function publish(req: http.IncomingMessage, res: ServerResponse): Promise<void> {
  if (!publishAllowed(req.headers.authorization)) {
    res.writeHead(env.publishToken ? 401 : 404).end();
    return;
  }
  let parsed: ReturnType<typeof parsePublish>;
  try {
    parsed = parsePublish(JSON.parse(await readBody(req)));
  } catch {
    parsed = 'body must be JSON';
  }
  if (typeof parsed === 'string') {
    res
      .writeHead(400, { 'content-type': 'application/json' })
      .end(JSON.stringify({ message: parsed }));
    return;
  }
  const envelope: Envelope = { id: nextId(), ...parsed };
  if (relay) await relay(envelope);
  else deliver(envelope);
  res
    .writeHead(202, { 'content-type': 'application/json' })
    .end(JSON.stringify({ id: envelope.id }));
}

const server = http.createServer((req, res) => {
  const path = req.url?.split('?')[0];
  const handled =
    req.method === 'GET' && path === '/sse/msg'
      ? stream(req.url, res)
      : req.method === 'POST' && path === '/sse/publish'
        ? publish(req, res)
        : Promise.resolve(void res.writeHead(404).end());
  handled.catch((err: Error) => {
    console.error(err);
    if (!res.headersSent) res.writeHead(500).end();
  });
});

setInterval(() => {
  for (const res of everyone) res.write(HEARTBEAT);
}, env.heartbeatMs).unref();

if (env.redisUrl) relay = await redisRelay(env.redisUrl, deliver);
server.listen(env.port, env.host, () =>
  console.log(`bare-http listening on ${env.host}:${env.port}`),
);
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => process.exit(0));
