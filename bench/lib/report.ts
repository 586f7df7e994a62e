/**
 * docs/benchmarks.md and docs/benchmarks.svg, generated from one results file: sse-bus beside
 * every baseline of the same run, and the targets as ratios within that run. A focused run given
 * beside it (say, of the own `@Sse()` path only, or the publish step alone) adds its own section,
 * compared within itself.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './paths.js';
import type { BenchResult, Mode, RunResult, TargetedStep } from './results.js';
import { SYSTEMS, type SystemId } from './servers.js';
import { median, ratio } from './stats.js';
import { beforeSection, hasBefore } from './report-before.js';
import { hasOwnSse, ownSseSection } from './report-own-sse.js';
import { httpPublishSection } from './report-http-publish.js';
import { publishSection } from './report-publish.js';
import { resumeStormSection } from './report-resume-storm.js';
import { steeringSection } from './report-steering.js';
import { clusterSection } from '../cluster/report-cluster.js';
import {
  ORDER,
  MODES,
  type Num,
  fmt,
  fmtX,
  verdict,
  runsOf,
  rounds,
  runOf,
  across,
  valuesIn,
  present,
  table,
  STEADY_RATES,
  pooledCpuPerFrame,
  idleAt,
  broadcastAt,
  targetedAt,
  maxOkRate,
  lostEverywhere,
  type Target,
} from './report-parts.js';

const MAX_BUFFERED_KB = 1024;

function targetsForRound(result: BenchResult, roundNo: number): Target[] {
  const cfg = result.meta.config as {
    mainN: number;
    smallN: number;
    levels: Record<Mode, number[]>;
  };
  const get = (system: SystemId, mode: Mode = 'embedded') => runOf(result, system, mode, roundNo);
  const bus = get('sse-bus');
  const bare = get('bare-http');
  const better = get('better-sse');
  const naive = get('naive-nest');
  const busRedis = get('sse-bus', 'redis');
  const targets: Target[] = [];

  for (const [rates, what] of [
    [
      STEADY_RATES,
      `the ${STEADY_RATES.join(' and ')} msg/s steps, which every system delivers as offered`,
    ],
    [undefined, 'all rate steps pooled, saturated ones included'],
  ] as const) {
    const cpu = pooledCpuPerFrame(bus, rates as number[] | undefined);
    const cpuBare = pooledCpuPerFrame(bare, rates as number[] | undefined);
    const cpuBetter = pooledCpuPerFrame(better, rates as number[] | undefined);
    const cpuNaive = pooledCpuPerFrame(naive, rates as number[] | undefined);
    const cpuRatio = ratio(cpu, cpuBare);
    targets.push({
      name: `Server CPU per delivered broadcast frame (${fmt(cfg.mainN, 0)} connections, ${what}) ≤ 1.25x bare node:http, below better-sse and naive`,
      measured: `${fmt(cpu, 2)} µs vs bare ${fmt(cpuBare, 2)} (${fmtX(cpuRatio)}), better-sse ${fmt(cpuBetter, 2)}, naive ${fmt(cpuNaive, 2)}`,
      met:
        cpuRatio === null
          ? null
          : cpuRatio <= 1.25 &&
            (cpuBetter === null || cpu! < cpuBetter) &&
            (cpuNaive === null || cpu! < cpuNaive),
    });
  }

  for (const n of [cfg.mainN, Math.max(...cfg.levels.embedded)]) {
    const rss = idleAt(bus, n)?.rssPerConnKb;
    const rssBare = idleAt(bare, n)?.rssPerConnKb;
    const r = ratio(rss, rssBare);
    targets.push({
      name: `RSS per idle connection at ${fmt(n, 0)} ≤ 1.5x bare node:http`,
      measured: `${fmt(rss, 2)} KiB vs ${fmt(rssBare, 2)} KiB (${fmtX(r)})`,
      met: r === null ? null : r <= 1.5,
    });
  }

  const p99 = broadcastAt(bus, 1)?.latency.p99;
  const p99Bare = broadcastAt(bare, 1)?.latency.p99;
  const p99Ratio = ratio(p99, p99Bare);
  targets.push({
    name: `Broadcast to ${fmt(cfg.mainN, 0)} connections (1 msg/s): p99 latency ≤ 1.3x bare node:http`,
    measured: `${fmt(p99)} ms vs ${fmt(p99Bare)} ms (${fmtX(p99Ratio)})`,
    met: p99Ratio === null ? null : p99Ratio <= 1.3,
  });

  const small = targetedAt(bus, cfg.smallN);
  const large = targetedAt(bus, cfg.mainN);
  const common = large
    .filter((s) => s.rate >= 500 && s.lost === 0)
    .map((s) => [s, small.find((t) => t.rate === s.rate && t.lost === 0)] as const)
    .filter((pair): pair is readonly [TargetedStep, TargetedStep] => pair[1] !== undefined);
  const perRate = common
    .map(([l, s]) => ratio(l.cpuPerMessageUs, s.cpuPerMessageUs))
    .filter((v): v is number => v !== null);
  const cpuScale = median(perRate);
  targets.push({
    name: `Targeted: CPU per message at ${fmt(cfg.mainN, 0)} connections ≤ 1.2x that at ${cfg.smallN} (median over the rates ≥ 500/s run at both)`,
    measured: common.length
      ? `${fmtX(cpuScale)} (${common.map(([l, s]) => `${l.rate}/s: ${fmt(l.cpuPerMessageUs, 0)} vs ${fmt(s.cpuPerMessageUs, 0)} µs`).join('; ')})`
      : 'no common rate',
    met: cpuScale === null ? null : cpuScale <= 1.2,
  });

  const most = maxOkRate(large);
  targets.push({
    name: `Targeted: ≥ 2,000 messages/s on one instance with p99 < 50 ms (at ${fmt(cfg.mainN, 0)} connections)`,
    measured: `${fmt(most, 0)}/s (bare ${fmt(maxOkRate(targetedAt(bare, cfg.mainN)), 0)}/s, better-sse ${fmt(maxOkRate(targetedAt(better, cfg.mainN)), 0)}/s, naive ${fmt(maxOkRate(targetedAt(naive, cfg.mainN)), 0)}/s)`,
    met: bus ? (most ?? 0) >= 2000 : null,
  });

  const top = Math.max(...cfg.levels.embedded);
  const topPoint = idleAt(bus, top);
  const failed = bus?.idle.reduce((n, p) => n + p.connect.failed, 0);
  targets.push({
    name: `${fmt(top, 0)} connections on one instance, 0 failed connects`,
    measured: topPoint ? `${fmt(topPoint.n, 0)} open, ${failed} failed` : 'not reached',
    met: topPoint ? failed === 0 && topPoint.connect.opened + (failed ?? 0) > 0 : null,
  });

  if (busRedis) {
    const lost = lostEverywhere(busRedis);
    const delivered = [...busRedis.broadcast, ...busRedis.latencyByN].reduce(
      (n, s) => n + s.delivered,
      0,
    );
    targets.push({
      name: 'Through Redis, two instances: every message reaches every client (0 lost)',
      measured: `${fmt(delivered, 0)} broadcast frames and ${fmt(
        busRedis.targeted.reduce((n, s) => n + s.delivered, 0),
        0,
      )} targeted messages delivered, ${lost} lost`,
      met: busRedis.ok && lost === 0,
    });
    const slow = (run: RunResult | undefined) => targetedAt(run, cfg.smallN)[0];
    const hop = (slow(busRedis)?.latency.p50 ?? NaN) - (slow(bus)?.latency.p50 ?? NaN);
    const at1k = (run: RunResult | undefined) =>
      run?.latencyByN.find((s) => s.n === 1000)?.latency.p50;
    const hop1k = (at1k(busRedis) ?? NaN) - (at1k(bus) ?? NaN);
    targets.push({
      name: `The Redis hop adds ≤ 1 ms at p50 over the embedded bus (targeted, ${cfg.smallN} connections, ${slow(bus)?.rate ?? '?'}/s)`,
      measured: `${fmt(slow(busRedis)?.latency.p50, 2)} ms vs ${fmt(slow(bus)?.latency.p50, 2)} ms: +${fmt(hop, 2)} ms (broadcast to 1,000 at 1/s: +${fmt(hop1k, 2)} ms at p50)`,
      met: Number.isFinite(hop) ? hop <= 1 : null,
    });
  }

  for (const mode of MODES) {
    const stalled = get('sse-bus', mode)?.stalled;
    if (!stalled) continue;
    const r = ratio(stalled.withStalled.latency.p99, stalled.control.latency.p99);
    const growth = stalled.withStalled.rssMaxKb - stalled.withStalled.rssStartKb;
    const controlGrowth = stalled.control.rssMaxKb - stalled.control.rssStartKb;
    const bound = controlGrowth + stalled.stalled * MAX_BUFFERED_KB * (mode === 'redis' ? 1 : 1);
    targets.push({
      name: `Stalled clients (${mode}): the others' p99 rises ≤ 20%, and RSS stays bounded (growth ≤ the control phase's + 1 MiB per stalled client)`,
      measured: `p99 ${fmt(stalled.withStalled.latency.p99)} vs ${fmt(stalled.control.latency.p99)} ms (${fmtX(r)}); RSS growth ${fmt(growth / 1024)} MiB (control ${fmt(controlGrowth / 1024)} MiB, bound ${fmt(bound / 1024)} MiB)`,
      met: r === null ? null : r <= 1.2 && growth <= bound,
    });
  }
  return targets;
}

// ---------- Markdown ----------

function machineSection(result: BenchResult): string {
  const m = result.meta.machine;
  return [
    `- Machine: ${m.cores} × ${m.cpu}, ${m.memoryGiB} GiB, Linux ${m.kernel}; ${m.node}; ${m.redis}`,
    `- Limits: \`ulimit -n\` ${m.nofile} per process; tcp_wmem ${m.tcp_wmem}; tcp_rmem ${m.tcp_rmem}; somaxconn ${m.somaxconn}`,
    `- Placement: ${result.meta.placement}. Everything runs on one 2-core box over loopback, so the clients compete with the servers for the second core; treat absolute numbers as ±20% and compare ratios within the run.`,
    `- Code: commit ${result.meta.git.commit}${result.meta.git.dirty ? ' with uncommitted changes under src/' : ''}; run started ${result.meta.startedAt}, took ${Math.round(result.meta.durationS / 60)} min`,
  ].join('\n');
}

function idleTable(result: BenchResult, mode: Mode): string {
  const systems = present(result, mode);
  const levels = valuesIn(result, mode, (r) => r.idle.map((p) => p.n));
  const rows = levels.map((n) => [
    fmt(n, 0),
    ...systems.map((system) => {
      const runs = runsOf(result, system, mode);
      const rss = across(runs, (r) => idleAt(r, n)?.rssPerConnKb, 2);
      const heap = across(runs, (r) => idleAt(r, n)?.heapPerConnKb, 2);
      const failed = runs.reduce((t, r) => t + (idleAt(r, n)?.connect.failed ?? 0), 0);
      const rate = across(runs, (r) => idleAt(r, n)?.connect.perSecond, 0);
      return `${rss} / ${heap}<br>${rate}/s, ${failed} failed`;
    }),
  ]);
  return table(['Connections', ...systems.map((s) => SYSTEMS[s].label)], rows);
}

function latencyByNTable(result: BenchResult, mode: Mode): string {
  const systems = present(result, mode);
  const levels = valuesIn(result, mode, (r) => r.latencyByN.map((s) => s.n));
  const rows = levels.map((n) => [
    fmt(n, 0),
    ...systems.map((system) => {
      const runs = runsOf(result, system, mode);
      const step = (r: RunResult) => r.latencyByN.find((s) => s.n === n);
      return `${across(runs, (r) => step(r)?.latency.p50)} / ${across(runs, (r) => step(r)?.latency.p99)}`;
    }),
  ]);
  return table(['Connections', ...systems.map((s) => SYSTEMS[s].label)], rows);
}

function broadcastTable(result: BenchResult, mode: Mode): string {
  const systems = present(result, mode);
  const rates = valuesIn(result, mode, (r) => r.broadcast.map((s) => s.rate));
  const rows = rates.map((rate) => [
    `${rate}/s`,
    ...systems.map((system) => {
      const runs = runsOf(result, system, mode);
      const s = (r: RunResult) => broadcastAt(r, rate);
      const lost = runs.reduce((t, r) => t + (s(r)?.lost ?? 0), 0);
      return (
        `${across(runs, (r) => s(r)?.latency.p50)} / ${across(runs, (r) => s(r)?.latency.p99)} ms<br>` +
        `${across(runs, (r) => s(r)?.cpuPerFrameUs, 2)} µs/frame<br>${across(runs, (r) => s(r)?.deliveredPerSecond, 0)}/s` +
        (lost ? `<br>**${lost} lost**` : '')
      );
    }),
  ]);
  rows.push([
    `CPU/frame, ${STEADY_RATES.join(' + ')}/s pooled`,
    ...systems.map(
      (system) =>
        `${across(runsOf(result, system, mode), (r) => pooledCpuPerFrame(r, STEADY_RATES), 2)} µs`,
    ),
  ]);
  rows.push([
    'CPU/frame, all steps pooled',
    ...systems.map(
      (system) => `${across(runsOf(result, system, mode), (r) => pooledCpuPerFrame(r), 2)} µs`,
    ),
  ]);
  return table(['Rate', ...systems.map((s) => SYSTEMS[s].label)], rows);
}

function targetedTable(result: BenchResult, mode: Mode, n: number): string {
  const systems = present(result, mode);
  const rates = valuesIn(result, mode, (r) =>
    r.targeted.filter((s) => s.n === n).map((s) => s.rate),
  );
  const rows = rates.map((rate) => [
    `${rate}/s`,
    ...systems.map((system) => {
      const runs = runsOf(result, system, mode);
      const s = (r: RunResult) => r.targeted.find((t) => t.n === n && t.rate === rate);
      if (!runs.some(s)) return 'not run (a lower rate failed)';
      const bad = runs.filter((r) => s(r) && !s(r)!.ok).length;
      return (
        `${across(runs, (r) => s(r)?.latency.p50, 2)} / ${across(runs, (r) => s(r)?.latency.p99)} ms<br>` +
        `${across(runs, (r) => s(r)?.cpuPerMessageUs, 0)} µs/msg, ${across(runs, (r) => s(r)?.serverCpuPct, 0)}% CPU` +
        (bad ? '<br>✗ p99 ≥ 50 ms or loss' : '') +
        runs
          .map((r) => s(r)?.firstTryP99)
          .filter((p): p is number => p != null)
          .map((p) => `<br>2nd try (1st: p99 ${fmt(p)} ms)`)
          .join('')
      );
    }),
  ]);
  rows.push([
    'most/s with p99 < 50 ms',
    ...systems.map((system) =>
      across(runsOf(result, system, mode), (r) => maxOkRate(targetedAt(r, n)), 0),
    ),
  ]);
  return table(['Rate', ...systems.map((s) => SYSTEMS[s].label)], rows);
}

function stormTable(result: BenchResult): string {
  const rows: string[][] = [];
  for (const mode of MODES) {
    for (const system of present(result, mode)) {
      const runs = runsOf(result, system, mode).filter((r) => r.storm);
      if (!runs.length) continue;
      rows.push([
        `${SYSTEMS[system].label} (${mode})`,
        across(runs, (r) => r.storm!.n, 0),
        across(runs, (r) => r.storm!.elapsedMs, 0),
        `${across(runs, (r) => r.storm!.connectMs.p50, 0)} / ${across(runs, (r) => r.storm!.connectMs.p99, 0)}`,
        String(runs.reduce((t, r) => t + r.storm!.failed, 0)),
        across(runs, (r) => r.storm!.cpuPerConnectUs, 0),
        across(runs, (r) => (r.storm!.rssAfterKb - r.storm!.rssBeforeKb) / 1024),
      ]);
    }
  }
  return table(
    [
      'System',
      'Clients',
      'All back (ms)',
      'Connect p50 / p99 (ms)',
      'Failed',
      'Server CPU per connect (µs)',
      'RSS after − before (MiB)',
    ],
    rows,
  );
}

function stalledTable(result: BenchResult): string {
  const rows: string[][] = [];
  for (const mode of MODES) {
    for (const system of present(result, mode)) {
      const runs = runsOf(result, system, mode).filter((r) => r.stalled);
      if (!runs.length) continue;
      const s = (r: RunResult) => r.stalled!;
      rows.push([
        `${SYSTEMS[system].label} (${mode})`,
        `${across(runs, (r) => s(r).control.latency.p50)} / ${across(runs, (r) => s(r).control.latency.p99)}`,
        `${across(runs, (r) => s(r).withStalled.latency.p50)} / ${across(runs, (r) => s(r).withStalled.latency.p99)}`,
        across(runs, (r) => ratio(s(r).withStalled.latency.p99, s(r).control.latency.p99), 2),
        across(runs, (r) => (s(r).control.rssMaxKb - s(r).control.rssStartKb) / 1024),
        across(runs, (r) => (s(r).withStalled.rssMaxKb - s(r).withStalled.rssStartKb) / 1024),
        `${across(runs, (r) => s(r).withStalled.dropped.stalled, 0)} of ${across(runs, (r) => s(r).stalled, 0)}`,
        String(runs.reduce((t, r) => t + s(r).withStalled.lost + s(r).control.lost, 0)),
      ]);
    }
  }
  return table(
    [
      'System',
      'Control p50 / p99 (ms)',
      'With stalled p50 / p99 (ms)',
      'p99 ratio',
      'Control RSS growth (MiB)',
      'With stalled RSS growth (MiB)',
      'Stalled cut off',
      'Readers lost frames',
    ],
    rows,
  );
}

/** A results file and its path from the repository's root. */
export interface Source {
  result: BenchResult;
  path: string;
}

