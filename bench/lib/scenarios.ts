/**
 * The scenarios, run against one system in one mode (embedded: one instance; redis: two
 * instances behind one redis-server), in a fixed order on one set of connections:
 * targeted messages at 100 connections, then idle levels (1k, 10k, 19k, …) with a 1 msg/s
 * broadcast at each, the stalled-client phases at 1k, the broadcast rate steps, targeted steps
 * and the reconnect storm at 10k.
 */
import { LoadGen, MAX_PER_WORKER } from '../loadgen/loadgen.js';
import type { CollectResult, ConnKind, ConnSpec, DrainResult } from '../loadgen/protocol.js';
import { Publisher } from '../loadgen/publisher-client.js';
import type { PublishResult } from '../loadgen/publisher.js';
import { cpuMs, rssKb, sum, tcpMemKb } from './proc.js';
import type { ResumeStormConfig } from './resume-storm.js';
import type { SteeringConfig } from '../steering/steering-settings.js';
import type {
  BroadcastStep,
  ConnectStats,
  IdlePoint,
  Mode,
  RunResult,
  StalledPhase,
  StalledResult,
  StormResult,
  TargetedStep,
} from './results.js';
import {
  type RedisProcess,
  SYSTEMS,
  type ServerProcess,
  type SystemId,
  startRedis,
  startSystem,
} from './servers.js';
import { round, summarize } from './stats.js';

export interface BenchConfig {
  smoke: boolean;
  rounds: number;
  configs: { system: SystemId; mode: Mode }[];
  /** Idle levels (total connections) per mode. */
  levels: Record<Mode, number[]>;
  smallN: number;
  smallProbeEvery: number;
  probeEvery: number;
  payloadBytes: number;
  targetedRates: number[];
  targetedSeconds: number;
  /** Run a targeted rate that failed on p99 once more before the ramp stops. */
  retryFailedStep?: boolean;
  /** Level at which broadcast steps, targeted steps and the storm run. */
  mainN: number;
  broadcastSteps: { rate: number; seconds: number }[];
  pointMessages: number;
  stalled: { n: number; share: number; rate: number; seconds: number; payloadBytes: number } | null;
  storm: { inFlightPerWorker: number } | null;
  /**
   * The publish throughput step: messages per measurement, measurements of each way, and
   * messages per `publishMany()` call.
   */
  publish: { n: number; warmup: number; reps: number; inFlight: number; batch: number };
  /** The HTTP publish step (see `http-publish-step.ts`). */
  httpPublish: HttpPublishConfig;
  /** The steering step (see `steering-step.ts`). */
  steering: SteeringConfig;
  /** The reconnect storm with resume, run once after the systems (see `resume-storm.ts`). */
  resumeStorm: ResumeStormConfig | null;
  /** Longest wait for deliveries once a step has published everything. */
  waitCapMs: number;
  settleMs: number;
  cpuServers: string | undefined;
  cpuLoad: string | undefined;
}

export interface HttpPublishConfig {
  /** Requests per measurement; `reps` measurements of each way, in turns. */
  requests: number;
  warmup: number;
  reps: number;
  /** Service processes of the same build measured in turns with no stream open. */
  processes: number;
  /** Keep-alive connections, one request in flight on each. */
  concurrency: number;
  /** Open streams of the two targeted measurements: a few, and many. */
  streams: [number, number];
  /** Messages per request of the batch measurement, and its requests. */
  batch: number;
  batchRequests: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const kb = (bytes: number) => Math.round(bytes / 1024);

class Run {
  readonly problems: string[] = [];
  private seq = 1;
  private specs: ConnSpec[] = [];
  private probes: number[] = [];

  constructor(
    readonly cfg: BenchConfig,
    readonly label: string,
    readonly servers: ServerProcess[],
    readonly redis: RedisProcess | undefined,
    readonly gen: LoadGen,
    readonly pub: Publisher,
    readonly log: (line: string) => void,
  ) {}

  get n(): number {
    return this.specs.length;
  }

  get pids(): number[] {
    return this.servers.map((s) => s.pid);
  }

  cpu(): number {
    return sum(this.pids, cpuMs);
  }

  rss(): number {
    return sum(this.pids, rssKb);
  }

  redisCpu(): number | null {
    return this.redis ? cpuMs(this.redis.pid) : null;
  }

