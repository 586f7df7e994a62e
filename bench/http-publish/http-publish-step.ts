import { LoadGen } from '../loadgen/loadgen.js';
import { compiled } from '../lib/paths.js';
import type { HttpPublishMode, HttpPublishResult } from '../lib/results.js';
import { runNode } from '../lib/run-node.js';
import type { BenchConfig } from '../lib/scenarios.js';
import {
  type RedisProcess,
  type ServerProcess,
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
  let redis: RedisProcess | undefined;
  let server: ServerProcess | undefined;
  let gen: LoadGen | undefined;
  try {
    redis = mode === 'redis' ? await startRedis(cfg.cpuLoad) : undefined;
    server = await startSystem('sse-bus', 0, redis?.url, cfg.cpuServers, { LOG_LEVEL: 'info' });
    gen = await LoadGen.start(2, cfg.cpuLoad, { path: '/sse/msg', openOnHeaders: false });
    const open = async (from: number, to: number) => {
      const specs = Array.from({ length: to - from }, (_, i) => ({
        idx: from + i,
        port: server!.port,
        kind: 'sink' as const,
      }));
      const opened = await gen!.open(specs, 64);
      if (opened.failed > 0) throw new Error(`${opened.failed} streams did not open`);
    };
    const load = (port: number, pid: number, way: Way) =>
      runLoad(cfg, { ...way, port, serverPid: pid, concurrency: step.concurrency });
    const single = (clients: number): Way => ({
      requests: step.requests,
      warmup: step.warmup,
      batch: 1,
      clients,
    });
    // No stream open first: the HTTP path alone, as the bare route has nothing to deliver.
    const bareUs: number[] = [];
    const noneUs: number[] = [];
    for (let rep = 0; rep < step.reps; rep++) {
      bareUs.push((await load(bare.port, bare.pid, single(few))).serverCpuUsPerRequest);
      noneUs.push((await load(server.port, server.pid, single(few))).serverCpuUsPerRequest);
    }
    const batchOf = (clients: number) =>
      load(server!.port, server!.pid, {
        requests: step.batchRequests,
        warmup: Math.ceil(step.batchRequests / 10),
        batch: step.batch,
        clients,
      });
    const alone = await batchOf(few);
    await open(0, few);
    const fewUs: number[] = [];
    for (let rep = 0; rep < step.reps; rep++) {
      fewUs.push((await load(server.port, server.pid, single(few))).serverCpuUsPerRequest);
    }
    await open(few, many);
    const manyUs: number[] = [];
    for (let rep = 0; rep < step.reps; rep++) {
      manyUs.push((await load(server.port, server.pid, single(many))).serverCpuUsPerRequest);
    }
    const delivered = await batchOf(many);
    const measured: HttpPublishMode = {
      mode,
      bareUsPerRequest: round(median(bareUs), 1),
      noStreamUsPerRequest: round(median(noneUs), 1),
      publishOverBare: round(median(noneUs.map((us, i) => us / bareUs[i])), 2),
      publishUsPerRequest: round(median(fewUs), 1),
      deliveredOverBare: round(median(fewUs)! / median(bareUs)!, 2),
      manyStreamsUsPerRequest: round(median(manyUs), 1),
      manyOverFew: round(median(manyUs)! / median(fewUs)!, 2),
      batchMessagesPerSecond: Math.round(alone.messagesPerSecond),
      batchUsPerMessage: round(alone.serverCpuUsPerMessage, 2),
      deliveredBatchMessagesPerSecond: Math.round(delivered.messagesPerSecond),
      deliveredBatchUsPerMessage: round(delivered.serverCpuUsPerMessage, 2),
    };
    log(
      `  ${mode}: server CPU µs/request: bare Fastify ${measured.bareUsPerRequest}, publish ${measured.noStreamUsPerRequest} ` +
        `(${measured.publishOverBare}x) to nobody, ${measured.publishUsPerRequest} (${measured.deliveredOverBare}x) at ${few} streams, ${measured.manyStreamsUsPerRequest} at ${many} (${measured.manyOverFew}x); ` +
        `batches of ${step.batch}: ${measured.batchMessagesPerSecond} msg/s, ${measured.batchUsPerMessage} µs/msg to nobody; ` +
        `${measured.deliveredBatchMessagesPerSecond} msg/s, ${measured.deliveredBatchUsPerMessage} µs/msg at ${many} streams`,
    );
    return measured;
  } finally {
    await gen?.stop();
    await server?.stop();
    await redis?.stop();
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
