import type { ClusterBenchResult } from '../cluster/results.js';
import type { ClientSize } from './client-size.js';
import type { HttpPublishConfig } from './scenarios.js';
import type { SteeringConfig } from '../steering/steering-settings.js';
import type { LatencySummary } from './stats.js';
import type { SystemId } from './servers.js';

export type Mode = 'embedded' | 'redis';

export interface ConnectStats {
  /** Connections open after this step. */
  n: number;
  opened: number;
  failed: number;
  reasons: string[];
  elapsedMs: number;
  perSecond: number | null;
  connectMs: LatencySummary;
}

export interface IdlePoint {
  n: number;
  connect: ConnectStats;
  /** Sum over the instances, after a settle and a full GC. */
  rssKb: number;
  /** What RSS grew by while this level's connections were opened, per connection opened. */
  rssPerConnKb: number | null;
  heapUsedKb: number;
  heapPerConnKb: number | null;
  /** RSS read before the GC, after the settle only. */
  rssBeforeGcKb: number;
  tcpMemKb: number;
}

export interface BroadcastStep {
  n: number;
  rate: number;
  seconds: number;
  payloadBytes: number;
  messages: number;
  accepted: number;
  /** Frames counted at the clients, every connection (probes and drained sinks). */
  delivered: number;
  expected: number;
  lost: number;
  /** Connections that did not get every message of the step. */
  shortConnections: number;
  latency: LatencySummary;
  serverCpuMs: number;
  redisCpuMs: number | null;
  cpuPerFrameUs: number | null;
  /** Offered deliveries/s (rate × n) and what was achieved until the last probe had its last message. */
  offeredPerSecond: number;
  deliveredPerSecond: number | null;
  /** From the first message's scheduled time to the last probe arrival. */
  spanMs: number | null;
  loopDelayMaxMs: number | null;
  dropped: number;
}

export interface TargetedStep {
  n: number;
  rate: number;
  seconds: number;
  sent: number;
  accepted: number;
  delivered: number;
  lost: number;
  latency: LatencySummary;
  serverCpuMs: number;
  cpuPerMessageUs: number | null;
  serverCpuPct: number | null;
  achievedPerSecond: number | null;
  /** p99 under 50 ms, nothing lost, every POST accepted. */
  ok: boolean;
  /** Longest event-loop stall of the server(s) during the step. */
  loopDelayMaxMs: number | null;
  /** When the first try failed on p99 and this is the second: the first try's p99. */
  firstTryP99?: number | null;
}

export interface StormResult {
  n: number;
  reconnected: number;
  failed: number;
  reasons: string[];
  elapsedMs: number;
  connectMs: LatencySummary;
  serverCpuMs: number;
  cpuPerConnectUs: number | null;
  rssBeforeKb: number;
  rssAfterKb: number;
}

/** What redis-server ran during a phase (`INFO commandstats`), per client of the phase. */
export interface RedisUse {
  /** Calls by command, those run inside scripts included. */
  byCommand: Record<string, number>;
  /** Round trips: script calls and the readers' XREAD. */
  callsPerClient: number;
  /** Every command, those run inside scripts included (presence counts each stream there). */
  commandsPerClient: number;
  /** History pages read from Redis. */
  historyReadsPerClient: number;
}

/** Clients of an instance that was SIGKILLed resume on the others (`resume-storm.ts`). */
export interface ResumeStormResult {
  /** Instances through one redis-server, the killed one included. */
  instances: number;
  n: number;
  /** Messages published while the clients were away. */
  missed: number;
  /** The window their reconnects are spread over, evenly, in both phases. */
  jitterMs: number;
  problems: string[];
  resume: {
    reconnected: number;
    failed: number;
    reasons: string[];
    caughtUp: number;
    /** Repeats, messages out of order or missing, resets: must be 0. */
    violations: number;
    /** From the first reconnect to the last client with every message it missed. */
    allCaughtUpMs: number;
    /** Each client, from its connect to its last missed message. */
    catchUpMs: LatencySummary;
    /** Reconnects turned away and tried again after the server's `retry:`. */
    retries: number;
    redis: RedisUse;
    serverCpuMs: number;
  };
  fresh: {
    connected: number;
    failed: number;
    reasons: string[];
    /** From the first connect to the last `connected` event. */
    allConnectedMs: number;
    connectMs: LatencySummary;
    retries: number;
    serverCpuMs: number;
    redis: RedisUse;
  };
}

export interface StalledPhase {
  latency: LatencySummary;
  delivered: number;
  expected: number;
  lost: number;
  rssStartKb: number;
  rssMaxKb: number;
  rssEndKb: number;
  serverCpuMs: number;
  /** Connections the server closed during the phase, by kind. */
  dropped: { probe: number; sink: number; stalled: number };
}

export interface StalledResult {
  n: number;
  stalled: number;
  rate: number;
  seconds: number;
  payloadBytes: number;
  /** Bytes each client is sent during one phase. */
  bytesPerClient: number;
  control: StalledPhase;
  withStalled: StalledPhase;
  /** RSS after the stalled clients are gone and a GC. */
  rssAfterKb: number;
}

export interface RunResult {
  system: SystemId;
  mode: Mode;
  instances: number;
  round: number;
  ok: boolean;
  problems: string[];
  startedAt: string;
  durationS: number;
  baseline: { rssKb: number; heapUsedKb: number };
  idle: IdlePoint[];
  /** Broadcast at 1 msg/s at each idle level: latency against connections. */
  latencyByN: BroadcastStep[];
  broadcast: BroadcastStep[];
  targeted: TargetedStep[];
  storm: StormResult | null;
  stalled: StalledResult | null;
  redis: Record<string, string> | null;
}

