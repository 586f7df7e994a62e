/**
 * This build against the previous one (`--before DIR`): each system of this build beside its
 * `-before` twin of the same run, and after / before of what a change to the library must not
 * make worse: heap and RSS per idle connection, and server CPU per delivered broadcast frame.
 */
import type { BeforeAfter, BenchResult, Mode, RunResult } from './results.js';
import {
  MODES,
  type Num,
  fmt,
  fmtX,
  idleAt,
  pooledCpuPerFrame,
  runsOf,
  table,
} from './report-parts.js';
import { SYSTEMS, type SystemId } from './servers.js';
import { median, ratio, round } from './stats.js';

/** This build's system and the previous build's, for each system `--before` runs twice. */
const PAIRS = (Object.keys(SYSTEMS) as SystemId[]).flatMap((twin) => {
  const system = SYSTEMS[twin].beforeOf;
  return system ? [[system, twin] as const] : [];
});

export function hasBefore(result: BenchResult): boolean {
  return result.runs.some((r) => SYSTEMS[r.system].beforeOf);
}

const sorted = (values: number[]) => [...new Set(values)].sort((a, b) => a - b);

/** What to compare, over the steps either build's runs have: name, unit, the figure of a run. */
function metrics(runs: RunResult[]): [string, string, (run: RunResult) => Num][] {
  const list: [string, string, (run: RunResult) => Num][] = [];
  for (const n of sorted(runs.flatMap((r) => r.idle.map((p) => p.n)))) {
    list.push(
      [`heap per idle connection at ${fmt(n, 0)}`, 'KiB', (r) => idleAt(r, n)?.heapPerConnKb],
      [`RSS per idle connection at ${fmt(n, 0)}`, 'KiB', (r) => idleAt(r, n)?.rssPerConnKb],
    );
  }
  // The 1 msg/s broadcast at each level and the rate steps at the main one (the first is both).
  const stepsOf = (r: RunResult) => [...r.latencyByN, ...r.broadcast];
  for (const n of sorted(runs.flatMap((r) => stepsOf(r).map((s) => s.n)))) {
    const rates = runs.flatMap((r) =>
      stepsOf(r)
        .filter((s) => s.n === n)
        .map((s) => s.rate),
    );
    for (const rate of sorted(rates)) {
      list.push([
        `server CPU per delivered frame, broadcast ${rate}/s to ${fmt(n, 0)}`,
        'µs',
        (r) => stepsOf(r).find((s) => s.n === n && s.rate === rate)?.cpuPerFrameUs,
      ]);
    }
  }
  const main = runs.find((r) => r.broadcast.length > 1)?.broadcast[0].n;
  if (main !== undefined) {
    list.push([
      `server CPU per delivered frame, the rate steps to ${fmt(main, 0)} pooled`,
      'µs',
      (r) => pooledCpuPerFrame(r),
    ]);
  }
  return list;
}

/** The median over the rounds of `system`'s runs in `mode`. */
function medianOf(result: BenchResult, system: SystemId, mode: Mode, of: (run: RunResult) => Num) {
  const values = runsOf(result, system, mode)
    .map(of)
    .filter((v): v is number => v != null);
  return round(median(values), 3);
}

/** Every figure to compare, of each system run from both builds, in each mode. */
export function beforeAfter(result: BenchResult): BeforeAfter[] {
  return MODES.flatMap((mode) =>
    PAIRS.flatMap(([system, twin]) => {
      if (runsOf(result, twin, mode).length === 0) return [];
      const runs = [...runsOf(result, system, mode), ...runsOf(result, twin, mode)];
      return metrics(runs).map(([metric, unit, of]): BeforeAfter => {
        const after = medianOf(result, system, mode, of);
        const before = medianOf(result, twin, mode, of);
        return { system, mode, metric, unit, after, before, ratio: ratio(after, before) };
      });
    }),
  );
}

/** One figure as a line of the run's log. */
export function beforeAfterLine(row: BeforeAfter): string {
  return (
    `${SYSTEMS[row.system].label} / ${row.mode}, ${row.metric}: ${fmt(row.after, 2)} ${row.unit} ` +
    `now, ${fmt(row.before, 2)} before (after/before ${fmtX(row.ratio)})`
  );
}

/** The section, from `result` (which `source` names), or nothing if it has no `-before` run. */
export function beforeSection(result: BenchResult, source: string): string {
  if (!hasBefore(result)) return '';
  const { meta } = result;
  const commit = (git: { commit: string; dirty: boolean } | undefined) =>
    `commit ${git?.commit ?? '?'}${git?.dirty ? ' with uncommitted changes under src/' : ''}`;
  const out: string[] = [];
  out.push('## This build against the previous one');
  out.push('');
  out.push(
    `From \`${meta.command}\`, [\`${source}\`](../${source}): ${commit(meta.git)} against the ` +
      `build in \`${meta.before?.dist ?? '?'}\` (${commit(meta.before?.git)}), each system from ` +
      'both builds in the same run, one after the other, through the same steps (rounds alternate ' +
      'their order). Per-connection figures are counted as in the idle tables, CPU per frame as ' +
      'in the broadcast ones; medians over the rounds. After / before above 1: this build takes more.',
  );
  out.push('');
  const rows = beforeAfter(result);
  for (const mode of MODES) {
    for (const [system] of PAIRS) {
      const mine = rows.filter((r) => r.system === system && r.mode === mode);
      if (mine.length === 0) continue;
      out.push(`### ${SYSTEMS[system].label}, ${mode}`);
      out.push('');
      out.push(
        table(
          ['', 'This build', 'Before', 'After / before'],
          mine.map((r) => [
            `${r.metric} (${r.unit})`,
            fmt(r.after, 2),
            fmt(r.before, 2),
            fmtX(r.ratio),
          ]),
        ),
      );
      out.push('');
    }
  }
  return out.join('\n');
}