  problem(text: string): void {
    this.problems.push(text);
    this.log(`  PROBLEM: ${text}`);
  }

  /** Throws if a server under test died: nothing after that would mean anything. */
  checkAlive(): void {
    for (const server of this.servers) {
      const crash = server.crashed();
      if (crash) throw new Error(crash);
    }
  }

  kindOf(idx: number): ConnKind {
    if (idx < this.cfg.smallN) return idx % this.cfg.smallProbeEvery === 0 ? 'probe' : 'sink';
    return idx % this.cfg.probeEvery === 0 ? 'probe' : 'sink';
  }

  portOf(idx: number): number {
    return this.servers[idx % this.servers.length].port;
  }

  async openTo(target: number): Promise<ConnectStats> {
    const specs: ConnSpec[] = [];
    for (let idx = this.n; idx < target; idx++) {
      specs.push({ idx, port: this.portOf(idx), kind: this.kindOf(idx) });
    }
    const opened = await this.gen.open(specs, 64);
    this.specs.push(...specs);
    this.probes.push(...specs.filter((s) => s.kind === 'probe').map((s) => s.idx));
    if (opened.failed > 0) {
      this.problem(
        `${opened.failed} of ${specs.length} connects failed: ${opened.reasons.join(', ')}`,
      );
    }
    if (specs.length > 0 && opened.connected === 0) {
      throw new Error(`no connection opened: ${opened.reasons.join(', ')}`);
    }
    return {
      n: target,
      opened: opened.connected,
      failed: opened.failed,
      reasons: opened.reasons,
      elapsedMs: opened.elapsedMs,
      perSecond:
        opened.elapsedMs > 0 ? round((opened.connected * 1000) / opened.elapsedMs, 0) : null,
      connectMs: summarize(opened.connectMs),
    };
  }

  async settle(): Promise<{
    rssKb: number;
    rssBeforeGcKb: number;
    heapUsedKb: number;
    loopMaxMs: number | null;
  }> {
    await sleep(this.cfg.settleMs);
    const rssBeforeGcKb = this.rss();
    const stats = await Promise.all(this.servers.map((s) => s.stats()));
    await sleep(300);
    const heap = stats.reduce((total, s) => total + (s?.after.heapUsed ?? NaN), 0);
    const loop = stats.map((s) => s?.loopDelayMs.max ?? NaN);
    return {
      rssKb: this.rss(),
      rssBeforeGcKb,
      heapUsedKb: kb(heap),
      loopMaxMs: round(Math.max(...loop)),
    };
  }

  /** Full GC and a fresh event-loop-delay window before a step; its max after. */
  async loopWindow(): Promise<() => Promise<number | null>> {
    await Promise.all(this.servers.map((s) => s.stats()));
    return async () => {
      const stats = await Promise.all(this.servers.map((s) => s.stats()));
      return round(Math.max(...stats.map((s) => s?.loopDelayMs.max ?? NaN)));
    };
  }

  /**
   * Publishes, then collects probe records until every expected one is in, nothing has
   * arrived for a while, or the cap is reached.
   */
  async publishAndWait(
    job: Parameters<Publisher['run']>[0],
    expectedRecords: (published: PublishResult) => number,
  ): Promise<{
    published: PublishResult;
    records: CollectResult[];
    lastArrivalNs: bigint;
    dropped: Record<ConnKind, number>;
  }> {
    await this.gen.collect();
    const records: CollectResult[] = [];
    let count = 0;
    let publishing = true;
    const running = this.pub.run(job).finally(() => (publishing = false));
    let published: PublishResult | undefined;
    running.then((r) => (published = r)).catch(() => undefined);
    let lastProgress = Date.now();
    let doneAt = 0;
    for (;;) {
      await sleep(200);
      const batch = await this.gen.collect();
      records.push(...batch);
      const more = batch.reduce(
        (n, r) => n + r.seq.filter((s) => s >= job.seqStart && s < job.seqStart + job.count).length,
        0,
      );
      if (more > 0) lastProgress = Date.now();
      count += more;
      if (publishing) continue;
      if (!published) {
        await running; // rethrows the publisher's failure
      }
      doneAt ||= Date.now();
      const expected = expectedRecords(published!);
      if (count >= expected) break;
      if (Date.now() - lastProgress > 3_000) break;
      if (Date.now() - doneAt > this.cfg.waitCapMs) {
        this.problem(`deliveries still arriving ${this.cfg.waitCapMs} ms after the last publish`);
        break;
      }
    }
    let last = 0n;
    const dropped = { probe: 0, sink: 0, stalled: 0 };
    for (const r of records) {
      if (r.lastArrivalNs && BigInt(r.lastArrivalNs) > last) last = BigInt(r.lastArrivalNs);
      for (const kind of ['probe', 'sink', 'stalled'] as const) dropped[kind] += r.dropped[kind];
    }
    return { published: published!, records, lastArrivalNs: last, dropped };
  }

