/**
 * sse-bus benchmark: `npm run bench` (full suite, ~1.5 h) or `npm run bench -- --smoke` (~3 min).
 *
 * Options:
 *   --smoke                ~2k connections, a few broadcasts and targeted messages, every system
 *                          (~3 min)
 *   --rounds N             run every system/mode N times (full: 1)
 *   --systems a,b          only these systems (sse-bus, sse-bus-own, nest-floor, bare-http,
 *                          better-sse, naive-nest)
 *   --modes embedded,redis only these modes
 *   --levels a,b           these idle levels (connections) in every mode; the broadcast and
 *                          targeted steps and the storm run at 10,000
 *   --only publish|steering|systems
 *                          only the publish steps (MessageBus.publish() and publishMany()
 *                          against pipelined XADD; POST /sse/publish against a bare Fastify
 *                          route, at few and many streams, and in batches; ~6 min), only the
 *                          steering step (server CPU per change of one client's topics at 100
 *                          and 10,000 open streams, and changes/s of many clients; ~4 min): the
 *                          JSON of either goes to a temporary file unless --out, and the docs
 *                          are left alone; or only the systems
 *   --out FILE             where the JSON goes (full: bench/results/<timestamp>.json;
 *                          smoke: a temporary file)
 *   --no-docs              do not rewrite docs/benchmarks.md and docs/benchmarks.svg
 *   --no-pin               do not pin servers to CPU 0 and the load to CPU 1
 *   --resume-storm-only    only the reconnect storm with resume (3 instances through Redis, one
 *                          SIGKILLed under its clients; full: 10,000 clients, smoke: 1,000)
 *   --no-cluster           skip the Redis Cluster steps (interest, cluster publish throughput)
 *   --cluster-only         only the Redis Cluster steps (docs: add its results with --report)
 *   --report FILE [MORE]   only regenerate the docs from a results file; each MORE (a focused
 *                          run, e.g. of sse-bus,sse-bus-own,nest-floor) adds its own section
 *   --before DIR           also run sse-bus and sse-bus-own from the build in DIR/dist (a built
 *                          checkout of an earlier commit), each right after this build's, as
 *                          `… (before)` systems; the log, the JSON (beforeAfter) and the docs
 *                          give after/before of heap and RSS per idle connection and CPU per frame;
 *                          the HTTP publish step runs one process of it in its turns too
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, relative } from 'node:path';
import { ROOT } from './lib/paths.js';
import { runHttpPublishStep } from './http-publish/http-publish-step.js';
import { runPublishStep } from './publish/publish-step.js';
import { runSteeringStep } from './steering/steering-step.js';
import { readText } from './lib/proc.js';
import { brokenClusterChecks } from './cluster/cluster-checks.js';
import { clientSizeLine, measureClientSize } from './lib/client-size.js';
import { clusterStepsConfig, runClusterSteps } from './cluster/cluster-steps.js';
import { writeReport } from './lib/report.js';
import { beforeAfter, beforeAfterLine, hasBefore } from './lib/report-before.js';
import type { BenchResult, Mode, RunResult } from './lib/results.js';
import { runResumeStorm } from './lib/resume-storm.js';
import { type BenchConfig, runSystem } from './lib/scenarios.js';
import { SYSTEMS, type SystemId, useBeforeBuild } from './lib/servers.js';

const KNOWN = Object.keys(SYSTEMS) as SystemId[];
/** Every system but the previous build's, which only `--before` adds. */
const ALL_SYSTEMS = KNOWN.filter((system) => !SYSTEMS[system].beforeOf);

function option(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}
const flag = (name: string) => process.argv.includes(name);

/** The values after `name`, up to the next option. */
function optionList(name: string): string[] {
  const at = process.argv.indexOf(name);
  if (at < 0) return [];
  const rest = process.argv.slice(at + 1);
  const end = rest.findIndex((arg) => arg.startsWith('--'));
  return end < 0 ? rest : rest.slice(0, end);
}

