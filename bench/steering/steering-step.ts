import { runLoad } from '../http-publish/http-publish-step.js';
import { LoadGen } from '../loadgen/loadgen.js';
import { compiled } from '../lib/paths.js';
import type { SteeringMode, SteeringResult } from '../lib/results.js';
import { runNode } from '../lib/run-node.js';
import type { BenchConfig } from '../lib/scenarios.js';
import { type RedisProcess, type ServerProcess, startRedis, startSystem } from '../lib/servers.js';
import { type RedisCluster, startRedisCluster } from '../../test/support/redis-cluster.js';
import { median, round } from '../lib/stats.js';
import type { SteerOneReport, SteerOneSettings } from './steering-settings.js';

/** The client whose topics change: no stream of the load generator has its id. */
const STEERED = 'steered';

/**
 * Server CPU per change of one client's topics (`POST /sse/clients/:clientId/topics`, a join,
 * then a leave, each waited for on every stream of the client) at a few open streams and at many,
 * each stream of a client of its own: a change is to touch its client's streams only. Two
 * servers, one with each number of streams, pinned where the servers under test go, measured in
 * turns, so that both see the machine in the same state; the load from a process of its own
 * where the load goes. Then the changes per second one instance takes from many clients at once
 * (`concurrency` requests in flight, each client joining a topic, then leaving it), at the many
 * streams. On the embedded bus, on Redis (each server with a `redis-server` of its own), and on a
 * Redis Cluster (3 masters, a replica each; both servers on it, each under a key prefix of its
 * own), where a change also takes its client's lock and marks the topic's shard.
 */
export async function runSteeringStep(
  cfg: BenchConfig,
  log: (line: string) => void,
): Promise<SteeringResult> {
  const result: SteeringResult = { ...cfg.steering, modes: [], problem: null };
  try {
    for (const mode of ['embedded', 'redis', 'cluster'] as const) {
      result.modes.push(await measureMode(cfg, mode, log));
    }
  } catch (err) {
    result.problem = (err as Error).message;
  }
  return result;
}

async function measureMode(
  cfg: BenchConfig,
  mode: SteeringMode['mode'],
  log: (line: string) => void,
): Promise<SteeringMode> {
  const step = cfg.steering;
  const [few, many] = step.streams;
  const redises: RedisProcess[] = [];
  const servers: ServerProcess[] = [];
  let cluster: RedisCluster | undefined;
  let gen: LoadGen | undefined;
  try {
    if (mode === 'cluster') cluster = await startRedisCluster(3);
    for (let i = 0; i < 2; i++) {
      const redis = mode === 'redis' ? await startRedis(cfg.cpuLoad) : undefined;
      if (redis) redises.push(redis);
      const url = cluster?.url ?? redis?.url;
      const prefix = { SSE_REDIS_PREFIX: `steering-${i}` };
      servers.push(await startSystem('sse-bus', i, url, cfg.cpuServers, prefix));
    }
    const [small, large] = servers;
    gen = await LoadGen.start(2, cfg.cpuLoad, { path: '/sse/msg', openOnHeaders: false });
    // The large server's streams are c0 … c<many - 1>, whose topics the throughput changes.
    for (const [server, n, from] of [
      [large, many, 0],
      [small, few, many],
    ] as const) {
      const specs = Array.from({ length: n }, (_, i) => ({
        idx: from + i,
        port: server.port,
        kind: 'sink' as const,
      }));
      const opened = await gen.open(specs, 64);
      if (opened.failed > 0) throw new Error(`${opened.failed} streams did not open`);
    }
    const steer = (server: ServerProcess) => steerOne(cfg, server);
    const fewRuns: SteerOneReport[] = [];
    const manyRuns: SteerOneReport[] = [];
    for (let rep = 0; rep < step.reps; rep++) {
      fewRuns.push(await steer(small));
      manyRuns.push(await steer(large));
    }
    const throughput = await runLoad(cfg, {
      route: 'topics',
      port: large.port,
      serverPid: large.pid,
      concurrency: step.concurrency,
      requests: step.requests,
      warmup: step.warmup,
      batch: 1,
      clients: many,
    });
    const each = (runs: SteerOneReport[]) => runs.map((r) => round(r.serverCpuUsPerChange, 1)!);
    const usOf = (runs: SteerOneReport[]) => median(runs.map((r) => r.serverCpuUsPerChange));
    const msOf = (runs: SteerOneReport[]) => median(runs.map((r) => r.p50Ms));
    const measured: SteeringMode = {
      mode,
      fewUs: each(fewRuns),
      manyUs: each(manyRuns),
      fewUsPerChange: round(usOf(fewRuns), 1),
      manyUsPerChange: round(usOf(manyRuns), 1),
      // Each turn against the one just before it: what drifts over the step cancels out.
      manyOverFew: round(
        median(manyRuns.map((r, i) => r.serverCpuUsPerChange / fewRuns[i].serverCpuUsPerChange)),
        2,
      ),
      fewP50Ms: round(msOf(fewRuns), 2),
      manyP50Ms: round(msOf(manyRuns), 2),
      changesPerSecond: Math.round(throughput.messagesPerSecond),
      throughputUsPerChange: round(throughput.serverCpuUsPerMessage, 1),
    };
    log(
      `  ${mode}: server CPU µs per change of one client's topics: ${measured.fewUsPerChange} (${measured.fewUs.join(', ')}) at ${few} streams, ` +
        `${measured.manyUsPerChange} (${measured.manyUs.join(', ')}) at ${many} (${measured.manyOverFew}x); p50 ${measured.fewP50Ms} / ${measured.manyP50Ms} ms to reach its streams; ` +
        `${measured.changesPerSecond} changes/s of many clients, ${measured.throughputUsPerChange} µs each`,
    );
    return measured;
  } finally {
    await gen?.stop();
    for (const server of servers) await server.stop();
    for (const redis of redises) await redis.stop();
    await cluster?.stop();
  }
}

async function steerOne(cfg: BenchConfig, server: ServerProcess): Promise<SteerOneReport> {
  const { clientStreams, pairs, warmupPairs } = cfg.steering;
  const settings: SteerOneSettings = {
    port: server.port,
    serverPid: server.pid,
    clientId: STEERED,
    streams: clientStreams,
    pairs,
    warmupPairs,
    topic: 'room',
  };
  const output = await runNode(
    compiled('steering/steer-one.js'),
    JSON.stringify(settings),
    cfg.cpuLoad,
  );
  return JSON.parse(output.trim().split('\n').at(-1)!) as SteerOneReport;
}