  latencies(
    records: CollectResult[],
    seqStart: number,
    count: number,
  ): { lat: number[]; seqs: Set<number>; rows: number } {
    const lat: number[] = [];
    const seqs = new Set<number>();
    for (const r of records) {
      for (let i = 0; i < r.seq.length; i++) {
        const seq = r.seq[i];
        if (seq < seqStart || seq >= seqStart + count) continue;
        lat.push(r.latencyMs[i]);
        seqs.add(seq);
      }
    }
    return { lat, seqs, rows: lat.length };
  }

  async drainCounts(): Promise<{
    delivered: number;
    connections: number;
    short: (messages: number) => number;
  }> {
    const drained: DrainResult[] = await this.gen.drain(300, this.cfg.waitCapMs);
    let delivered = 0;
    let connections = 0;
    const counts: number[] = [];
    for (const d of drained) {
      connections += d.idx.length;
      for (const c of d.count) {
        delivered += c;
        counts.push(c);
      }
    }
    return {
      delivered,
      connections,
      short: (messages) => counts.filter((c) => c < messages).length,
    };
  }

  /**
   * Broadcasts `rate` messages a second for `seconds` through every server, and waits until every
   * probe has them (or gives up waiting); a refused publish is recorded as a problem.
   */
  private async publishBroadcast(rate: number, seconds: number, payloadBytes: number) {
    const messages = Math.max(1, Math.round(rate * seconds));
    const seqStart = this.seq;
    this.seq += messages;
    const probeCount = (await this.gen.collect()).reduce((n, r) => n + r.open.probe, 0);
    const result = await this.publishAndWait(
      {
        ports: this.servers.map((s) => s.port),
        mode: 'broadcast',
        rate,
        count: messages,
        seqStart,
        payloadBytes,
      },
      (p) => p.accepted * probeCount,
    );
    const { published } = result;
    if (published.failed > 0) {
      this.problem(`${published.failed} broadcasts refused: ${published.errors.join(', ')}`);
    }
    return { messages, seqStart, ...result };
  }

  async broadcast(
    rate: number,
    seconds: number,
    payloadBytes = this.cfg.payloadBytes,
  ): Promise<BroadcastStep> {
    this.checkAlive();
    const loopMax = await this.loopWindow();
    const cpu0 = this.cpu();
    const redis0 = this.redisCpu();
    const { messages, seqStart, published, records, lastArrivalNs, dropped } =
      await this.publishBroadcast(rate, seconds, payloadBytes);
    const serverCpuMs = this.cpu() - cpu0;
    const redisCpuMs = redis0 === null ? null : this.redisCpu()! - redis0;
    const loopDelayMaxMs = await loopMax();
    const { lat } = this.latencies(records, seqStart, messages);
    const { delivered, connections, short } = await this.drainCounts();
    // Only what the server accepted can be expected (a refused POST is reported apart).
    const expected = published.accepted * connections;
    const spanMs =
      lastArrivalNs > 0n ? Number(lastArrivalNs - BigInt(published.startNs)) / 1e6 : null;
    if (delivered < expected) {
      this.problem(`broadcast ${rate}/s to ${this.n}: ${expected - delivered} frames lost`);
    }
    const step: BroadcastStep = {
      n: this.n,
      rate,
      seconds,
      payloadBytes,
      messages,
      accepted: published.accepted,
      delivered,
      expected,
      lost: Math.max(0, expected - delivered),
      shortConnections: short(published.accepted),
      latency: summarize(lat),
      serverCpuMs,
      redisCpuMs,
      cpuPerFrameUs: delivered > 0 ? round((serverCpuMs * 1000) / delivered, 3) : null,
      offeredPerSecond: rate * this.n,
      deliveredPerSecond: spanMs ? round((delivered * 1000) / spanMs, 0) : null,
      spanMs: round(spanMs),
      loopDelayMaxMs,
      dropped: dropped.probe + dropped.sink,
    };
    this.log(
      `  broadcast ${rate}/s x${messages} to ${this.n}: p50 ${step.latency.p50} p99 ${step.latency.p99} ms, ` +
        `${step.cpuPerFrameUs} us CPU/frame, ${step.deliveredPerSecond}/s delivered, ` +
        `loop delay max ${step.loopDelayMaxMs} ms, lost ${step.lost}`,
    );
    return step;
  }