function config(smoke: boolean): BenchConfig {
  const pinned = !flag('--no-pin') && cpus().length >= 2;
  const systems = (option('--systems')?.split(',') as SystemId[] | undefined) ?? ALL_SYSTEMS;
  const modes = (option('--modes')?.split(',') as Mode[] | undefined) ?? ['embedded', 'redis'];
  for (const system of systems) {
    if (!ALL_SYSTEMS.includes(system)) throw new Error(`Unknown system ${system}`);
  }
  // `--before DIR`: a system the previous build has runs from it too, right after this build's.
  const twins = (system: SystemId) =>
    option('--before') ? KNOWN.filter((id) => SYSTEMS[id].beforeOf === system) : [];
  const configs = modes.flatMap((mode) =>
    systems
      // The smoke run takes the Redis path with sse-bus only (naive-nest always uses Redis).
      .filter((system) => !(smoke && mode === 'redis' && system !== 'sse-bus'))
      .flatMap((system) => [system, ...twins(system)])
      .map((system) => ({ system, mode })),
  );
  const common = {
    smoke,
    rounds: Number(option('--rounds') ?? 1),
    configs,
    smallN: 100,
    smallProbeEvery: 5,
    probeEvery: 50,
    payloadBytes: 100,
    cpuServers: pinned ? '0' : undefined,
    cpuLoad: pinned ? '1' : undefined,
  };
  if (smoke) {
    return {
      ...common,
      levels: { embedded: [1000, 2000], redis: [1000, 2000] },
      targetedRates: [200, 1000],
      // Short steps: the smoke run checks that every system works, and has six of them.
      targetedSeconds: 1,
      mainN: 2000,
      broadcastSteps: [
        { rate: 1, seconds: 3 },
        { rate: 10, seconds: 2 },
      ],
      pointMessages: 2,
      stalled: null,
      storm: { inFlightPerWorker: 256 },
      publish: { n: 20_000, warmup: 5_000, reps: 2, inFlight: 256, batch: 100 },
      httpPublish: {
        requests: 2_000,
        warmup: 500,
        reps: 1,
        processes: 2,
        concurrency: 32,
        streams: [100, 1_000],
        batch: 100,
        batchRequests: 100,
      },
      steering: {
        streams: [10, 200],
        clientStreams: 2,
        pairs: 50,
        warmupPairs: 10,
        reps: 1,
        requests: 400,
        warmup: 100,
        concurrency: 16,
      },
      resumeStorm: { instances: 3, n: 1000, missed: 100, jitterMs: 1000 },
      waitCapMs: 30_000,
      settleMs: 500,
    };
  }
  const levels = option('--levels')?.split(',').map(Number);
  return {
    ...common,
    levels: levels
      ? { embedded: levels, redis: levels }
      : { embedded: [1000, 10_000, 19_000], redis: [1000, 10_000, 19_000, 38_000] },
    targetedRates: [100, 500, 1000, 2000, 3000, 4000, 6000],
    targetedSeconds: 4,
    retryFailedStep: true,
    mainN: 10_000,
    broadcastSteps: [
      { rate: 1, seconds: 10 },
      { rate: 5, seconds: 6 },
      { rate: 10, seconds: 5 },
      { rate: 20, seconds: 4 },
      { rate: 50, seconds: 2 },
    ],
    pointMessages: 5,
    stalled: { n: 1000, share: 0.01, rate: 20, seconds: 15, payloadBytes: 48 * 1024 },
    storm: { inFlightPerWorker: 256 },
    publish: { n: 50_000, warmup: 20_000, reps: 7, inFlight: 256, batch: 100 },
    httpPublish: {
      requests: 20_000,
      warmup: 5_000,
      reps: 5,
      processes: 3,
      concurrency: 32,
      streams: [100, 10_000],
      batch: 100,
      batchRequests: 1_000,
    },
    steering: {
      streams: [100, 10_000],
      clientStreams: 2,
      pairs: 2_000,
      warmupPairs: 500,
      reps: 7,
      requests: 20_000,
      warmup: 5_000,
      concurrency: 32,
    },
    resumeStorm: { instances: 3, n: 10_000, missed: 100, jitterMs: 5000 },
    waitCapMs: 90_000,
    settleMs: 2000,
  };
}

function machine(): Record<string, string | number> {
  const redis = (() => {
    try {
      return execFileSync('redis-server', ['--version']).toString().trim();
    } catch {
      return 'not found';
    }
  })();
  return {
    cpu: cpus()[0]?.model ?? '?',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: readText('/proc/sys/kernel/osrelease'),
    node: process.version,
    redis,
    nofile: execFileSync('sh', ['-c', 'ulimit -n']).toString().trim(),
    tcp_wmem: readText('/proc/sys/net/ipv4/tcp_wmem').replace(/\s+/g, ' '),
    tcp_rmem: readText('/proc/sys/net/ipv4/tcp_rmem').replace(/\s+/g, ' '),
    somaxconn: readText('/proc/sys/net/core/somaxconn'),
  };
}

