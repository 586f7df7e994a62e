import type { ClusterBenchResult } from '../cluster/results.js';
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
  };
  runs: RunResult[];
  /** The Redis Cluster steps (absent from runs before they existed, or with --no-cluster). */
  cluster?: ClusterBenchResult;
}