  async targeted(rate: number, seconds: number): Promise<TargetedStep> {
    this.checkAlive();
    const count = Math.max(1, Math.round(rate * seconds));
    const seqStart = this.seq;
    this.seq += count;
    const loopMax = await this.loopWindow();
    const cpu0 = this.cpu();
    const { published, records, lastArrivalNs } = await this.publishAndWait(
      {
        ports: this.servers.map((s) => s.port),
        mode: 'targeted',
        rate,
        count,
        seqStart,
        payloadBytes: this.cfg.payloadBytes,
        recipients: this.probes,
      },
      (p) => p.accepted,
    );
    const serverCpuMs = this.cpu() - cpu0;
    await this.drainCounts();
    const { lat, seqs } = this.latencies(records, seqStart, count);
    const delivered = seqs.size;
    const spanMs =
      lastArrivalNs > 0n ? Number(lastArrivalNs - BigInt(published.startNs)) / 1e6 : null;
    const latency = summarize(lat);
    const lost = published.accepted - delivered;
    const step: TargetedStep = {
      n: this.n,
      rate,
      seconds,
      sent: published.sent,
      accepted: published.accepted,
      delivered,
      lost,
      latency,
      serverCpuMs,
      cpuPerMessageUs: delivered > 0 ? round((serverCpuMs * 1000) / delivered, 2) : null,
      serverCpuPct: spanMs ? round((serverCpuMs / spanMs) * 100, 1) : null,
      achievedPerSecond: spanMs ? round((delivered * 1000) / spanMs, 0) : null,
      ok: lost === 0 && published.failed === 0 && latency.p99 !== null && latency.p99 < 50,
      loopDelayMaxMs: await loopMax(),
    };
    if (published.failed > 0) {
      this.problem(`${published.failed} targeted messages refused: ${published.errors.join(', ')}`);
    }
    if (lost > 0) {
      this.problem(`targeted ${rate}/s at ${this.n}: ${lost} of ${count} messages lost`);
    }
    this.log(
      `  targeted ${rate}/s x${count} at ${this.n}: p50 ${latency.p50} p99 ${latency.p99} ms, ` +
        `${step.cpuPerMessageUs} us CPU/msg (${step.serverCpuPct}% CPU), ` +
        `loop delay max ${step.loopDelayMaxMs} ms, lost ${lost}${step.ok ? '' : '  [p99 >= 50 ms or loss]'}`,
    );
    return step;
  }

  async targetedSteps(): Promise<TargetedStep[]> {
    const steps: TargetedStep[] = [];
    for (const rate of this.cfg.targetedRates) {
      let step = await this.targeted(rate, this.cfg.targetedSeconds);
      if (!step.ok && step.lost === 0 && this.cfg.retryFailedStep) {
        // One stall of the box fails a p99 on its own: a failed rate gets a second try.
        this.log(`  targeted ${rate}/s: p99 ${step.latency.p99} ms, once more`);
        step = {
          ...(await this.targeted(rate, this.cfg.targetedSeconds)),
          firstTryP99: step.latency.p99,
        };
      }
      steps.push(step);
      // Past the first rate it cannot hold, a higher one says nothing more.
      if (!step.ok) break;
    }
    return steps;
  }

