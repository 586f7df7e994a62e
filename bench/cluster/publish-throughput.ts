import { fork } from 'node:child_process';
import { loadavg } from 'node:os';
import { compiled } from '../lib/paths.js';
import { cpuMs, sum } from '../lib/proc.js';
import { median, ratio, round } from '../lib/stats.js';
import type { PublishJob, PublishOutcome } from './publish-child.js';
import type { ThroughputResult, ThroughputRun } from './results.js';

export interface ThroughputConfig {
  /** Times the targets are run, every other round in reverse order: the machine is shared. */
  rounds: number;
  messages: number;
  warmup: number;
  inFlight: number;
  dataBytes: number;
  clients: number;
}

export interface PublishTarget {
  label: string;
  redis: ThroughputRun['redis'];
  redisUrl: string;
  /** The redis-server processes whose CPU the publishes cost. */
  redisPids: () => number[];
  shards: number | null;
  waitReplicas: number;
  /** One at a time instead of the config's: what a publish costs without a queue. */
  alone?: { messages: number };
}

type ChildMessage =
  { phase: 'measuring' | 'measured' } | { ok: boolean; outcome?: PublishOutcome; error?: string };

/** Runs `job` in a child; `mark` is called as its measured publishes start and end. */
function publishInChild(
  job: PublishJob,
  mark: (phase: 'measuring' | 'measured') => void,
): Promise<PublishOutcome> {
  const child = fork(compiled('cluster/publish-child.js'), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.on('message', (message: ChildMessage) => {
      if ('phase' in message) mark(message.phase);
      else if (message.ok) resolve(message.outcome!);
      else reject(new Error(message.error));
    });
    child.once('exit', (code) => reject(new Error(`publish child exited (${code})`)));
    child.send(job);
  });
}

/**
 * Step "cluster publish throughput": `MessageBus.publish()` in a process of its own, a fixed
 * number in flight, targeted to random client ids, on each target in turn.
 */
export async function runThroughput(
  targets: PublishTarget[],
  cfg: ThroughputConfig,
  log: (line: string) => void,
): Promise<ThroughputResult> {
  const runs: ThroughputRun[] = [];
  for (let roundNo = 1; roundNo <= cfg.rounds; roundNo++) {
    const order = roundNo % 2 ? targets : [...targets].reverse();
    for (const target of order) runs.push(await publishOn(target, roundNo, cfg, log));
  }
  const loaded = runs.filter((run) => run.inFlight === cfg.inFlight);
  const ratios = [];
  for (let roundNo = 1; roundNo <= cfg.rounds; roundNo++) {
    const inRound = loaded.filter((run) => run.round === roundNo);
    const single = inRound.find((run) => run.redis === 'single-node');
    const cluster = inRound.find((run) => run.redis === 'cluster' && run.waitReplicas === 0);
    ratios.push(ratio(cluster?.perSecond, single?.perSecond) ?? NaN);
  }
  return {
    warmup: cfg.warmup,
    dataBytes: cfg.dataBytes,
    runs,
    clusterOverSingle: round(median(ratios)),
    targetRatio: 2,
  };
}

/** One target, one round: a fresh child publishing on keys of its own. */
async function publishOn(
  target: PublishTarget,
  roundNo: number,
  cfg: ThroughputConfig,
  log: (line: string) => void,
): Promise<ThroughputRun> {
  const redisCpu = { measuring: NaN, measured: NaN };
  const inFlight = target.alone ? 1 : cfg.inFlight;
  const messages = target.alone?.messages ?? cfg.messages;
  const outcome = await publishInChild(
    {
      ...cfg,
      inFlight,
      messages,
      redisUrl: target.redisUrl,
      // Each run its own keys, so that none reads another's log.
      prefix: `bench-throughput-${roundNo}-${target.label.replace(/\W+/g, '-')}-${inFlight}`,
      shards: target.shards ?? 1,
      waitReplicas: target.waitReplicas,
    },
    (phase) => (redisCpu[phase] = sum(target.redisPids(), cpuMs)),
  );
  const run: ThroughputRun = {
    label: target.label,
    round: roundNo,
    redis: target.redis,
    shards: target.shards,
    waitReplicas: target.waitReplicas,
    inFlight,
    messages,
    failed: outcome.failed,
    elapsedMs: Math.round(outcome.elapsedMs),
    perSecond: Math.round((messages / outcome.elapsedMs) * 1000),
    latency: outcome.latency,
    nodeCpuMs: Math.round(outcome.cpuMs),
    redisCpuMs: Math.round(redisCpu.measured - redisCpu.measuring),
    loadAverage: loadavg()[0],
  };
  log(
    `throughput / ${run.label}, ${inFlight} in flight, round ${roundNo}: ${run.perSecond} msg/s, p50 ${run.latency.p50} ms, ` +
      `p99 ${run.latency.p99} ms, node CPU ${run.nodeCpuMs} ms, redis CPU ${run.redisCpuMs} ms` +
      (run.failed ? `, ${run.failed} failed: ${outcome.errors.join('; ')}` : ''),
  );
  return run;
}
