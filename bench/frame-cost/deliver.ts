/**
 * Delivers `messages` broadcasts to `streams` streams of `GET /sse/msg` on the embedded bus, with
 * the module's own parts loaded from a build (`dist`), and nothing else: what `frame-cost.ts`
 * counts the instructions of. `node deliver.js <dist> <streams> <messages>`
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [dist, streamCount, messageCount] = process.argv.slice(2);
const load = (path: string) => import(pathToFileURL(join(dist, path)).href);

const { MemoryTransport } = await load('bus/transports/memory.transport.js');
const { ClientRouter } = await load('bus/client-router.js');
const { BusMetrics } = await load('metrics/bus-metrics.js');
const { BusStream } = await load('sse/bus-stream.js');
const { FRAMES } = await load('sse/event-frames.js');

const transport = new MemoryTransport(1_000, 64 * 1024 * 1024);
const router = new ClientRouter(transport.events$, new BusMetrics());
const host = {
  draining: false,
  closingRetryMs: () => 0,
  failed: () => undefined,
  slow: () => undefined,
  released: () => undefined,
};
let bytes = 0;
const sink = {
  write: (frame: { chunk: Buffer }) => {
    bytes += frame.chunk.length;
    return true;
  },
  end: () => undefined,
  whenWritable: () => undefined,
};
for (let i = 0; i < Number(streamCount); i++) {
  const stream = new BusStream(host, FRAMES, sink, { clientId: `c${i}`, topics: null });
  if (typeof stream.open === 'function') {
    // A build where a stream takes its place in the bus from the transport.
    stream.open(transport.cursor(stream, undefined));
    stream.start(router.view(stream), 1_000, false, undefined);
  } else {
    stream.start(router.view(stream), 1_000, transport.position(), false, undefined);
  }
}
for (let n = 0; n < Number(messageCount); n++) {
  await transport.publish({ to: null, topics: null, event: undefined, data: `{"n":${n}}` });
}
console.log(`bytes=${bytes}`);
