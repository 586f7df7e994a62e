/**
 * Baseline: better-sse on node:http, used as its docs recommend: one `Session` per connection
 * (`createSession`), every session registered on one `Channel`, `channel.broadcast()` for
 * broadcasts and `session.push()` for a client's own messages (found through a
 * `Map<clientId, Set<Session>>`). better-sse serializes `data` per session and keeps a
 * keep-alive timer per session (set to SSE_HEARTBEAT_MS, as the other systems' heartbeat).
 * With REDIS_URL, publishes go through Redis pub/sub to every instance.
 */
import type http from 'node:http';
import { type Session, createChannel, createSession } from 'better-sse';
import { type Envelope, admitStream, env, serveBaseline } from './common.js';

const channel = createChannel();
const byClient = new Map<string, Set<Session>>();
let lastId = '0';

function deliver({ id, to, event, data }: Envelope): void {
  lastId = id;
  if (to === null) {
    channel.broadcast(data, event ?? 'message', { eventId: id });
    return;
  }
  for (const clientId of to) {
    const sessions = byClient.get(clientId);
    if (sessions) for (const session of sessions) session.push(data, event ?? 'message', id);
  }
}

async function stream(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const clientId = await admitStream(req.url, res, channel.sessionCount);
  if (!clientId) return;
  const session = await createSession(req, res, { keepAlive: env.heartbeatMs, retry: env.retryMs });
  channel.register(session);
  let own = byClient.get(clientId);
  if (!own) byClient.set(clientId, (own = new Set()));
  own.add(session);
  session.once('disconnected', () => {
    own.delete(session);
    if (own.size === 0 && byClient.get(clientId) === own) byClient.delete(clientId);
  });
  session.push({ clientId }, 'connected', lastId);
}

await serveBaseline('better-sse', stream, deliver);