/**
 * The page, from `main`; each of `more` (a focused run) adds the sections of the systems it has,
 * in place of `main`'s.
 */
export function renderMarkdown({ result, path: source }: Source, more: Source[] = []): string {
  const cfg = result.meta.config as {
    mainN: number;
    smallN: number;
    probeEvery: number;
    smallProbeEvery: number;
    payloadBytes: number;
    targetedSeconds: number;
    retryFailedStep?: boolean;
    broadcastSteps: { rate: number; seconds: number }[];
    pointMessages: number;
    stalled: {
      n: number;
      share: number;
      rate: number;
      seconds: number;
      payloadBytes: number;
    } | null;
    storm: { inFlightPerWorker: number } | null;
  };
  const roundList = rounds(result);
  const out: string[] = [];
  out.push('# Benchmarks');
  out.push('');
  out.push(
    `Generated by \`${result.meta.command}\` from [\`${source}\`](../${source}); regenerate this page with ` +
      `\`npm run bench:report -- ${[source, ...more.map((m) => m.path)].join(' ')}\`. The smoke version (\`npm run bench:smoke\`, about 2,000 connections, ~3 min) checks that the benchmark works and asserts no speed.`,
  );
  out.push('');
  out.push(machineSection(result));
  out.push('');
  out.push('![Broadcast latency and RSS per connection against connections](benchmarks.svg)');
  out.push('');
  out.push('## Systems');
  out.push('');
  out.push(
    'Every system serves the same protocol: `GET /sse/msg?token=<HS256 JWT, sub = client id>` opens a stream',
  );
  out.push(
    '(verified with `jose` by all of them; the own `@Sse()` app serves it at its own paths), `POST /sse/publish` with `{ data, clientId? }` publishes.',
  );
  out.push('');
  const systems = new Set(
    [result, ...more.map((m) => m.result)].flatMap((r) => r.runs.map((run) => run.system)),
  );
  for (const system of ORDER.filter((s) => systems.has(s))) {
    out.push(`- **${SYSTEMS[system].label}**: ${SYSTEMS[system].describe}.`);
  }
  out.push('');
  out.push(
    'Modes: *embedded* is one instance (sse-bus: its in-process bus; naive NestJS still goes through Redis pub/sub, by design); ' +
      '*redis* is two instances on one `redis-server` (sse-bus: Redis streams; the baselines: Redis pub/sub), with clients split evenly ' +
      'between them and publishes sent to them in turn. Connection counts are totals over the instances.',
  );
  out.push('');

  out.push('## Targets');
  out.push('');
  for (const roundNo of roundList) {
    if (roundList.length > 1) out.push(`Round ${roundNo}:\n`);
    const targets = targetsForRound(result, roundNo);
    out.push(
      table(
        ['Target', 'Measured (sse-bus, embedded unless said)', 'Verdict'],
        targets.map((t) => [t.name, t.measured, verdict(t.met)]),
      ),
    );
    out.push('');
  }
  const problems = result.runs.flatMap((r) => r.problems.map((p) => `${r.system}/${r.mode}: ${p}`));
  if (problems.length) {
    out.push('Problems the run recorded:');
    out.push('');
    for (const p of problems) out.push(`- ${p}`);
    out.push('');
  }
  if (roundList.length > 1) {
    out.push(
      `Tables below show the median over ${roundList.length} rounds, with the range in parentheses.`,
    );
    out.push('');
  }

  for (const mode of MODES) {
    if (present(result, mode).length === 0) continue;
    const title =
      mode === 'embedded' ? 'Embedded bus, one instance' : 'Through Redis, two instances';
    out.push(`## ${title}`);
    out.push('');
    out.push('### Idle connections');
    out.push('');
    out.push(
      'RSS / V8 heap per connection (KiB: what the process grew by while the level’s connections were opened, each reading after a settle and a full GC, over the connections opened; earlier steps’ leftovers, such as the messages the embedded history keeps, are not counted), connects per second, failed connects.',
    );
    out.push('');
    out.push(idleTable(result, mode));
    out.push('');
    out.push('### Broadcast latency against connections (1 msg/s)');
    out.push('');
    out.push('Publish-to-client latency p50 / p99 (ms), measured by the probes.');
    out.push('');
    out.push(latencyByNTable(result, mode));
    out.push('');
    out.push(`### Broadcast to ${fmt(cfg.mainN, 0)} connections at increasing rates`);
    out.push('');
    out.push(
      'p50 / p99 latency; server CPU per delivered frame; deliveries per second (until the last probe had the last message). ' +
        `Steps: ${cfg.broadcastSteps.map((s) => `${s.rate}/s for ${s.seconds} s`).join(', ')}; ~${cfg.payloadBytes}-byte payloads.`,
    );
    out.push('');
    out.push(broadcastTable(result, mode));
    out.push('');
    for (const n of [cfg.smallN, cfg.mainN]) {
      out.push(`### Targeted messages at ${fmt(n, 0)} connections`);
      out.push('');
      out.push(
        `Each message to one random probe client; ${cfg.targetedSeconds} s per rate; rates rise until p99 ≥ 50 ms or a loss` +
          (cfg.retryFailedStep ? ' (a rate that fails on p99 is run once more first). ' : '. ') +
          'p50 / p99 latency; server CPU per message (POST handling included) and CPU use of the server.',
      );
      out.push('');
      out.push(targetedTable(result, mode, n));
      out.push('');
    }
  }

  out.push('## Reconnect storm');
  out.push('');
  out.push(
    `Every one of the ${fmt(cfg.mainN, 0)} clients drops its connection at once and reconnects straight away ` +
      `(at most ${cfg.storm?.inFlightPerWorker ?? '?'} connects in flight per generator process; the listen backlog is 511 in every system).`,
  );
  out.push('');
  out.push(stormTable(result));
  out.push('');
  const resumeStorm = resumeStormSection([{ result, path: source }, ...more]);
  if (resumeStorm) out.push(resumeStorm);
  if (cfg.stalled) {
    const st = cfg.stalled;
    out.push('## Stalled clients during broadcast');
    out.push('');
    out.push(
      `${fmt(st.n, 0)} reading clients; a broadcast of ${fmt(st.payloadBytes / 1024, 0)} KiB messages at ${st.rate}/s for ${st.seconds} s ` +
        `(${fmt((st.rate * st.seconds * st.payloadBytes) / 2 ** 20)} MiB per client, more than the kernel buffers of a non-reading socket hold), ` +
        `first with every client reading (control), then with ${Math.round(st.share * 100)}% more clients that never read. ` +
        'Latency is of the reading clients; RSS growth is the server’s during the phase (max − start). sse-bus cuts off a client whose unsent bytes pass SSE_MAX_BUFFERED_BYTES (1 MiB); the baselines have no such policy. ' +
        'The payload is large on purpose: with the ~100-byte messages of the other scenarios, a stalled client would take minutes to fill its kernel buffers.',
    );
    out.push('');
    out.push(stalledTable(result));
    out.push('');
  }

  const ownSse = [...more].reverse().find((m) => hasOwnSse(m.result));
  out.push(
    ownSse ? ownSseSection(ownSse.result, ownSse.path, true) : ownSseSection(result, source, false),
  );
  const compared = [{ result, path: source }, ...more].reverse().find((m) => hasBefore(m.result));
  if (compared) out.push(beforeSection(compared.result, compared.path));
  const publish = [{ result, path: source }, ...more].reverse().find((m) => m.result.publish);
  if (publish) out.push(publishSection(publish.result.publish!, publish.path));
  const http = [{ result, path: source }, ...more].reverse().find((m) => m.result.httpPublish);
  if (http) {
    const xadd = median(http.result.publish?.xaddPerSecond ?? []);
    out.push(httpPublishSection(http.result.httpPublish!, http.path, xadd));
  }
  const steering = [{ result, path: source }, ...more].reverse().find((m) => m.result.steering);
  if (steering) out.push(steeringSection(steering.result.steering!, steering.path));
  const cluster = [{ result, path: source }, ...more].reverse().find((m) => m.result.cluster);
  if (cluster) out.push(clusterSection(cluster.result, cluster.path));
  out.push('## Method');
  out.push('');
  out.push(
    [
      '- **Load generator**: separate Node processes (`child_process.fork`), at most 9,000 raw `net` sockets each, each process on its own source address (127.0.0.2, .3, …). Each socket sends `GET /sse/msg?token=… HTTP/1.1` (or the system’s own path) by hand; a connection is open at the `connected` event, or at the response’s headers for a stream that sends nothing (Nest’s floor).',
      `- **Probes** (every ${cfg.smallProbeEvery}th of the first ${cfg.smallN} connections, then every ${cfg.probeEvery}th: about 2%, spread evenly) decode HTTP chunked encoding and SSE frames and record, for each message, \`process.hrtime.bigint()\` minus the timestamp in its payload (CLOCK_MONOTONIC is shared by the processes of one machine).`,
      '- **Sinks** (the rest) read until the `connected` event, then stop reading at the libuv level (`onread` callback returning `false`): they cost the generator nothing while a step runs, and the kernel keeps what arrives. After every step a *drain* lets every sink read and counts the payload markers it got, so **every connection is counted**: "lost" is messages × connections − frames counted, exactly, not an estimate from probes.',
      '- **Publisher**: its own process, `POST /sse/publish` over keep-alive connections at a fixed rate, open loop; each payload carries the time it was *scheduled* to be sent, so a server that falls behind is charged for the queue it builds (no coordinated omission). Latency therefore includes the POST, the bus (and the Redis hop) and the fan-out.',
      '- **Server CPU**: utime + stime of every server process (all threads, /proc/<pid>/stat), from just before a step’s first publish to the moment its last expected probe message arrived. It includes handling the POSTs and the kernel’s loopback TCP work done in the server’s system calls. CPU per frame = that CPU / frames counted at the clients.',
      '- **RSS**: VmRSS from /proc/<pid>/status after a settle and a full GC. Every server is started with `--expose-gc --import <bench preload>`; the preload (the same for all systems) runs `gc()` on SIGUSR2 and reports heap use and event-loop delay; it does nothing else. Per connection = (RSS once a level’s connections are open − RSS just before they were opened) / connections opened: what earlier steps left in the process (an embedded history of messages, a larger heap after a broadcast) is not charged to the connections. Runs before 2026-11-27T10 counted from the process’s start instead, which charged sse-bus’s embedded history (up to 10,000 messages, the stalled phase’s 48 KiB ones included) to its connections.',
      '- **Order**: one system at a time, on a fresh process (and a fresh redis-server), through the same steps: targeted at 100 connections, then 1k (with the stalled-client phases), 10k (broadcast steps, targeted steps, storm), 19k (and 38k through Redis). Heartbeats are set to 10 minutes in every system so they stay out of the measurements.',
      '- **Noise**: two shared vCPUs; each step has many samples (hundreds to thousands of probe latencies), but the run is one pass per system unless `--rounds` says otherwise. Expect ±20% between runs on absolute numbers; ratios within one run are steadier.',
    ].join('\n'),
  );
  out.push('');
  return out.join('\n');
}

