/**
 * One load-generator process: holds up to ~9,000 raw-TCP SSE connections from one source
 * address. Probes parse every frame (HTTP chunked decoding, SSE framing) and record the latency
 * of each message from the monotonic timestamp in its payload; sinks stop reading at the libuv
 * level once connected (`onread` callback returning false), so they cost nothing until a drain
 * reads and counts what the kernel kept for them; stalled connections never read again.
 */
import net from 'node:net';
import { clientIdOf, signToken } from '../lib/tokens.js';
import { CatchUp } from './catch-up.js';
import type {
  CollectResult,
  ConnKind,
  ConnSpec,
  DrainResult,
  OpenResult,
  ReleaseResult,
  ResumeResult,
  Spread,
  StreamTarget,
  WorkerReply,
  WorkerRequest,
} from './protocol.js';

/** Every message payload carries `"t":"<hrtime ns>"`: counting it counts messages. */
const MARKER = Buffer.from('"t":"');
/** The SSE field space is optional (better-sse writes `event:connected`). */
const CONNECTED = /(^|\n)event: ?connected(\r?\n|$)/;
const BUSY = /(^|\n)event: ?busy(\r?\n|$)/;
const RESET = /(^|\n)event: ?reset(\r?\n|$)/;
const ID = /(?:^|\n)id: ?([^\r\n]*)/;
const CONNECT_TIMEOUT_MS = 30_000;
/** One read buffer for every socket of the process: reads are handled synchronously. */
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);

let host = '127.0.0.1';
let localAddresses = ['127.0.0.1'];
let target: StreamTarget = { path: '/sse/msg', openOnHeaders: false };
const tokens = new Map<number, string>();

/** Sinks read while this is on (a drain, or the live mode of the stalled-client scenario). */
let sinksRead = false;
/** Stalled clients read again (to find out whether the server cut them off) while this is on. */
let stalledRead = false;
let bytesRead = 0;
let lastReadAt = 0;

// Probe records since the last collect.
let recIdx: number[] = [];
let recSeq: number[] = [];
let recLat: number[] = [];
let lastArrival = 0n;
const dropped: Record<ConnKind, number> = { probe: 0, sink: 0, stalled: 0 };

/** Where a connection goes instead of its spec's port, and the Last-Event-ID it resumes from. */
interface Reconnect {
  readonly port: number;
  readonly lastEventId: string | undefined;
}

