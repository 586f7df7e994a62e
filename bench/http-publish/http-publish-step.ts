import { LoadGen } from '../loadgen/loadgen.js';
import { compiled, startFlags } from '../lib/paths.js';
import type { HttpPublishMode, HttpPublishResult } from '../lib/results.js';
import { runNode } from '../lib/run-node.js';
import type { BenchConfig } from '../lib/scenarios.js';
import {
  type RedisProcess,
  type ServerProcess,
  hasBeforeBuild,
  startNode,
  startRedis,
  startSystem,
} from '../lib/servers.js';
import { median, round } from '../lib/stats.js';
import type { HttpLoadReport, HttpLoadSettings } from './http-load-settings.js';

type Way = Pick<HttpLoadSettings, 'requests' | 'warmup' | 'batch' | 'clients'>;

/**
 * Server CPU per `POST /sse/publish` of the service as it runs by default (`LOG_LEVEL=info`),
 * against a bare Fastify route that parses the same body and answers 202, in turns, both pinned
 * where the servers under test go; the load (keep-alive connections, one request in flight on
 * each, targeted messages) from a process of its own where the load goes. First with no stream
 * open (the HTTP path alone: the bare route delivers nothing either), then with a few open (each
 * message delivered), then with many more; batches at none and at many. On the embedded bus and
 * on Redis.
 */
export async function runHttpPublishStep(
  cfg: BenchConfig,
  log: (line: string) => void,
): Promise<HttpPublishResult> {
  const { httpPublish: step } = cfg;
  const result: HttpPublishResult = {
    ...step,
    payloadBytes: cfg.payloadBytes,
    nodeFlags: startFlags(),
    manyAgainstBare: true,
    modes: [],
    problem: null,
  };
  let bare: ServerProcess | undefined;
  try {
    bare = await startNode(
      'bare-fastify',
      compiled('baselines/bare-fastify-publish.js'),
      {},
      cfg.cpuServers,
    );
    for (const mode of ['embedded', 'redis'] as const) {
      result.modes.push(await measureMode(cfg, mode, bare, log));
    }
  } catch (err) {
    result.problem = (err as Error).message;
  } finally {
    await bare?.stop();
  }
  return result;
}

