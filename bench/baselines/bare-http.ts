/**
 * Baseline "the limit": plain node:http. Each message becomes one frame Buffer, built once and
 * written with `res.write` to every response it is for; `Map<clientId, Set<response>>` routes
 * targeted messages; one global timer writes the heartbeat. No backpressure policy: a client
 * that does not read makes the process buffer for it. With REDIS_URL, publishes go through
 * Redis pub/sub to every instance.
 */
import type { ServerResponse } from 'node:http';
import {
  type Envelope,
  SSE_HEADERS,
  admitStream,
  env,
  openingText,
  serveBaseline,
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

async function stream(url: string | undefined, res: ServerResponse): Promise<void> {
  const clientId = await admitStream(url, res, everyone.size);
  if (!clientId) return;
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

setInterval(() => {
  for (const res of everyone) res.write(HEARTBEAT);
}, env.heartbeatMs).unref();

await serveBaseline('bare-http', (req, res) => stream(req.url, res), deliver);