function git(dir = ROOT): { commit: string; dirty: boolean } {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: dir })
      .toString()
      .trim();
    const status = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: dir })
      .toString()
      .trim();
    return { commit, dirty: status.length > 0 };
  } catch {
    return { commit: '?', dirty: false };
  }
}

/** What makes a smoke run fail: the benchmark is broken, never that something is slow. */
function brokenChecks({
  runs,
  publish,
  httpPublish,
  steering,
  resumeStorm,
}: BenchResult): string[] {
  const broken: string[] = [];
  if (publish?.problem) broken.push(`publish step: ${publish.problem}`);
  if (httpPublish?.problem) broken.push(`HTTP publish step: ${httpPublish.problem}`);
  if (steering?.problem) broken.push(`steering step: ${steering.problem}`);
  if (resumeStorm === null) broken.push('the reconnect storm with resume did not complete');
  // Every problem of this step is a broken guarantee: a failed reconnect, a client short of a
  // message or given one twice.
  for (const problem of resumeStorm?.problems ?? []) broken.push(`resume storm: ${problem}`);
  for (const run of runs) {
    const label = `${run.system}/${run.mode}`;
    if (!run.ok) broken.push(`${label} did not complete: ${run.problems.at(-1)}`);
    if (run.idle.some((p) => p.connect.failed > 0)) broken.push(`${label}: connects failed`);
    if (SYSTEMS[run.system].idleOnly) continue;
    const steps = [...run.broadcast, ...run.latencyByN];
    if (steps.length === 0 || steps.every((s) => s.delivered === 0)) {
      broken.push(`${label}: no broadcast delivered`);
    }
    if (steps.some((s) => s.lost > 0)) broken.push(`${label}: broadcast frames lost`);
    if (run.targeted.length === 0 || run.targeted.every((s) => s.delivered === 0)) {
      broken.push(`${label}: no targeted message delivered`);
    }
    if (run.targeted.some((s) => s.lost > 0)) broken.push(`${label}: targeted messages lost`);
    if (run.storm && run.storm.failed > 0) broken.push(`${label}: reconnects failed in the storm`);
  }
  return broken;
}