async function measureMode(
  cfg: BenchConfig,
  mode: 'embedded' | 'redis',
  bare: ServerProcess,
  log: (line: string) => void,
): Promise<HttpPublishMode> {
  const { httpPublish: step } = cfg;
  const [few, many] = step.streams;
  const redises: RedisProcess[] = [];
  const servers: ServerProcess[] = [];
  let gen: LoadGen | undefined;
  try {
    // Several processes of the same build: one process's figure can sit 20% off another's. With
    // `--before`, one of the previous build's last, in the same turns: a change is judged against
    // it on the box as it is then.
    const systems = Array.from({ length: step.processes }, () => 'sse-bus' as const);
    const before = hasBeforeBuild();
    for (const [i, system] of [
      ...systems,
      ...(before ? ['sse-bus-before' as const] : []),
    ].entries()) {
      const redis = mode === 'redis' ? await startRedis(cfg.cpuLoad) : undefined;
      if (redis) redises.push(redis);
      servers.push(await startSystem(system, i, redis?.url, cfg.cpuServers, { LOG_LEVEL: 'info' }));
    }
    const server = servers[0];
    const load = (to: ServerProcess, way: Way) =>
      runLoad(cfg, { ...way, port: to.port, serverPid: to.pid, concurrency: step.concurrency });
    const single = (clients: number): Way => ({
      requests: step.requests,
      warmup: step.warmup,
      batch: 1,
      clients,
    });
    // Each turn after one of the bare route, which measures how fast the box is then: the many
    // streams come minutes after the few, and a shared box's speed drifts by more than 20%.
    const turns = async (clients: number) => {
      const us: number[] = [];
      const overBareTurn: number[] = [];
      for (let rep = 0; rep < step.reps; rep++) {
        const bareTurn = (await load(bare, single(clients))).serverCpuUsPerRequest;
        us.push((await load(server, single(clients))).serverCpuUsPerRequest);
        overBareTurn.push(us[rep] / bareTurn);
      }
      return { us, overBare: median(overBareTurn)! };
    };
    // No stream open first: the HTTP path alone, as the bare route has nothing to deliver. Each
    // turn the bare route, then every process in an order that rotates.
    const bareUs: number[] = [];
    const noneUs = servers.map((): number[] => []);
    const overBare = servers.map((): number[] => []);
    for (let rep = 0; rep < step.reps; rep++) {
      const bareTurn = (await load(bare, single(few))).serverCpuUsPerRequest;
      bareUs.push(bareTurn);
      for (let k = 0; k < servers.length; k++) {
        const i = (rep + k) % servers.length;
        const us = (await load(servers[i], single(few))).serverCpuUsPerRequest;
        noneUs[i].push(us);
        overBare[i].push(us / bareTurn);
      }
    }
    const beforeUs = before ? noneUs.pop()! : undefined;
    const beforeRatios = before ? overBare.pop()! : undefined;
    // The rest on the first process alone.
    for (const other of servers.splice(1)) await other.stop();
    for (const redis of redises.splice(1)) await redis.stop();
    // One measurement of batches moved by half between two runs on one box: the median of as
    // many turns as the single publishes take.
    const batchOf = async (clients: number) => {
      const turns: HttpLoadReport[] = [];
      for (let rep = 0; rep < step.reps; rep++) {
        turns.push(
          await load(server, {
            requests: step.batchRequests,
            warmup: Math.ceil(step.batchRequests / 10),
            batch: step.batch,
            clients,
          }),
        );
      }
      return {
        messagesPerSecond: median(turns.map((turn) => turn.messagesPerSecond))!,
        serverCpuUsPerMessage: median(turns.map((turn) => turn.serverCpuUsPerMessage))!,
        turns: turns.map((turn) => Math.round(turn.messagesPerSecond)),
      };
    };
    const alone = await batchOf(few);
    gen = await LoadGen.start(2, cfg.cpuLoad, { path: '/sse/msg', openOnHeaders: false });
    const open = async (from: number, to: number) => {
      const specs = Array.from({ length: to - from }, (_, i) => ({
        idx: from + i,
        port: server.port,
        kind: 'sink' as const,
      }));
      const opened = await gen!.open(specs, 64);
      if (opened.failed > 0) throw new Error(`${opened.failed} streams did not open`);
    };
    await open(0, few);
    const { us: fewUs, overBare: fewOverBare } = await turns(few);
    await open(few, many);
    const { us: manyUs, overBare: manyOverBare } = await turns(many);
    const delivered = await batchOf(many);
    const byProcess = overBare.map((ratios) => round(median(ratios), 2));
    const measured: HttpPublishMode = {
      mode,
      bareUsPerRequest: round(median(bareUs), 1),
      noStreamUsPerRequest: round(median(noneUs.flat()), 1),
      publishOverBare: round(median(overBare.map((ratios) => median(ratios)!)), 2),
      publishOverBareByProcess: byProcess,
      ...(beforeUs && {
        beforeOverBare: round(median(beforeRatios!), 2),
        publishOverBefore: round(
          median(beforeUs.map((us, rep) => median(noneUs.map((each) => each[rep]))! / us)),
          2,
        ),
      }),
      publishUsPerRequest: round(median(fewUs), 1),
      deliveredOverBare: round(median(fewUs)! / median(bareUs)!, 2),
      manyStreamsUsPerRequest: round(median(manyUs), 1),
      manyOverFew: round(manyOverBare / fewOverBare, 2),
      batchMessagesPerSecond: Math.round(alone.messagesPerSecond),
      batchMessagesPerSecondTurns: alone.turns,
      batchUsPerMessage: round(alone.serverCpuUsPerMessage, 2),
      deliveredBatchMessagesPerSecond: Math.round(delivered.messagesPerSecond),
      deliveredBatchUsPerMessage: round(delivered.serverCpuUsPerMessage, 2),
    };
    log(
      `  ${mode}: server CPU µs/request: bare Fastify ${measured.bareUsPerRequest}, publish ${measured.noStreamUsPerRequest} ` +
        `(${measured.publishOverBare}x; by process ${byProcess.join('x, ')}x${beforeUs ? `; the previous build ${measured.beforeOverBare}x, this one over it ${measured.publishOverBefore}x` : ''}) to nobody, ${measured.publishUsPerRequest} (${measured.deliveredOverBare}x) at ${few} streams, ${measured.manyStreamsUsPerRequest} at ${many} (${measured.manyOverFew}x); ` +
        `batches of ${step.batch}: ${measured.batchMessagesPerSecond} msg/s (turns ${alone.turns.join(', ')}), ${measured.batchUsPerMessage} µs/msg to nobody; ` +
        `${measured.deliveredBatchMessagesPerSecond} msg/s, ${measured.deliveredBatchUsPerMessage} µs/msg at ${many} streams`,
    );
    return measured;
  } finally {
    await gen?.stop();
    for (const server of servers) await server.stop();
    for (const redis of redises) await redis.stop();
  }
}

/** Runs the HTTP load process with `settings` where the load goes; throws if a request failed. */
export async function runLoad(
  cfg: BenchConfig,
  settings: Omit<HttpLoadSettings, 'payloadBytes'>,
): Promise<HttpLoadReport> {
  const full = { ...settings, payloadBytes: cfg.payloadBytes };
  const output = await runNode(
    compiled('http-publish/http-load.js'),
    JSON.stringify(full),
    cfg.cpuLoad,
  );
  const report = JSON.parse(output.trim().split('\n').at(-1)!) as HttpLoadReport;
  if (report.failed > 0) throw new Error(`${report.failed} of ${report.requests} publishes failed`);
  return report;
}