// ---------- SVG chart ----------

const COLORS: Record<SystemId, string> = {
  'sse-bus': '#d62728',
  'sse-bus-own': '#ff7f0e',
  // The previous build's in paler shades of its own.
  'sse-bus-before': '#f4a6a6',
  'sse-bus-own-before': '#ffc78f',
  'nest-floor': '#8c564b',
  'bare-http': '#1f77b4',
  'better-sse': '#2ca02c',
  'naive-nest': '#9467bd',
};

interface Series {
  system: SystemId;
  mode: Mode;
  points: [number, number][];
}

function seriesOf(result: BenchResult, metric: (run: RunResult) => [number, Num][]): Series[] {
  const series: Series[] = [];
  for (const mode of MODES) {
    for (const system of present(result, mode)) {
      const runs = runsOf(result, system, mode);
      const byN = new Map<number, number[]>();
      for (const run of runs) {
        for (const [n, v] of metric(run)) {
          if (v == null || !Number.isFinite(v)) continue;
          byN.set(n, [...(byN.get(n) ?? []), v]);
        }
      }
      const points = [...byN]
        .map(([n, vs]) => [n, median(vs)!] as [number, number])
        .sort((a, b) => a[0] - b[0]);
      if (points.length) series.push({ system, mode, points });
    }
  }
  return series;
}