async function main(): Promise<void> {
  const reportOnly = optionList('--report');
  if (reportOnly.length > 0) {
    const [main, ...more] = reportOnly.map((file) => ({
      result: JSON.parse(readFileSync(file, 'utf8')) as BenchResult,
      path: relative(ROOT, file),
    }));
    const written = writeReport(main, more);
    console.log(`Wrote ${written.join(', ')}`);
    return;
  }
  const smoke = flag('--smoke');
  const only = option('--only');
  if (only !== undefined && !['publish', 'steering', 'systems'].includes(only)) {
    throw new Error(`--only publish, --only steering or --only systems, not ${only}`);
  }
  /** A step run alone: its JSON goes to a temporary file, and the docs are left alone. */
  const focused = only === 'publish' || only === 'steering';
  const beforeDir = option('--before');
  // Checked before anything runs: a wrong DIR would fail only once its systems' turn came.
  const beforeDist = beforeDir === undefined ? undefined : useBeforeBuild(beforeDir);
  const cfg = config(smoke);
  const started = Date.now();
  const stamp = new Date()
    .toISOString()
    .replace(/[:.]/g, '-')
    .replace(/-\d{3}Z$/, 'Z');
  const out =
    option('--out') ??
    (smoke || focused
      ? join(tmpdir(), `sse-bus-bench-${smoke ? 'smoke' : only}-${stamp}.json`)
      : join(ROOT, 'bench/results', `${stamp}.json`));
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const log = (line: string) =>
    console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);
  log(
    `sse-bus bench (${smoke ? 'smoke' : 'full'}): ${focused ? `the ${only} step only` : `${cfg.configs.length} system/mode pairs x ${cfg.rounds} round(s)`}, ` +
      `${cfg.cpuServers ? `servers on CPU ${cfg.cpuServers}, load on CPU ${cfg.cpuLoad}` : 'unpinned'}`,
  );
  const runs: RunResult[] = [];
  const result: BenchResult = {
    meta: {
      startedAt: new Date(started).toISOString(),
      finishedAt: '',
      durationS: 0,
      command,
      smoke,
      git: git(),
      machine: machine(),
      placement: cfg.cpuServers
        ? `servers under test pinned to CPU ${cfg.cpuServers} (both instances in the Redis mode); load generators, publisher, redis-server and the controller on CPU ${cfg.cpuLoad}`
        : 'nothing pinned',
      config: cfg,
      ...(beforeDist && { before: { dist: beforeDist, git: git(beforeDir) } }),
    },
    runs,
  };
  const save = () => {
    result.meta.finishedAt = new Date().toISOString();
    result.meta.durationS = Math.round((Date.now() - started) / 1000);
    if (hasBefore(result)) result.beforeAfter = beforeAfter(result);
    mkdirSync(join(out, '..'), { recursive: true });
    writeFileSync(out, `${JSON.stringify(result, null, 1)}\n`);
  };
  result.clientSize = await measureClientSize();
  log(clientSizeLine(result.clientSize));
  const resumeStormOnly = flag('--resume-storm-only');
  const clusterOnly = flag('--cluster-only');
  if ((only === undefined || only === 'publish') && !resumeStormOnly && !clusterOnly) {
    log('publish throughput: MessageBus.publish() and publishMany() against pipelined XADD');
    const publish = await runPublishStep(cfg);
    result.publish = publish;
    log(
      publish.problem
        ? `  FAILED: ${publish.problem}`
        : `  XADD ${publish.xaddPerSecond.join(', ')} msg/s; publish() ${publish.publishPerSecond.join(', ')} msg/s; publishMany(${publish.batch}) ${publish.publishManyPerSecond?.join(', ')} msg/s; ` +
            `publish()/XADD ${publish.ratio}, publishMany()/XADD ${publish.manyRatio} (medians over the turns); ${publish.messagesPerScriptCall} messages per script call; ` +
            `CPU µs/msg (process/Redis): XADD ${publish.cpuUs.xadd.node}/${publish.cpuUs.xadd.redis}, publish() ${publish.cpuUs.publish.node}/${publish.cpuUs.publish.redis}, ` +
            `publishMany() ${publish.cpuUs.publishMany?.node}/${publish.cpuUs.publishMany?.redis}`,
    );
    save();
    log(
      'HTTP publish: POST /sse/publish against a bare Fastify route, at few and many streams, in batches',
    );
    result.httpPublish = await runHttpPublishStep(cfg, log);
    if (result.httpPublish.problem) log(`  FAILED: ${result.httpPublish.problem}`);
    save();
  }
  if ((only === undefined || only === 'steering') && !resumeStormOnly && !clusterOnly) {
    log(
      "steering: a change of one client's topics at few and many streams; many clients' changes/s",
    );
    result.steering = await runSteeringStep(cfg, log);
    if (result.steering.problem) log(`  FAILED: ${result.steering.problem}`);
    save();
  }
  const systems = !focused && !resumeStormOnly && !clusterOnly;
  for (let roundNo = 1; roundNo <= (systems ? cfg.rounds : 0); roundNo++) {
    // Every other round goes through the systems the other way round.
    const order = roundNo % 2 ? cfg.configs : [...cfg.configs].reverse();
    for (const { system, mode } of order) {
      log(`${system} / ${mode}${cfg.rounds > 1 ? ` (round ${roundNo})` : ''}`);
      runs.push(await runSystem(cfg, system, mode, roundNo, log));
      save();
    }
  }
  const withRedis = cfg.configs.some((c) => c.system === 'sse-bus' && c.mode === 'redis');
  if (cfg.resumeStorm && !focused && !clusterOnly && (withRedis || resumeStormOnly)) {
    log(`reconnect storm with resume: sse-bus x${cfg.resumeStorm.instances} / redis`);
    result.resumeStorm = await runResumeStorm(cfg, cfg.resumeStorm, log).catch((err: Error) => {
      log(`  FAILED: resume storm: ${err.message}`);
      return null;
    });
  }
  if (!flag('--no-cluster') && !focused && !resumeStormOnly) {
    result.cluster = await runClusterSteps(clusterStepsConfig(smoke), log);
  }
  save();
  if (result.beforeAfter?.length) {
    log(`this build against the one in ${beforeDist}:`);
    for (const row of result.beforeAfter) log(`  ${beforeAfterLine(row)}`);
  }
  log(`results: ${relative(ROOT, out)}`);
  // A run of one step alone goes into the docs beside a full run's results: --report.
  if (!smoke && !flag('--no-docs') && systems) {
    const written = writeReport({ result, path: relative(ROOT, out) });
    log(`wrote ${written.join(', ')}`);
  }
  const broken = [
    ...brokenChecks(result),
    ...(result.cluster ? brokenClusterChecks(result.cluster) : []),
  ];
  if (broken.length > 0) {
    console.error(`\nThe benchmark is broken:\n  ${broken.join('\n  ')}`);
    process.exitCode = 1;
  } else {
    log('every system connected, delivered every message, and stayed up');
  }
}

main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exit(1);
});