class Conn {
  socket: net.Socket | undefined;
  state: 'new' | 'connecting' | 'open' | 'failed' | 'closed' = 'new';
  /** Messages counted since the last drain. */
  count = 0;
  /** A probe's last event id: where it resumes from. */
  lastId: string | undefined;
  /** Set while a probe resumes: what it must get (it records no latencies meanwhile). */
  catchUp: CatchUp | undefined;
  private partial = 0;
  private pre = '';
  private parser: ProbeParser | undefined;
  private startedAt = 0n;
  private settle: ((outcome: { ok: boolean; ms: number; reason?: string }) => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closing = false;

  constructor(readonly spec: ConnSpec) {}

  open(token: string, via?: Reconnect): Promise<{ ok: boolean; ms: number; reason?: string }> {
    const port = via?.port ?? this.spec.port;
    const resume = via?.lastEventId ? `Last-Event-ID: ${via.lastEventId}\r\n` : '';
    this.state = 'connecting';
    this.count = 0;
    this.partial = 0;
    this.pre = '';
    this.closing = false;
    this.parser = this.spec.kind === 'probe' ? new ProbeParser() : undefined;
    this.startedAt = process.hrtime.bigint();
    return new Promise((resolve) => {
      this.settle = resolve;
      const socket = net.connect({
        host,
        port,
        // Connections take turns over the source addresses: fewer ports in use per address
        // keeps bind() fast and the ephemeral range far from exhausted.
        localAddress: localAddresses[this.spec.idx % localAddresses.length],
        noDelay: true,
        onread: {
          buffer: READ_BUFFER,
          callback: (n: number, buf: Uint8Array) => this.onRead(n, buf as Buffer),
        },
      });
      this.socket = socket;
      socket.on('connect', () => {
        socket.write(
          `GET ${target.path}?token=${token} HTTP/1.1\r\nHost: ${host}:${port}\r\n` +
            `Accept: text/event-stream\r\nCache-Control: no-cache\r\n${resume}\r\n`,
        );
      });
      // A storm reopens the same connection on a new socket: the old one's events are stale.
      socket.on('error', (err) => socket === this.socket && this.fail(err.message));
      socket.on('close', () => socket === this.socket && this.onClose());
      this.timer = setTimeout(() => this.fail('timeout'), CONNECT_TIMEOUT_MS);
    });
  }

  close(): void {
    this.closing = true;
    if (this.state === 'connecting') this.fail('closed by the bench');
    this.state = 'closed';
    this.socket?.destroy();
  }

  private onRead(n: number, buf: Buffer): boolean {
    bytesRead += n;
    if (this.state === 'connecting') {
      const text = buf.toString('latin1', 0, n);
      if (this.parser) {
        this.parser.feed(text, this);
      } else {
        this.pre += text;
        this.scanOpening(this.pre);
        // scanOpening() may have moved the state on.
        if ((this.state as Conn['state']) === 'open') {
          this.count += countIn(this.pre);
          this.pre = '';
        }
      }
      return true;
    }
    if (this.parser) {
      this.parser.feed(buf.toString('latin1', 0, n), this);
      return true;
    }
    if (this.spec.kind === 'stalled') {
      lastReadAt = Date.now();
      return stalledRead;
    }
    this.countMarkers(buf, n);
    lastReadAt = Date.now();
    return sinksRead;
  }

  /** Status line and the `connected` event (or a refusal) in what a sink read so far. */
  scanOpening(text: string): void {
    if (text.length >= 12 && !text.startsWith('HTTP/1.1 200')) {
      this.fail(`status ${text.slice(9, 12)}`);
    } else if (BUSY.test(text)) {
      this.fail('busy');
    } else if (target.openOnHeaders ? text.includes('\r\n\r\n') : CONNECTED.test(text)) {
      this.connected();
    }
  }

  connected(): void {
    if (this.state !== 'connecting') return;
    this.state = 'open';
    clearTimeout(this.timer);
    const ms = Number(process.hrtime.bigint() - this.startedAt) / 1e6;
    this.settle?.({ ok: true, ms });
    this.settle = undefined;
  }

  fail(reason: string): void {
    if (this.state !== 'connecting') return;
    this.state = 'failed';
    clearTimeout(this.timer);
    this.socket?.destroy();
    this.settle?.({ ok: false, ms: 0, reason });
    this.settle = undefined;
  }

  private onClose(): void {
    if (this.state === 'connecting') this.fail('closed before the connected event');
    if (this.state === 'open' && !this.closing) {
      this.state = 'closed';
      dropped[this.spec.kind]++;
    }
  }

  private countMarkers(buf: Buffer, n: number): void {
    const view = buf.subarray(0, n);
    let pos = 0;
    if (this.partial > 0) {
      const need = MARKER.length - this.partial;
      if (n >= need && view.compare(MARKER, this.partial, MARKER.length, 0, need) === 0) {
        this.count++;
        pos = need;
      }
      this.partial = 0;
    }
    for (;;) {
      const at = view.indexOf(MARKER, pos);
      if (at < 0) break;
      this.count++;
      pos = at + MARKER.length;
    }
    // A marker cut by the end of this read: remember how much of it was seen.
    for (let k = Math.min(MARKER.length - 1, n - pos); k > 0; k--) {
      if (view.compare(MARKER, 0, k, n - k, n) === 0) {
        this.partial = k;
        break;
      }
    }
  }
}

function countIn(text: string): number {
  let count = 0;
  for (let at = text.indexOf('"t":"'); at >= 0; at = text.indexOf('"t":"', at + 5)) count++;
  return count;
}

/** HTTP/1.1 response head, chunked decoding, SSE framing; records each message's latency. */
class ProbeParser {
  private inHead = true;
  private head = '';
  private chunked = false;
  private state: 'size' | 'data' | 'crlf' | 'end' = 'size';
  private sizeText = '';
  private remaining = 0;
  private sse = '';