function niceMax(value: number): number {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) {
    if (step * magnitude >= value) return step * magnitude;
  }
  return 10 * magnitude;
}

function panel(
  x0: number,
  y0: number,
  w: number,
  h: number,
  title: string,
  yLabel: string,
  series: Series[],
): string {
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  const xMax = niceMax(Math.max(1, ...xs));
  const yMax = niceMax(Math.max(0, ...ys));
  const px = (x: number) => x0 + (x / xMax) * w;
  const py = (y: number) => y0 + h - (y / yMax) * h;
  const parts: string[] = [];
  parts.push(
    `<text x="${x0 + w / 2}" y="${y0 - 14}" text-anchor="middle" font-size="14" font-weight="bold">${title}</text>`,
  );
  for (let i = 0; i <= 5; i++) {
    const y = (yMax * i) / 5;
    parts.push(`<line x1="${x0}" y1="${py(y)}" x2="${x0 + w}" y2="${py(y)}" stroke="#ddd"/>`);
    parts.push(
      `<text x="${x0 - 6}" y="${py(y) + 4}" text-anchor="end" font-size="11">${fmt(y, 1)}</text>`,
    );
    const x = (xMax * i) / 5;
    parts.push(
      `<line x1="${px(x)}" y1="${y0 + h}" x2="${px(x)}" y2="${y0 + h + 4}" stroke="#333"/>`,
    );
    parts.push(
      `<text x="${px(x)}" y="${y0 + h + 17}" text-anchor="middle" font-size="11">${fmt(x / 1000, 1)}k</text>`,
    );
  }
  parts.push(`<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="none" stroke="#333"/>`);
  parts.push(
    `<text x="${x0 + w / 2}" y="${y0 + h + 34}" text-anchor="middle" font-size="12">connections</text>`,
  );
  parts.push(
    `<text transform="translate(${x0 - 42},${y0 + h / 2}) rotate(-90)" text-anchor="middle" font-size="12">${yLabel}</text>`,
  );
  for (const s of series) {
    const d = s.points
      .map(([x, y], i) => `${i ? 'L' : 'M'}${px(x).toFixed(1)},${py(y).toFixed(1)}`)
      .join(' ');
    const dash = s.mode === 'redis' ? ' stroke-dasharray="6 4"' : '';
    const width = s.system === 'sse-bus' ? 3 : 1.8;
    parts.push(
      `<path d="${d}" fill="none" stroke="${COLORS[s.system]}" stroke-width="${width}"${dash}/>`,
    );
    for (const [x, y] of s.points) {
      parts.push(
        `<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${COLORS[s.system]}"/>`,
      );
    }
  }
  return parts.join('\n');
}

