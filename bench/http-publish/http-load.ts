/**
 * The HTTP publish step's load process: keep-alive connections POSTing targeted messages to
 * `/sse/publish` (or changes of clients' topics), one request in flight on each, while it reads
 * the server's CPU from /proc.
 * Prints its figures as one line of JSON.
 *
 * Argument: the settings as JSON (`HttpLoadSettings`).
 */
import { Agent } from 'node:http';
import { cpuMs } from '../lib/proc.js';
import { postWithToken } from '../lib/token-post.js';
import { clientIdOf } from '../lib/tokens.js';
import type { HttpLoadReport, HttpLoadSettings } from './http-load-settings.js';

const settings = JSON.parse(process.argv[2]) as HttpLoadSettings;
const agent = new Agent({ keepAlive: true, maxSockets: settings.concurrency });
const pad = 'x'.repeat(Math.max(0, settings.payloadBytes - 20));

function message(seq: number): string {
  return `{"data":{"seq":${seq},"p":"${pad}"},"clientId":"${clientIdOf(seq % settings.clients)}"}`;
}

function body(seq: number): string {
  if (settings.batch === 1) return message(seq);
  const items = Array.from({ length: settings.batch }, (_, i) => message(seq * settings.batch + i));
  return `[${items.join(',')}]`;
}

/** A change of a recipient's topics: a join of `room` the first time round, its leave the next. */
function change(seq: number): { path: string; text: string } {
  const client = clientIdOf(seq % settings.clients);
  const join = Math.floor(seq / settings.clients) % 2 === 0;
  return {
    path: `/sse/clients/${client}/topics`,
    text: join ? '{"join":["room"]}' : '{"leave":["room"]}',
  };
}

/** Resolves to whether the server took it (202). */
async function post(seq: number): Promise<boolean> {
  const { path, text } =
    settings.route === 'topics' ? change(seq) : { path: '/sse/publish', text: body(seq) };
  return (await postWithToken(settings.port, path, text, agent)) === 202;
}

/** Sends `count` requests from `from` on, `concurrency` at a time; resolves to the failures. */
async function send(from: number, count: number): Promise<number> {
  let next = from;
  let failed = 0;
  const end = from + count;
  await Promise.all(
    Array.from({ length: settings.concurrency }, async () => {
      while (next < end) if (!(await post(next++))) failed++;
    }),
  );
  return failed;
}

await send(0, settings.warmup);
const cpu = cpuMs(settings.serverPid);
const started = performance.now();
const failed = await send(settings.warmup, settings.requests);
const elapsedMs = performance.now() - started;
const serverCpuUs = (cpuMs(settings.serverPid) - cpu) * 1000;
agent.destroy();
const messages = settings.requests * settings.batch;
const report: HttpLoadReport = {
  requests: settings.requests,
  messages,
  failed,
  elapsedMs,
  serverCpuUsPerRequest: serverCpuUs / settings.requests,
  serverCpuUsPerMessage: serverCpuUs / messages,
  messagesPerSecond: messages / (elapsedMs / 1000),
};
console.log(JSON.stringify(report));
