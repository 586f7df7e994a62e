import { spawn } from 'node:child_process';
import { compiled } from '../lib/paths.js';
import type { PublishThroughput } from '../lib/results.js';
import type { BenchConfig } from '../lib/scenarios.js';
import { startRedis } from '../lib/servers.js';
import { median, round } from '../lib/stats.js';
import type { PublishChildReport, PublishChildSettings, Turn } from './publish-settings.js';

/** Runs `node <script> <argument>` (pinned to `cpu`) to its end; resolves to what it printed. */
function runNode(script: string, argument: string, cpu: string | undefined): Promise<string> {
  const args = [script, argument];
  const child = cpu
    ? spawn('taskset', ['-c', cpu, process.execPath, ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
      })
    : spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) =>
    child.once('exit', (code, signal) =>
      code === 0
        ? resolve(stdout)
        : reject(new Error(`exited (${code ?? signal}): ${stderr.slice(-2000)}`)),
    ),
  );
}

/**
 * Publish throughput on one node: `MessageBus.publish()` against pipelined ioredis `XADD`, in
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
    cpuUs: { xadd: { node: null, redis: null }, publish: { node: null, redis: null } },
    ratio: null,
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
    };
    const output = await runNode(
      compiled('publish/publish-child.js'),
      JSON.stringify(settings),
      cfg.cpuServers,
    );
    const report = JSON.parse(output.trim().split('\n').at(-1)!) as PublishChildReport;
    const { xadd, publish } = report;
    result.xaddPerSecond = xadd.map((turn) => Math.round(turn.perSecond));
    result.publishPerSecond = publish.map((turn) => Math.round(turn.perSecond));
    const cpuOf = (turns: Turn[]) => ({
      node: round(median(turns.map((turn) => turn.nodeCpuUs)), 2),
      redis: round(median(turns.map((turn) => turn.redisCpuUs)), 2),
    });
    result.cpuUs = { xadd: cpuOf(xadd), publish: cpuOf(publish) };
    // Each turn against the XADDs measured just before it: the load of a shared box drifts.
    result.ratio = round(median(publish.map((turn, i) => turn.perSecond / xadd[i].perSecond)), 3);
    result.messagesPerScriptCall = round(report.scriptCalls && (n * reps) / report.scriptCalls, 1);
  } catch (err) {
    result.problem = (err as Error).message;
  } finally {
    await redis.stop();
  }
  return result;
}
