/**
 * The steering step's load process: opens streams of one client, then joins it to a topic and
 * has it leave again, pair after pair, each change waited for on every stream of the client (its
 * `topics` event, checked), while it reads the server's CPU from /proc. Prints its figures as one
 * line of JSON.
 *
 * Argument: the settings as JSON (`SteerOneSettings`).
 */
import { Agent, type IncomingMessage, request } from 'node:http';
import { SseParser } from '../../test/support/sse-parser.js';
import { cpuMs } from '../lib/proc.js';
import { summarize } from '../lib/stats.js';
import { postWithToken } from '../lib/token-post.js';
import { signToken } from '../lib/tokens.js';
import type { SteerOneReport, SteerOneSettings } from './steering-settings.js';

const settings = JSON.parse(process.argv[2]) as SteerOneSettings;
const { port, clientId, topic } = settings;
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

/** One stream of the client: the topics of its last `topics` event, and a wait for the next. */
class Stream {
  topics: string[] | undefined;
  private next: (() => void) | undefined;
  readonly response: Promise<IncomingMessage>;

  constructor(token: string) {
    const parser = new SseParser(({ event, data }) => {
      if (event === 'connected' || event === 'topics') {
        if (event === 'topics') this.topics = (JSON.parse(data!) as { topics: string[] }).topics;
        this.next?.();
        this.next = undefined;
      }
    });
    this.response = new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: `/sse/msg?token=${token}` }, resolve);
      req.on('error', reject);
      req.end();
    });
    void this.response.then((res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => parser.feed(chunk));
    });
  }

  /** Resolves at its next `connected` or `topics` event: set before the change is sent. */
  event(): Promise<void> {
    return new Promise((resolve) => (this.next = resolve));
  }
}

/** Joins (or leaves) `topic`; resolves once every stream has its `topics` event, in ms. */
async function change(streams: Stream[], join: boolean): Promise<number> {
  const started = performance.now();
  const arrived = Promise.all(streams.map((stream) => stream.event()));
  const body = JSON.stringify(join ? { join: [topic] } : { leave: [topic] });
  const status = await postWithToken(
    port,
    `/sse/clients/${encodeURIComponent(clientId)}/topics`,
    body,
    agent,
  );
  if (status !== 202) throw new Error(`a change of ${clientId}'s topics was answered ${status}`);
  await arrived;
  const ms = performance.now() - started;
  for (const stream of streams) {
    if (stream.topics?.includes(topic) !== join) {
      throw new Error(`a stream of ${clientId} has topics ${JSON.stringify(stream.topics)}`);
    }
  }
  return ms;
}

async function pairs(streams: Stream[], count: number, took: number[]): Promise<void> {
  for (let pair = 0; pair < count; pair++) {
    took.push(await change(streams, true), await change(streams, false));
  }
}

const token = await signToken(clientId);
const streams = Array.from({ length: settings.streams }, () => new Stream(token));
await Promise.all(streams.map((stream) => stream.event()));
await pairs(streams, settings.warmupPairs, []);
const took: number[] = [];
const cpu = cpuMs(settings.serverPid);
const started = performance.now();
await pairs(streams, settings.pairs, took);
const elapsedMs = performance.now() - started;
const serverCpuUs = (cpuMs(settings.serverPid) - cpu) * 1000;
for (const stream of streams) (await stream.response).destroy();
agent.destroy();
const latency = summarize(took);
const report: SteerOneReport = {
  changes: took.length,
  elapsedMs,
  serverCpuUsPerChange: serverCpuUs / took.length,
  p50Ms: latency.p50!,
  p99Ms: latency.p99!,
};
console.log(JSON.stringify(report));