export function renderSvg(result: BenchResult): string {
  const latency = seriesOf(result, (run) => run.latencyByN.map((s) => [s.n, s.latency.p99]));
  const memory = seriesOf(result, (run) => run.idle.map((p) => [p.n, p.rssPerConnKb]));
  const height = 420;
  const legend: string[] = [];
  let lx = 70;
  for (const system of ORDER) {
    if (!result.runs.some((r) => r.system === system)) continue;
    legend.push(
      `<line x1="${lx}" y1="395" x2="${lx + 26}" y2="395" stroke="${COLORS[system]}" stroke-width="3"/>`,
    );
    const { label } = SYSTEMS[system];
    legend.push(`<text x="${lx + 32}" y="399" font-size="12">${label}</text>`);
    // Room for the label at ~6.5 px a character: the `… (before)` ones need more than 150 px.
    lx += Math.max(150, 32 + label.length * 6.5);
  }
  legend.push(
    `<line x1="${lx}" y1="395" x2="${lx + 26}" y2="395" stroke="#333" stroke-width="2"/>`,
  );
  legend.push(`<text x="${lx + 32}" y="399" font-size="12">embedded</text>`);
  legend.push(
    `<line x1="${lx + 110}" y1="395" x2="${lx + 136}" y2="395" stroke="#333" stroke-width="2" stroke-dasharray="6 4"/>`,
  );
  legend.push(`<text x="${lx + 142}" y="399" font-size="12">Redis, 2 instances</text>`);
  // Wider when the legend needs it (six systems), never narrower than the two panels.
  const width = Math.max(960, lx + 270);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    panel(80, 40, 360, 280, 'Broadcast p99 latency (1 msg/s)', 'p99 latency (ms)', latency),
    panel(560, 40, 360, 280, 'RSS per idle connection', 'KiB per connection', memory),
    ...legend,
    '</svg>',
    '',
  ].join('\n');
}

/**
 * Writes docs/benchmarks.md and docs/benchmarks.svg from `main`, with the sections `more` adds
 * (see `renderMarkdown`); returns their paths.
 */
export function writeReport(main: Source, more: Source[] = []): string[] {
  const md = join(ROOT, 'docs/benchmarks.md');
  const svg = join(ROOT, 'docs/benchmarks.svg');
  // Hand-written analysis of a run, kept beside its results: <results>.notes.md.
  const analysis = [main, ...more]
    .map(({ path }) => join(ROOT, path.replace(/\.json$/, '.notes.md')))
    .filter((notes) => existsSync(notes))
    .map((notes) => `\n${readFileSync(notes, 'utf8').trim()}\n`)
    .join('');
  writeFileSync(md, renderMarkdown(main, more) + analysis);
  writeFileSync(svg, renderSvg(main.result));
  return ['docs/benchmarks.md', 'docs/benchmarks.svg'];
}