/** `MessageBus.publish()` through Redis against pipelined `XADD`, on one node. */
export interface PublishThroughput {
  /** Messages per measurement; `reps` measurements of each, in turns. */
  n: number;
  reps: number;
  inFlight: number;
  payloadBytes: number;
  xaddPerSecond: number[];
  publishPerSecond: number[];
  /** Messages per `publishMany()` call (absent from results of before it was measured). */
  batch?: number;
  publishManyPerSecond?: number[];
  /** CPU per message (µs, median over the turns) of the publishing process and of Redis. */
  cpuUs: {
    xadd: { node: number | null; redis: number | null };
    publish: { node: number | null; redis: number | null };
    publishMany?: { node: number | null; redis: number | null };
  };
  /** The median over the turns of publishes/s over the XADDs/s measured just before. */
  ratio: number | null;
  /** The same of `publishMany()`'s messages/s. */
  manyRatio?: number | null;
  /** How many publishes one script call carried, on average. */
  messagesPerScriptCall: number | null;
  /** Why the step did not complete. */
  problem: string | null;
}

/** The HTTP publish step on one mode (see `http-publish-step.ts`): medians over its turns. */
export interface HttpPublishMode {
  mode: Mode;
  /** Server CPU per request (µs) of the bare Fastify route. */
  bareUsPerRequest: number | null;
  /** Of a publish with no stream open: the HTTP path, nothing delivered. */
  noStreamUsPerRequest: number | null;
  /**
   * Each process's median over the turns of that / bare (each against the bare turn before it),
   * and the median of those.
   */
  publishOverBare: number | null;
  publishOverBareByProcess?: (number | null)[];
  /**
   * With `--before`: a process of the previous build in the same turns, its median over them
   * against the bare route, and this build's processes over it (the median over the turns of
   * their median turn against its turn).
   */
  beforeOverBare?: number | null;
  publishOverBefore?: number | null;
  /** Of a publish with the few streams open, each message delivered to one. */
  publishUsPerRequest: number | null;
  deliveredOverBare: number | null;
  /** Of a publish, with the many streams open. */
  manyStreamsUsPerRequest: number | null;
  /**
   * Many over few, each as the median over its turns of the publish over the bare route's turn
   * just before (the box's speed drifts between the two).
   */
  manyOverFew: number | null;
  /**
   * Batches with no stream open: messages per second, and server CPU per message (µs); the
   * median over the turns (one measurement in results from before them).
   */
  batchMessagesPerSecond: number;
  /** Messages per second in each turn of batches with no stream open; absent before them. */
  batchMessagesPerSecondTurns?: number[];
  batchUsPerMessage: number | null;
  /** The same at the many streams, each message delivered to one. */
  deliveredBatchMessagesPerSecond: number;
  deliveredBatchUsPerMessage: number | null;
}

export interface HttpPublishResult extends HttpPublishConfig {
  /** Bytes of each message's data, about. */
  payloadBytes: number;
  /** The Node flags the service ran with (`npm start`'s); absent in results from before them. */
  nodeFlags?: string[];
  /** Each turn at few and at many streams came after one of the bare route (see `manyOverFew`). */
  manyAgainstBare?: boolean;
  modes: HttpPublishMode[];
  /** Why the step did not complete. */
  problem: string | null;
}

/** The steering step on one mode (see `steering-step.ts`): medians over its turns. */
export interface SteeringMode {
  mode: Mode | 'cluster';
  /** Server CPU per change of one client's topics (µs) in each turn, at the few streams and at the many. */
  fewUs: number[];
  manyUs: number[];
  /** Their medians, and the median over the turns of many / few. */
  fewUsPerChange: number | null;
  manyUsPerChange: number | null;
  manyOverFew: number | null;
  /** From the request to the last of the client's streams having its `topics` event (p50, ms). */
  fewP50Ms: number | null;
  manyP50Ms: number | null;
  /** Changes of the many clients' topics, concurrent requests: per second, and CPU each (µs). */
  changesPerSecond: number;
  throughputUsPerChange: number | null;
}

export interface SteeringResult extends SteeringConfig {
  modes: SteeringMode[];
  /** Why the step did not complete. */
  problem: string | null;
}

export interface BenchResult {
  meta: {
    startedAt: string;
    finishedAt: string;
    durationS: number;
    command: string;
    smoke: boolean;
    git: { commit: string; dirty: boolean };
    machine: Record<string, string | number>;
    placement: string;
    config: unknown;
    /** The previous build the `-before` systems ran (`--before DIR`), when given. */
    before?: { dist: string; git: { commit: string; dirty: boolean } };
  };
  /** Absent from runs made before the step existed, and with `--only systems`. */
  publish?: PublishThroughput;
  /** Absent from runs made before the step existed, and with `--only systems`. */
  httpPublish?: HttpPublishResult;
  /** Absent from runs made before the step existed, and with `--only systems` or `publish`. */
  steering?: SteeringResult;
  runs: RunResult[];
  /** Absent from results of before it existed, and when not run. */
  resumeStorm?: ResumeStormResult | null;
  /** The Redis Cluster steps (absent from runs before they existed, or with --no-cluster). */
  cluster?: ClusterBenchResult;
  /** The browser client's download size (absent from runs before it existed). */
  clientSize?: ClientSize;
  /** This build against the previous one, with `--before` (`report-before.ts`). */
  beforeAfter?: BeforeAfter[];
}

/** A figure of a system from this build and from the previous one, median over the rounds. */
export interface BeforeAfter {
  /** This build's system; the previous build's is the one whose `beforeOf` it is. */
  system: SystemId;
  mode: Mode;
  metric: string;
  unit: string;
  after: number | null;
  before: number | null;
  /** After over before: above 1, the new build takes more. */
  ratio: number | null;
}