  feed(text: string, conn: Conn): void {
    const now = process.hrtime.bigint();
    if (this.inHead) {
      this.head += text;
      const end = this.head.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = this.head.slice(0, end);
      if (!head.startsWith('HTTP/1.1 200')) return conn.fail(`status ${head.slice(9, 12)}`);
      this.chunked = /\r\ntransfer-encoding:\s*chunked/i.test(head);
      text = this.head.slice(end + 4);
      this.head = '';
      this.inHead = false;
      if (target.openOnHeaders) conn.connected();
    }
    if (this.chunked) this.dechunk(text);
    else this.sse += text;
    for (let end = this.sse.indexOf('\n\n'); end >= 0; end = this.sse.indexOf('\n\n')) {
      const block = this.sse.slice(0, end);
      this.sse = this.sse.slice(end + 2);
      this.event(block, conn, now);
    }
  }

  private dechunk(text: string): void {
    let i = 0;
    while (i < text.length) {
      if (this.state === 'size') {
        const nl = text.indexOf('\n', i);
        if (nl < 0) {
          this.sizeText += text.slice(i);
          return;
        }
        this.sizeText += text.slice(i, nl);
        this.remaining = parseInt(this.sizeText.trim(), 16);
        this.sizeText = '';
        i = nl + 1;
        this.state = this.remaining > 0 ? 'data' : 'end';
      } else if (this.state === 'data') {
        const take = Math.min(this.remaining, text.length - i);
        this.sse += text.slice(i, i + take);
        this.remaining -= take;
        i += take;
        if (this.remaining === 0) this.state = 'crlf';
      } else if (this.state === 'crlf') {
        const nl = text.indexOf('\n', i);
        if (nl < 0) return;
        i = nl + 1;
        this.state = 'size';
      } else {
        return;
      }
    }
  }

