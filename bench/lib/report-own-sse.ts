/**
 * The report's section on an app's own `@Sse()` endpoint (`MessageBus.sse()`): what it costs
 * beside `GET /sse/msg` in the same run, and what the bus adds to the least any Nest `@Sse()`
 * stream holds (an endpoint returning `NEVER`), with the targets of both.
 */
import type { BenchResult, Mode, RunResult } from './results.js';
import {
  MODES,
  type Num,
  type Target,
  across,
  broadcastAt,
  fmt,
  fmtX,
  idleAt,
  pooledCpuPerFrame,
  rounds,
  runOf,
  runsOf,
  table,
  verdict,
} from './report-parts.js';
import type { SystemId } from './servers.js';
import { ratio } from './stats.js';

/** Heap the bus may add to a connection on top of Nest's floor. */
const HEAP_OVER_FLOOR_KIB = 1;
/** CPU per delivered frame the own `@Sse()` path may take, as a multiple of `/sse/msg`'s. */
const CPU_RATIO = 1.5;
/**
 * The broadcast steps CPU per frame is read over: the least loaded one, then all of them. Past
 * the first, `/sse/msg` sends the frames of several messages for a client in one write once it
 * falls behind, where Nest writes each event on its own, so pooled steps also compare how far
 * each fell behind.
 */
const STEPS: [number[] | undefined, string][] = [
  [[1], 'the 1 msg/s step'],
  [undefined, 'all rate steps pooled'],
];

const COLUMNS: [SystemId, string][] = [
  ['sse-bus', '`/sse/msg`'],
  ['sse-bus-own', 'own `@Sse()`'],
  ['nest-floor', '`@Sse()` returning `NEVER`'],
];

interface Config {
  mainN: number;
  levels: Record<Mode, number[]>;
}

export function hasOwnSse(result: BenchResult): boolean {
  return result.runs.some((r) => r.system === 'sse-bus-own');
}

/** The run of `system` in the same round and mode as `run`. */
function beside(result: BenchResult, run: RunResult, system: SystemId): RunResult | undefined {
  return runOf(result, system, run.mode, run.round);
}

/** Heap per idle connection at `n` of the own `@Sse()` path, over the floor's in its round. */
function heapOverFloor(result: BenchResult, own: RunResult, n: number): number | null {
  const heap = idleAt(own, n)?.heapPerConnKb;
  const floor = idleAt(beside(result, own, 'nest-floor'), n)?.heapPerConnKb;
  return heap == null || floor == null ? null : heap - floor;
}

/** CPU per frame of the own `@Sse()` path over `/sse/msg`'s in its round. */
function cpuRatio(result: BenchResult, own: RunResult, rates?: number[]): number | null {
  return ratio(
    pooledCpuPerFrame(own, rates),
    pooledCpuPerFrame(beside(result, own, 'sse-bus'), rates),
  );
}

function targetsForRound(result: BenchResult, mode: Mode, roundNo: number): Target[] {
  const { mainN } = result.meta.config as Config;
  const own = runOf(result, 'sse-bus-own', mode, roundNo);
  const floor = runOf(result, 'nest-floor', mode, roundNo);
  const bus = runOf(result, 'sse-bus', mode, roundNo);
  const over = own ? heapOverFloor(result, own, mainN) : null;
  const targets: Target[] = [
    {
      name: `Heap per idle connection at ${fmt(mainN, 0)}: own \`@Sse()\` ≤ Nest's floor + ${HEAP_OVER_FLOOR_KIB} KiB`,
      measured:
        `${fmt(idleAt(own, mainN)?.heapPerConnKb, 2)} KiB vs floor ${fmt(idleAt(floor, mainN)?.heapPerConnKb, 2)} KiB: ` +
        `+${fmt(over, 2)} KiB (\`/sse/msg\`: ${fmt(idleAt(bus, mainN)?.heapPerConnKb, 2)} KiB)`,
      met: over === null ? null : over <= HEAP_OVER_FLOOR_KIB,
    },
  ];
  for (const [rates, what] of STEPS) {
    const r = own ? cpuRatio(result, own, rates) : null;
    targets.push({
      name: `Server CPU per delivered broadcast frame at ${fmt(mainN, 0)} (${what}): own \`@Sse()\` ≤ ${CPU_RATIO}x \`/sse/msg\``,
      measured: `${fmt(pooledCpuPerFrame(own, rates), 2)} µs vs ${fmt(pooledCpuPerFrame(bus, rates), 2)} µs (${fmtX(r)})`,
      met: r === null ? null : r <= CPU_RATIO,
    });
  }
  return targets;
}