  /**
   * Opens connections up to `level`. What they cost is what the process grew by while they were
   * opened: counted from a reading just before, not from the start, it leaves out what earlier
   * steps left behind (such as the messages an embedded history keeps).
   */
  async idle(level: number): Promise<IdlePoint> {
    this.checkAlive();
    const fromN = this.n;
    const from = await this.settle();
    const connect = await this.openTo(level);
    const settled = await this.settle();
    const opened = this.n - fromN;
    this.log(
      `  ${this.n} connections (${connect.perSecond}/s, ${connect.failed} failed): RSS ${Math.round(settled.rssKb / 1024)} MiB`,
    );
    return {
      n: this.n,
      connect,
      rssKb: settled.rssKb,
      rssPerConnKb: round((settled.rssKb - from.rssKb) / opened, 2),
      heapUsedKb: settled.heapUsedKb,
      heapPerConnKb: round((settled.heapUsedKb - from.heapUsedKb) / opened, 2),
      rssBeforeGcKb: settled.rssBeforeGcKb,
      tcpMemKb: tcpMemKb(),
    };
  }

  async storm(inFlightPerWorker: number): Promise<StormResult> {
    this.checkAlive();
    const n = this.n;
    const before = await this.settle();
    const cpu0 = this.cpu();
    const result = await this.gen.storm(inFlightPerWorker);
    const serverCpuMs = this.cpu() - cpu0;
    if (result.failed > 0) {
      this.problem(`storm: ${result.failed} reconnects failed: ${result.reasons.join(', ')}`);
    }
    const after = await this.settle();
    const storm: StormResult = {
      n,
      reconnected: result.connected,
      failed: result.failed,
      reasons: result.reasons,
      elapsedMs: result.elapsedMs,
      connectMs: summarize(result.connectMs),
      serverCpuMs,
      cpuPerConnectUs:
        result.connected > 0 ? round((serverCpuMs * 1000) / result.connected, 1) : null,
      rssBeforeKb: before.rssKb,
      rssAfterKb: after.rssKb,
    };
    this.log(
      `  storm: ${storm.reconnected}/${n} back in ${storm.elapsedMs} ms (p99 connect ${storm.connectMs.p99} ms, ` +
        `${storm.cpuPerConnectUs} us CPU each), ${storm.failed} failed`,
    );
    return storm;
  }

  private async stalledPhase(
    rate: number,
    seconds: number,
    payloadBytes: number,
  ): Promise<StalledPhase> {
    const rssStartKb = this.rss();
    let rssMaxKb = rssStartKb;
    const sampler = setInterval(() => (rssMaxKb = Math.max(rssMaxKb, this.rss())), 250);
    const cpu0 = this.cpu();
    const { messages, seqStart, published, records, dropped } = await this.publishBroadcast(
      rate,
      seconds,
      payloadBytes,
    );
    const serverCpuMs = this.cpu() - cpu0;
    const { delivered, connections } = await this.drainCounts();
    clearInterval(sampler);
    const rssEndKb = this.rss();
    rssMaxKb = Math.max(rssMaxKb, rssEndKb);
    const { lat } = this.latencies(records, seqStart, messages);
    // Only what the server accepted can be expected (a refused POST is reported apart).
    const expected = published.accepted * connections;
    return {
      latency: summarize(lat),
      delivered,
      expected,
      lost: Math.max(0, expected - delivered),
      rssStartKb,
      rssMaxKb,
      rssEndKb,
      serverCpuMs,
      dropped,
    };
  }

