import { spawn } from 'node:child_process';
import { compiled } from '../lib/paths.js';
import type { PublishThroughput } from '../lib/results.js';
import type { BenchConfig } from '../lib/scenarios.js';
import { startRedis } from '../lib/servers.js';
import { median, round } from '../lib/stats.js';
import type { PublishChildReport, PublishChildSettings } from './publish-settings.js';

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
    ratio: null,
    messagesPerScriptCall: null,
    problem: null,
  };
  const redis = await startRedis(cfg.cpuLoad);
  try {
    const settings: PublishChildSettings = {
      redisUrl: redis.url,
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
    result.xaddPerSecond = report.xaddPerSecond.map((v) => Math.round(v));
    result.publishPerSecond = report.publishPerSecond.map((v) => Math.round(v));
    // Each turn against the XADDs measured just before it: the load of a shared box drifts.
    result.ratio = round(
      median(report.publishPerSecond.map((perSecond, i) => perSecond / report.xaddPerSecond[i])),
      3,
    );
    result.messagesPerScriptCall = round(report.scriptCalls && (n * reps) / report.scriptCalls, 1);
  } catch (err) {
    result.problem = (err as Error).message;
  } finally {
    await redis.stop();
  }
  return result;
}