/** One row: a metric of each of the three systems, median over the rounds (range). */
function row(
  result: BenchResult,
  mode: Mode,
  name: string,
  metric: (run: RunResult) => Num,
  digits: number,
): string[] {
  return [name, ...COLUMNS.map(([system]) => across(runsOf(result, system, mode), metric, digits))];
}

/** One row with a figure of the own `@Sse()` path only. */
function ownRow(result: BenchResult, mode: Mode, name: string, metric: (run: RunResult) => Num) {
  return [name, ' ', across(runsOf(result, 'sse-bus-own', mode), metric, 2), ' '];
}

function figures(result: BenchResult, mode: Mode): string {
  const { mainN, levels } = result.meta.config as Config;
  const at = fmt(mainN, 0);
  const rows: string[][] = [];
  for (const n of levels[mode]) {
    const level = fmt(n, 0);
    rows.push(
      row(
        result,
        mode,
        `RSS per idle connection at ${level} (KiB)`,
        (r) => idleAt(r, n)?.rssPerConnKb,
        2,
      ),
      row(
        result,
        mode,
        `Heap per idle connection at ${level} (KiB)`,
        (r) => idleAt(r, n)?.heapPerConnKb,
        2,
      ),
    );
  }
  rows.push(
    ownRow(result, mode, `… own \`@Sse()\` over the floor at ${at} (KiB)`, (r) =>
      heapOverFloor(result, r, mainN),
    ),
  );
  for (const [rates, what] of STEPS) {
    rows.push(
      row(
        result,
        mode,
        `CPU per delivered frame at ${at}, ${what} (µs)`,
        (r) => pooledCpuPerFrame(r, rates),
        2,
      ),
      ownRow(result, mode, '… own `@Sse()` over `/sse/msg` (x)', (r) => cpuRatio(result, r, rates)),
    );
  }
  rows.push(
    row(
      result,
      mode,
      `Broadcast to ${at} at 1 msg/s: frames delivered per second (offered ${at})`,
      (r) => broadcastAt(r, 1)?.deliveredPerSecond,
      0,
    ),
    row(
      result,
      mode,
      `Broadcast to ${at} at 1 msg/s: p99 latency (ms)`,
      (r) => broadcastAt(r, 1)?.latency.p99,
      1,
    ),
  );
  return table(['', ...COLUMNS.map(([, label]) => label)], rows);
}

/** The section, from `result` (which `source` names), or nothing if it has no own `@Sse()` run. */
export function ownSseSection(result: BenchResult, source: string, separate: boolean): string {
  if (!hasOwnSse(result)) return '';
  const { mainN } = result.meta.config as Config;
  const out: string[] = [];
  out.push('## Own `@Sse()` endpoints against `/sse/msg`');
  out.push('');
  out.push(
    `An app's own \`@Sse()\` handler returning \`bus.sse(request, { clientId })\` (\`GET /sse/own\`), ` +
      'beside `GET /sse/msg` and an `@Sse()` handler of the same app that returns `NEVER` (`GET /sse/never`): ' +
      "Nest's floor, the least any `@Sse()` stream holds. Both handlers of that app check the token as `/sse/msg`'s guard does. " +
      'The floor delivers nothing, so it takes part in the idle levels only. Per-connection figures are counted as in the idle tables ' +
      `(growth while a level's connections open, after a full GC); CPU per frame over the broadcast steps at ${fmt(mainN, 0)} connections.`,
  );
  out.push('');
  if (separate) {
    const { meta } = result;
    out.push(
      `From a separate run: \`${meta.command}\`, [\`${source}\`](../${source}); commit ${meta.git.commit}` +
        `${meta.git.dirty ? ' with uncommitted changes under src/' : ''}, started ${meta.startedAt}, took ${Math.round(meta.durationS / 60)} min. ` +
        'Compare these systems with each other, not with the tables above.',
    );
    out.push('');
  }
  for (const mode of MODES) {
    if (runsOf(result, 'sse-bus-own', mode).length === 0) continue;
    out.push(
      `### ${mode === 'embedded' ? 'Embedded bus, one instance' : 'Through Redis, two instances'}`,
    );
    out.push('');
    const roundList = rounds(result);
    for (const roundNo of roundList) {
      if (roundList.length > 1) out.push(`Round ${roundNo}:\n`);
      out.push(
        table(
          ['Target', 'Measured', 'Verdict'],
          targetsForRound(result, mode, roundNo).map((t) => [t.name, t.measured, verdict(t.met)]),
        ),
      );
      out.push('');
    }
    if (roundList.length > 1) {
      out.push(`Median over ${roundList.length} rounds, range in parentheses:`);
      out.push('');
    }
    out.push(figures(result, mode));
    out.push('');
  }
  return out.join('\n');
}
