import { compiled, startFlags } from '../lib/paths.js';
import { runNode } from '../lib/run-node.js';
import type { PublishThroughput } from '../lib/results.js';
import type { BenchConfig } from '../lib/scenarios.js';
import { startRedis } from '../lib/servers.js';
import { median, round } from '../lib/stats.js';
import type { PublishChildReport, PublishChildSettings, Turn } from './publish-settings.js';

/**
 * Publish throughput on one node: `MessageBus.publish()` and `publishMany()` against pipelined
 * ioredis `XADD`, in
 * one process (pinned where the servers under test go) on a redis-server of its own (where the
 * load goes), measured in turns.
 */
export async function runPublishStep(cfg: BenchConfig): Promise<PublishThroughput> {
  const { n, warmup, reps, inFlight } = cfg.publish;
  const result: PublishThroughput = {
    n,
    reps,
    inFlight,
    payloadBytes: cfg.payloadBytes,
    xaddPerSecond: [],
    publishPerSecond: [],
    batch: cfg.publish.batch,
    publishManyPerSecond: [],
    cpuUs: {
      xadd: { node: null, redis: null },
      publish: { node: null, redis: null },
      publishMany: { node: null, redis: null },
    },
    ratio: null,
    manyRatio: null,
    messagesPerScriptCall: null,
    problem: null,
  };
  const redis = await startRedis(cfg.cpuLoad);
  try {
    const settings: PublishChildSettings = {
      redisUrl: redis.url,
      redisPid: redis.pid,
      n,
      warmup,
      reps,
      inFlight,
      payloadBytes: cfg.payloadBytes,
      batch: cfg.publish.batch,
    };
    const output = await runNode(
      compiled('publish/publish-child.js'),
      JSON.stringify(settings),
      cfg.cpuServers,
      // An app that publishes at these rates, run as README advises (and as the service is).
      startFlags(),
    );
    const report = JSON.parse(output.trim().split('\n').at(-1)!) as PublishChildReport;
    const { xadd, publish, publishMany } = report;
    const perSecond = (turns: Turn[]) => turns.map((turn) => Math.round(turn.perSecond));
    result.xaddPerSecond = perSecond(xadd);
    result.publishPerSecond = perSecond(publish);
    result.publishManyPerSecond = perSecond(publishMany);
    const cpuOf = (turns: Turn[]) => ({
      node: round(median(turns.map((turn) => turn.nodeCpuUs)), 2),
      redis: round(median(turns.map((turn) => turn.redisCpuUs)), 2),
    });
    result.cpuUs = { xadd: cpuOf(xadd), publish: cpuOf(publish), publishMany: cpuOf(publishMany) };
    // Each turn against the XADDs measured just before it: the load of a shared box drifts.
    const overXadd = (turns: Turn[]) =>
      round(median(turns.map((turn, i) => turn.perSecond / xadd[i].perSecond)), 3);
    result.ratio = overXadd(publish);
    result.manyRatio = overXadd(publishMany);
    result.messagesPerScriptCall = round(report.scriptCalls && (n * reps) / report.scriptCalls, 1);
  } catch (err) {
    result.problem = (err as Error).message;
  } finally {
    await redis.stop();
  }
  return result;
}