  async stalled(spec: NonNullable<BenchConfig['stalled']>): Promise<StalledResult> {
    this.checkAlive();
    const { rate, seconds, payloadBytes } = spec;
    await this.gen.live(true);
    await this.settle();
    const control = await this.stalledPhase(rate, seconds, payloadBytes);
    this.log(
      `  stalled, control: p50 ${control.latency.p50} p99 ${control.latency.p99} ms, RSS max ${control.rssMaxKb >> 10} MiB`,
    );
    const count = Math.max(1, Math.round(this.n * spec.share));
    const specs: ConnSpec[] = [];
    for (let i = 0; i < count; i++) {
      const idx = 1_000_000 + i * Math.floor(this.n / count);
      specs.push({ idx, port: this.portOf(idx), kind: 'stalled' });
    }
    const opened = await this.gen.open(specs, 16);
    if (opened.failed > 0) this.problem(`${opened.failed} stalled clients did not connect`);
    const withStalled = await this.stalledPhase(rate, seconds, payloadBytes);
    const released = await this.gen.release();
    withStalled.dropped.stalled = released.cutByServer;
    this.log(
      `  stalled, ${count} stalled: p50 ${withStalled.latency.p50} p99 ${withStalled.latency.p99} ms, ` +
        `RSS ${withStalled.rssStartKb >> 10} -> max ${withStalled.rssMaxKb >> 10} MiB, ` +
        `stalled cut off by the server ${released.cutByServer}/${count}, readers cut ${withStalled.dropped.probe + withStalled.dropped.sink}`,
    );
    if (withStalled.lost > 0 || control.lost > 0) {
      this.problem(`stalled scenario: reading clients lost frames`);
    }
    await this.gen.close('stalled');
    await this.gen.live(false);
    await this.drainCounts();
    const after = await this.settle();
    return {
      n: this.n,
      stalled: count,
      rate,
      seconds,
      payloadBytes,
      bytesPerClient: Math.round(rate * seconds) * payloadBytes,
      control,
      withStalled,
      rssAfterKb: after.rssKb,
    };
  }
}

/** Runs every scenario against one system in one mode (the idle levels only, for an idle-only one). */
export async function runSystem(
  cfg: BenchConfig,
  system: SystemId,
  mode: Mode,
  roundNo: number,
  log: (line: string) => void,
): Promise<RunResult> {
  const started = Date.now();
  const label = `${system}/${mode}`;
  const instances = mode === 'redis' ? 2 : 1;
  const levels = cfg.levels[mode];
  const { path = '/sse/msg', idleOnly = false } = SYSTEMS[system];
  const result: RunResult = {
    system,
    mode,
    instances,
    round: roundNo,
    ok: false,
    problems: [],
    startedAt: new Date().toISOString(),
    durationS: 0,
    baseline: { rssKb: 0, heapUsedKb: 0 },
    idle: [],
    latencyByN: [],
    broadcast: [],
    targeted: [],
    storm: null,
    stalled: null,
    redis: null,
  };
  let redis: RedisProcess | undefined;
  const servers: ServerProcess[] = [];
  let gen: LoadGen | undefined;
  let pub: Publisher | undefined;
  let run: Run | undefined;
  try {
    if (mode === 'redis' || system === 'naive-nest') redis = await startRedis(cfg.cpuLoad);
    for (let i = 0; i < instances; i++) {
      servers.push(await startSystem(system, i, redis?.url, cfg.cpuServers));
    }
    const most =
      Math.max(...levels) + (cfg.stalled ? Math.ceil(cfg.stalled.n * cfg.stalled.share) : 0);
    gen = await LoadGen.start(Math.max(2, Math.ceil(most / MAX_PER_WORKER)), cfg.cpuLoad, {
      path,
      openOnHeaders: idleOnly,
    });
    pub = Publisher.start(cfg.cpuLoad);
    run = new Run(cfg, label, servers, redis, gen, pub, log);

    const base = await run.settle();
    result.baseline = { rssKb: base.rssKb, heapUsedKb: base.heapUsedKb };
    log(`  started ${instances} instance(s): RSS ${Math.round(base.rssKb / 1024)} MiB`);

    // Opened by every system, so that each level's connections find the process warmed up alike.
    await run.openTo(cfg.smallN);
    if (!idleOnly) result.targeted.push(...(await run.targetedSteps()));

    for (const level of levels) {
      result.idle.push(await run.idle(level));
      if (idleOnly) continue;
      if (level === cfg.mainN) {
        for (const step of cfg.broadcastSteps) {
          result.broadcast.push(await run.broadcast(step.rate, step.seconds));
        }
        const first = result.broadcast.find((s) => s.rate === 1);
        if (first) result.latencyByN.push(first);
        result.targeted.push(...(await run.targetedSteps()));
        if (cfg.storm) result.storm = await run.storm(cfg.storm.inFlightPerWorker);
      } else {
        result.latencyByN.push(await run.broadcast(1, cfg.pointMessages));
      }
      if (cfg.stalled && level === cfg.stalled.n) result.stalled = await run.stalled(cfg.stalled);
    }
    run.checkAlive();
    result.ok = true;
  } catch (err) {
    const text = `${label}: ${(err as Error).message}`;
    result.problems.push(text);
    log(`  FAILED: ${text}`);
  } finally {
    if (run) result.problems.unshift(...run.problems);
    await gen?.stop().catch(() => undefined);
    await pub?.stop().catch(() => undefined);
    if (redis) result.redis = await redis.info().catch(() => null);
    for (const server of servers) await server.stop();
    await redis?.stop();
    result.durationS = Math.round((Date.now() - started) / 1000);
  }
  return result;
}
