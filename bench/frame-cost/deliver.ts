/**
 * Delivers `messages` broadcasts to `streams` streams of `GET /sse/msg` on the embedded bus, with
 * the module's own parts loaded from a build (`dist`), and nothing else: what `frame-cost.ts`
 * counts the instructions of, after a warm-up. `node deliver.js <dist> <streams> <messages>`
 *
 * A build is taken as it is laid out: with a registry that opens streams on the bus's feeds
 * (`sse/stream-registry.js`), or, in builds from before it, a stream that takes its place from
 * the transport itself.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [dist, streamCount, messageCount] = process.argv.slice(2);
const WARM_UP = 200;
const load = (path: string) => import(pathToFileURL(join(dist, path)).href);

let bytes = 0;
const sink = {
  write: (frame: { chunk: Buffer }) => {
    bytes += frame.chunk.length;
    return true;
  },
  end: () => undefined,
  whenWritable: () => undefined,
};
const host = {
  draining: false,
  retryMs: 1_000,
  closingRetryMs: () => 0,
  failed: () => undefined,
  released: () => undefined,
};

const { MemoryTransport } = await load('bus/transports/memory.transport.js');
const { ClientRouter } = await load('bus/client-router.js');
const { BusStream } = await load('sse/bus-stream.js');
const transport = new MemoryTransport(
  1_000,
  64 * 1024 * 1024,
  { windowMs: 60_000, maxKeys: 100 },
  60_000,
);
const audience = (i: number) => ({ clientId: `c${i}`, topics: null });
if (existsSync(join(dist, 'sse/stream-registry.js'))) {
  const { BusCounters } = await load('bus/bus-counters.js');
  const { StreamFeeds } = await load('bus/stream-feed.js');
  const { FRAME_ENCODING } = await load('sse/frame-encoding.js');
  const counters = new BusCounters();
  const feeds = new StreamFeeds(transport, new ClientRouter(transport.events$, counters), counters);
  for (let i = 0; i < Number(streamCount); i++) {
    const stream = new BusStream(host, FRAME_ENCODING, sink, audience(i));
    feeds.feed(stream, undefined, stream).subscribe(stream);
  }
} else {
  const { BusMetrics } = await load('metrics/bus-metrics.js');
  const { FRAMES } = await load('sse/event-frames.js');
  const router = new ClientRouter(transport.events$, new BusMetrics());
  for (let i = 0; i < Number(streamCount); i++) {
    const stream = new BusStream(host, FRAMES, sink, audience(i));
    stream.open(transport.cursor(stream, undefined));
    stream.start(router.view(stream), 1_000, false, undefined);
  }
}
const publish = (n: number) =>
  transport.publish({ to: null, topics: null, event: undefined, data: `{"n":${n}}` });
// What is counted is the frames at their pace, not V8 compiling their path on the way (which
// varies from one build to the next with where it inlines): a warm-up first, then the delivery
// between two marks that `frame-cost.ts` has callgrind dump its counts at.
for (let n = 0; n < WARM_UP; n++) await publish(n);
process.cpuUsage();
for (let n = 0; n < Number(messageCount); n++) await publish(WARM_UP + n);
process.cpuUsage();
console.log(`bytes=${bytes}`);
