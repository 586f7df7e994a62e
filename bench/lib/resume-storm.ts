/**
 * The reconnect storm with resume: instances of sse-bus through one redis-server, `n` clients
 * on the first one. It is SIGKILLed; `missed` messages are published through the others while
 * its clients are away; they come back to the survivors, in turn, within a jitter window, each
 * with its Last-Event-ID, and must each get every message they missed, once, in order. Then as
 * many fresh connections open on the same survivors within the same window, for comparison.
 */
import { LoadGen, MAX_PER_WORKER } from '../loadgen/loadgen.js';
import type { ConnSpec } from '../loadgen/protocol.js';
import { Publisher } from '../loadgen/publisher-client.js';
import { cpuMs, sum } from './proc.js';
import type { RedisUse, ResumeStormResult } from './results.js';
import type { BenchConfig } from './scenarios.js';
import { type RedisProcess, type ServerProcess, startRedis, startSystem } from './servers.js';
import { round, summarize } from './stats.js';

/** A client turned away (a reset at accept, a refusal) comes back after the server's `retry:`. */
const RETRY_MS = 3000;

export interface ResumeStormConfig {
  instances: number;
  n: number;
  missed: number;
  jitterMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What `phase` gives, and what Redis ran meanwhile, per client of the `n`. */
async function withRedisUse<T>(
  redis: RedisProcess,
  n: number,
  phase: () => Promise<T>,
): Promise<[T, RedisUse]> {
  const before = await redis.commands();
  const outcome = await phase();
  const after = await redis.commands();
  const byCommand: Record<string, number> = {};
  for (const [name, calls] of Object.entries(after)) {
    if (calls !== (before[name] ?? 0)) byCommand[name] = calls - (before[name] ?? 0);
  }
  const perClient = (...names: string[]) =>
    round(names.reduce((all, name) => all + (byCommand[name] ?? 0), 0) / n, 4)!;
  const use = {
    byCommand,
    // Every command the instances send is a script call or the readers' XREAD.
    callsPerClient: perClient('eval', 'evalsha', 'xread'),
    commandsPerClient: perClient(...Object.keys(byCommand)),
    // Only the history script runs XRANGE.
    historyReadsPerClient: perClient('xrange'),
  };
  return [outcome, use];
}

export async function runResumeStorm(
  cfg: BenchConfig,
  storm: ResumeStormConfig,
  log: (line: string) => void,
): Promise<ResumeStormResult> {
  const { instances, n, missed, jitterMs } = storm;
  const problems: string[] = [];
  const problem = (text: string) => {
    problems.push(text);
    log(`  PROBLEM: ${text}`);
  };
  let redis: RedisProcess | undefined;
  const servers: ServerProcess[] = [];
  let gen: LoadGen | undefined;
  let pub: Publisher | undefined;
  try {
    redis = await startRedis(cfg.cpuLoad);
    for (let i = 0; i < instances; i++) {
      servers.push(await startSystem('sse-bus', i, redis.url, cfg.cpuServers));
    }
    const [doomed, ...survivors] = servers;
    const ports = survivors.map((server) => server.port);
    const survivorsCpu = () =>
      sum(
        survivors.map((server) => server.pid),
        cpuMs,
      );
    gen = await LoadGen.start(Math.max(2, Math.ceil(n / MAX_PER_WORKER)), cfg.cpuLoad, {
      path: '/sse/msg',
      openOnHeaders: false,
    });
    pub = Publisher.start(cfg.cpuLoad);

    // Probes, so that each knows the id of the last event it got: its `connected`.
    const onDoomed: ConnSpec[] = Array.from({ length: n }, (_, idx) => ({
      idx,
      port: doomed.port,
      kind: 'probe',
    }));
    const opened = await gen.open(onDoomed, 64);
    if (opened.failed > 0) throw new Error(`${opened.failed} of ${n} clients did not connect`);
    log(`  resume storm: ${n} clients on instance 0 of ${instances}; SIGKILL`);

    await doomed.kill();
    const deadline = Date.now() + cfg.waitCapMs;
    while ((await gen.collect()).some((part) => part.open.probe > 0)) {
      if (Date.now() > deadline) throw new Error('clients still connected to a killed instance');
      await sleep(50);
    }
    const published = await pub.run({
      ports,
      mode: 'broadcast',
      rate: 1000,
      count: missed,
      seqStart: 1,
      payloadBytes: cfg.payloadBytes,
    });
    if (published.accepted !== missed) {
      throw new Error(`${missed - published.accepted} of ${missed} messages refused`);
    }

    const cpu0 = survivorsCpu();
    const [resumed, resumeRedis] = await withRedisUse(redis, n, () =>
      gen!.resume({
        ports,
        spread: { jitterMs, retryMs: RETRY_MS },
        seqStart: 1,
        count: missed,
        maxMs: cfg.waitCapMs,
      }),
    );
    const resumeCpuMs = survivorsCpu() - cpu0;
    if (resumed.failed > 0) {
      problem(`${resumed.failed} reconnects failed: ${resumed.reasons.join(', ')}`);
    }
    if (resumed.caughtUp < n) problem(`${n - resumed.caughtUp} clients did not catch up`);
    if (resumed.violations > 0) problem(`${resumed.violations} repeats, misses or resets`);
    const resume = {
      reconnected: resumed.connected,
      failed: resumed.failed,
      reasons: resumed.reasons,
      caughtUp: resumed.caughtUp,
      violations: resumed.violations,
      allCaughtUpMs: round(resumed.allCaughtUpMs, 0)!,
      catchUpMs: summarize(resumed.catchUpMs),
      retries: resumed.retries,
      redis: resumeRedis,
      serverCpuMs: resumeCpuMs,
    };
    log(
      `  resume storm: ${resume.caughtUp}/${n} caught up on ${missed} missed in ${resume.allCaughtUpMs} ms ` +
        `(each p50 ${resume.catchUpMs.p50} p99 ${resume.catchUpMs.p99} ms), ${resume.violations} violations, ` +
        `${resume.retries} retries; per client: ${resumeRedis.historyReadsPerClient} history reads, ` +
        `${resumeRedis.callsPerClient} Redis calls, ${resumeRedis.commandsPerClient} commands`,
    );

    await gen.close();
    // The same client ids: their tokens are signed already, outside the measurement.
    const fresh: ConnSpec[] = Array.from({ length: n }, (_, idx) => ({
      idx,
      port: ports[idx % ports.length],
      kind: 'sink',
    }));
    const cpu1 = survivorsCpu();
    const [connected, freshRedis] = await withRedisUse(redis, n, () =>
      gen!.open(fresh, 0, { jitterMs, retryMs: RETRY_MS }),
    );
    if (connected.failed > 0) problem(`${connected.failed} fresh connects failed`);
    const result: ResumeStormResult = {
      instances,
      n,
      missed,
      jitterMs,
      problems,
      resume,
      fresh: {
        connected: connected.connected,
        failed: connected.failed,
        reasons: connected.reasons,
        retries: connected.retries,
        allConnectedMs: connected.elapsedMs,
        connectMs: summarize(connected.connectMs),
        serverCpuMs: survivorsCpu() - cpu1,
        redis: freshRedis,
      },
    };
    log(
      `  fresh: ${connected.connected}/${n} connected in ${connected.elapsedMs} ms ` +
        `(each p50 ${result.fresh.connectMs.p50} p99 ${result.fresh.connectMs.p99} ms)`,
    );
    return result;
  } finally {
    await gen?.stop().catch(() => undefined);
    await pub?.stop().catch(() => undefined);
    for (const server of servers) await server.stop();
    await redis?.stop();
  }
}