  private event(block: string, conn: Conn, now: bigint): void {
    if (conn.state === 'connecting') {
      if (BUSY.test(block)) return conn.fail('busy');
      if (CONNECTED.test(block)) conn.connected();
    }
    const id = ID.exec(block);
    if (id) conn.lastId = id[1];
    if (conn.catchUp && RESET.test(block)) conn.catchUp.reset();
    const at = block.indexOf('"t":"');
    if (at < 0) return;
    const t = block.slice(at + 5, block.indexOf('"', at + 5));
    const seqAt = block.indexOf('"seq":');
    const seq = seqAt < 0 ? -1 : parseInt(block.slice(seqAt + 6), 10);
    conn.count++;
    if (conn.catchUp) return conn.catchUp.message(seq, id?.[1], now);
    recIdx.push(conn.spec.idx);
    recSeq.push(seq);
    recLat.push(Number(now - BigInt(t)) / 1e6);
    if (now > lastArrival) lastArrival = now;
  }
}

const conns = new Map<number, Conn>();

async function tokenFor(idx: number): Promise<string> {
  let token = tokens.get(idx);
  if (!token) tokens.set(idx, (token = await signToken(clientIdOf(idx))));
  return token;
}

/** Tries a connection in a `Spread` makes: the first and the retries. */
const SPREAD_TRIES = 3;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Opens connections: with a `spread`, over its window and with retries; without, at most
 * `maxInFlight` connecting at a time, once each.
 */
async function openAll(
  list: Conn[],
  maxInFlight: number,
  spread?: Spread,
  via?: (index: number) => Reconnect,
): Promise<OpenResult> {
  const started = Date.now();
  await Promise.all(list.map((conn) => tokenFor(conn.spec.idx)));
  const connectMs: number[] = [];
  const reasons = new Map<string, number>();
  let failed = 0;
  let retries = 0;
  const open = async (index: number) => {
    const conn = list[index];
    for (let tries = spread ? SPREAD_TRIES : 1; ;) {
      const outcome = await conn.open(tokens.get(conn.spec.idx)!, via?.(index));
      if (outcome.ok) return connectMs.push(outcome.ms);
      reasons.set(outcome.reason ?? '?', (reasons.get(outcome.reason ?? '?') ?? 0) + 1);
      if (--tries === 0) return failed++;
      retries++;
      await sleep(spread!.retryMs);
    }
  };
  if (spread) {
    const at = (index: number) => (index * spread.jitterMs) / list.length;
    await Promise.all(list.map((_, index) => sleep(at(index)).then(() => open(index))));
  } else {
    let next = 0;
    const lane = async () => {
      while (next < list.length) await open(next++);
    };
    await Promise.all(Array.from({ length: Math.min(maxInFlight, list.length) }, lane));
  }
  return {
    connected: connectMs.length,
    failed,
    connectMs: Float64Array.from(connectMs),
    reasons: [...reasons].map(([reason, count]) => `${reason} x${count}`),
    elapsedMs: Date.now() - started,
    retries,
  };
}

function collect(): CollectResult {
  const open: Record<ConnKind, number> = { probe: 0, sink: 0, stalled: 0 };
  for (const conn of conns.values()) if (conn.state === 'open') open[conn.spec.kind]++;
  const result: CollectResult = {
    idx: Int32Array.from(recIdx),
    seq: Int32Array.from(recSeq),
    latencyMs: Float64Array.from(recLat),
    lastArrivalNs: lastArrival === 0n ? '' : lastArrival.toString(),
    dropped: { ...dropped },
    open,
  };
  recIdx = [];
  recSeq = [];
  recLat = [];
  lastArrival = 0n;
  dropped.probe = dropped.sink = dropped.stalled = 0;
  return result;
}

/** Lets every sink read what the kernel kept for it, until the sockets go quiet; counts it. */
async function drain(quietMs: number, maxMs: number): Promise<DrainResult> {
  const started = Date.now();
  const before = bytesRead;
  sinksRead = true;
  lastReadAt = Date.now();
  for (const conn of conns.values()) {
    if (conn.spec.kind === 'sink' && conn.state === 'open') conn.socket?.resume();
  }
  while (Date.now() - lastReadAt < quietMs && Date.now() - started < maxMs) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  if (!liveMode) sinksRead = false;
  const idx: number[] = [];
  const count: number[] = [];
  for (const conn of conns.values()) {
    if (conn.spec.kind === 'stalled' || conn.state === 'failed' || conn.state === 'new') continue;
    idx.push(conn.spec.idx);
    count.push(conn.count);
    conn.count = 0;
  }
  return {
    idx: Int32Array.from(idx),
    count: Int32Array.from(count),
    bytes: bytesRead - before,
    elapsedMs: Date.now() - started,
  };
}

let liveMode = false;

function setLive(on: boolean): void {
  liveMode = on;
  sinksRead = on;
  if (on) {
    for (const conn of conns.values()) {
      if (conn.spec.kind === 'sink' && conn.state === 'open') conn.socket?.resume();
    }
  }
}

/** Stalled clients read what was kept for them; those the server had closed see the end. */
async function release(quietMs: number, maxMs: number): Promise<ReleaseResult> {
  const started = Date.now();
  const before = bytesRead;
  const list = [...conns.values()].filter((conn) => conn.spec.kind === 'stalled');
  stalledRead = true;
  lastReadAt = Date.now();
  for (const conn of list) if (conn.state === 'open') conn.socket?.resume();
  while (Date.now() - lastReadAt < quietMs && Date.now() - started < maxMs) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  stalledRead = false;
  return {
    stalled: list.length,
    cutByServer: list.filter((conn) => conn.state === 'closed').length,
    bytes: bytesRead - before,
  };
}

/**
 * The probes whose server went away come back, spread over a window and over `ports` in turn,
 * each with its Last-Event-ID, and must each get the `count` messages from `seqStart` on that
 * were published meanwhile (a retry expects them all again, from the same Last-Event-ID).
 * Resolves once they all have (or `maxMs` has passed).
 */
async function resume({
  ports,
  spread,
  seqStart,
  count,
  maxMs,
}: Extract<WorkerRequest, { op: 'resume' }>): Promise<ResumeResult> {
  const startedNs = process.hrtime.bigint();
  const list = [...conns.values()].filter(
    (conn) => conn.spec.kind === 'probe' && conn.state === 'closed',
  );
  const from = list.map((conn) => conn.lastId);
  const opened = await openAll(list, 0, spread, (index) => {
    list[index].catchUp = new CatchUp(seqStart, count);
    return { port: ports[index % ports.length], lastEventId: from[index] };
  });
  const deadline = Date.now() + maxMs;
  const waiting = () => list.some((conn) => conn.state === 'open' && !conn.catchUp!.done);
  while (waiting() && Date.now() < deadline) {
    await sleep(20);
  }
  const caughtUp = list.filter((conn) => conn.catchUp!.done);
  const lastNs = caughtUp.reduce((last, conn) => {
    const done = conn.catchUp!.doneNs;
    return done > last ? done : last;
  }, startedNs);
  return {
    ...opened,
    resuming: list.length,
    caughtUp: caughtUp.length,
    violations: list.reduce((n, conn) => n + conn.catchUp!.violations, 0),
    catchUpMs: Float64Array.from(
      caughtUp.map((conn) => Number(conn.catchUp!.doneNs - conn.catchUp!.startedNs) / 1e6),
    ),
    allCaughtUpMs: Number(lastNs - startedNs) / 1e6,
  };
}

function closeAll(kind?: ConnKind): number {
  let closed = 0;
  for (const [idx, conn] of conns) {
    if (kind && conn.spec.kind !== kind) continue;
    conn.close();
    conns.delete(idx);
    closed++;
  }
  return closed;
}

async function handle(request: WorkerRequest): Promise<unknown> {
  switch (request.op) {
    case 'init':
      host = request.host;
      localAddresses = request.localAddresses;
      target = request.target;
      return { pid: process.pid };
    case 'open': {
      const list = request.specs.map((spec) => {
        const conn = new Conn(spec);
        conns.set(spec.idx, conn);
        return conn;
      });
      const result = await openAll(list, request.maxInFlight, request.spread);
      if (liveMode) setLive(true);
      return result;
    }
    case 'collect':
      return collect();
    case 'drain':
      return drain(request.quietMs, request.maxMs);
    case 'live':
      setLive(request.on);
      return null;
    case 'close':
      return closeAll(request.kind);
    case 'release':
      return release(request.quietMs, request.maxMs);
    case 'resume':
      return resume(request);
    case 'storm': {
      // Every client drops its connection at once and comes straight back.
      const list = [...conns.values()].filter((conn) => conn.state === 'open');
      for (const conn of list) conn.close();
      const result = await openAll(list, request.maxInFlight);
      return result;
    }
  }
}

process.on('message', (request: WorkerRequest) => {
  handle(request).then(
    (result) => process.send!({ id: request.id, ok: true, result } satisfies WorkerReply),
    (err: Error) =>
      process.send!({
        id: request.id,
        ok: false,
        error: err.stack ?? String(err),
      } satisfies WorkerReply),
  );
});
process.on('disconnect', () => process.exit(0));
