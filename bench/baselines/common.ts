/**
 * What every baseline shares with sse-bus, so the load generator treats them alike: the
 * environment, the client's identity (an HS256 JWT in `?token=`, whose `sub` is the client id,
 * checked with `jose` as sse-bus does), the publish request and an optional Redis pub/sub relay.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { Redis } from 'ioredis';
import { jwtVerify } from 'jose';

export const env = {
  port: Number(process.env.PORT ?? 3000),
  host: process.env.HOST ?? '127.0.0.1',
  jwtSecret: process.env.SSE_JWT_SECRET,
  publishToken: process.env.SSE_PUBLISH_TOKEN,
  heartbeatMs: Number(process.env.SSE_HEARTBEAT_MS ?? 15_000),
  maxConnections: Number(process.env.SSE_MAX_CONNECTIONS ?? 10_000),
  redisUrl: process.env.REDIS_URL || undefined,
  retryMs: 3000,
};

/** Every stream starts like sse-bus's: a blank line, `retry`, then the `connected` event. */
export function openingText(clientId: string, lastId: string): string {
  return `\nretry: ${env.retryMs}\n\nid: ${lastId}\nevent: connected\ndata: ${JSON.stringify({ clientId })}\n\n`;
}

export const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};

const key = env.jwtSecret ? new TextEncoder().encode(env.jwtSecret) : undefined;
let anonymous = 0;

/** The client id of a stream request, or undefined when its token is missing or invalid. */
export async function clientIdOf(url: string | undefined): Promise<string | undefined> {
  if (!key) return `anon-${process.pid}-${++anonymous}`;
  const token = new URL(url ?? '/', 'http://x').searchParams.get('token');
  if (!token) return undefined;
  try {
    const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'] });
    return typeof payload.sub === 'string' && payload.sub ? payload.sub : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The client id of a stream request that may open, with `open` streams open now; otherwise
 * undefined, once the request is answered (401 for a bad token, 503 past the limit).
 */
export async function admitStream(
  url: string | undefined,
  res: ServerResponse,
  open: number,
): Promise<string | undefined> {
  const clientId = await clientIdOf(url);
  if (!clientId) {
    res.writeHead(401).end();
    return undefined;
  }
  if (open >= env.maxConnections) {
    res.writeHead(503, { 'retry-after': '5' }).end();
    return undefined;
  }
  return clientId;
}

export function publishAllowed(authorization: string | undefined): boolean {
  return env.publishToken !== undefined && authorization === `Bearer ${env.publishToken}`;
}

/** A message as the publish route takes it: `data` already serialized once, as JSON text. */
export interface Envelope {
  id: string;
  to: string[] | null;
  event: string | undefined;
  data: unknown;
}

/** Checks `{ data, clientId?, event? }`; returns an error message when it is wrong. */
export function parsePublish(body: unknown): Omit<Envelope, 'id'> | string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return 'body must be an object';
  }
  const { data, clientId, event } = body as Record<string, unknown>;
  if (data === undefined) return '"data" is required';
  if (event !== undefined && typeof event !== 'string') return '"event" must be a string';
  let to: string[] | null = null;
  if (typeof clientId === 'string') to = [clientId];
  else if (Array.isArray(clientId) && clientId.every((id) => typeof id === 'string')) to = clientId;
  else if (clientId !== undefined) return '"clientId" must be a string or an array of strings';
  return { to, event, data };
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Event ids: a per-process counter, prefixed so that two instances never collide. */
let sequence = 0;
export function nextId(): string {
  return `${process.pid}-${++sequence}`;
}

const CHANNEL = 'sse-bench';

/**
 * Redis pub/sub between instances: `publish` sends an envelope to every instance, including
 * this one, whose subscriber hands it to `deliver`.
 */
export async function redisRelay(
  url: string,
  deliver: (envelope: Envelope) => void,
): Promise<(envelope: Envelope) => Promise<unknown>> {
  const publisher = new Redis(url, { lazyConnect: true });
  const subscriber = new Redis(url, { lazyConnect: true });
  publisher.on('error', (err: Error) => console.error(`redis publisher: ${err.message}`));
  subscriber.on('error', (err: Error) => console.error(`redis subscriber: ${err.message}`));
  await Promise.all([publisher.connect(), subscriber.connect()]);
  subscriber.on('message', (_channel: string, text: string) =>
    deliver(JSON.parse(text) as Envelope),
  );
  await subscriber.subscribe(CHANNEL);
  return (envelope) => publisher.publish(CHANNEL, JSON.stringify(envelope));
}

/**
 * Runs a node:http baseline: `GET /sse/msg` opens a stream, `POST /sse/publish` hands the message
 * to `deliver`, through Redis pub/sub when `REDIS_URL` is set.
 */
export async function serveBaseline(
  name: string,
  stream: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  deliver: (envelope: Envelope) => void,
): Promise<void> {
  const relay = env.redisUrl ? await redisRelay(env.redisUrl, deliver) : undefined;
  const publish = async (req: IncomingMessage, res: ServerResponse) => {
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
  };
  const server = http.createServer((req, res) => {
    const path = req.url?.split('?')[0];
    const handled =
      req.method === 'GET' && path === '/sse/msg'
        ? stream(req, res)
        : req.method === 'POST' && path === '/sse/publish'
          ? publish(req, res)
          : Promise.resolve(void res.writeHead(404).end());
    handled.catch((err: Error) => {
      console.error(err);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  server.listen(env.port, env.host, () =>
    console.log(`${name} listening on ${env.host}:${env.port}`),
  );
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => process.exit(0));
}
