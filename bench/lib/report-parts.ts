/**
 * What the pages of the report share: formatting, the runs of a results file, tables, and the
 * metrics the targets use.
 */
import type { BenchResult, BroadcastStep, Mode, RunResult, TargetedStep } from './results.js';
import type { SystemId } from './servers.js';
import { median, round } from './stats.js';

/** The tables' columns, in order: a system from the previous build (`--before`) beside its own. */
export const ORDER: SystemId[] = [
  'sse-bus',
  'sse-bus-before',
  'sse-bus-own',
  'sse-bus-own-before',
  'nest-floor',
  'bare-http',
  'better-sse',
  'naive-nest',
];
export const MODES: Mode[] = ['embedded', 'redis'];

export type Num = number | null | undefined;

export function fmt(value: Num, digits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  const rounded = round(value, digits)!;
  return Math.abs(rounded) >= 1000 ? rounded.toLocaleString('en-US') : String(rounded);
}

export function fmtX(value: Num): string {
  return value == null ? '–' : `${fmt(value, 2)}x`;
}

export const verdict = (met: boolean | null) =>
  met === null ? 'not measured' : met ? '**met**' : '**missed**';

/** Runs of one system and mode, one per round. */
export function runsOf(result: BenchResult, system: SystemId, mode: Mode): RunResult[] {
  return result.runs.filter((r) => r.system === system && r.mode === mode);
}

export function rounds(result: BenchResult): number[] {
  return [...new Set(result.runs.map((r) => r.round))].sort();
}

export function runOf(
  result: BenchResult,
  system: SystemId,
  mode: Mode,
  roundNo: number,
): RunResult | undefined {
  return result.runs.find((r) => r.system === system && r.mode === mode && r.round === roundNo);
}

/** Median over rounds of a metric, and its range when there is more than one round. */
export function across(runs: RunResult[], metric: (run: RunResult) => Num, digits = 1): string {
  const values = runs.map(metric).filter((v): v is number => v != null && Number.isFinite(v));
  if (values.length === 0) return '–';
  const mid = fmt(median(values), digits);
  if (values.length === 1) return mid;
  return `${mid} (${fmt(Math.min(...values), digits)}–${fmt(Math.max(...values), digits)})`;
}

/** The distinct values `of` gives over every run of `mode`, in ascending order: a table's rows. */
export function valuesIn(
  result: BenchResult,
  mode: Mode,
  of: (run: RunResult) => number[],
): number[] {
  const values = result.runs.filter((r) => r.mode === mode).flatMap(of);
  return [...new Set(values)].sort((a, b) => a - b);
}

export function present(result: BenchResult, mode: Mode): SystemId[] {
  return ORDER.filter((system) => runsOf(result, system, mode).length > 0);
}

/** A section whose step failed: its lines so far, and why. */
export function failedStep(out: readonly string[], problem: string): string {
  return [...out, `The step failed: ${problem}`, ''].join('\n');
}

export function table(header: string[], rows: string[][]): string {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
}

// ---------- Metrics the targets use ----------

/** The rates every system delivers as offered: no backlog, so no batching, the same work. */
export const STEADY_RATES = [1, 5];

/** Server CPU over frames delivered, pooled over the broadcast steps (only `rates`, if given). */
export function pooledCpuPerFrame(run: RunResult | undefined, rates?: number[]): number | null {
  const steps = run?.broadcast.filter((s) => !rates || rates.includes(s.rate)) ?? [];
  if (steps.length === 0) return null;
  const cpu = steps.reduce((n, s) => n + s.serverCpuMs, 0);
  const frames = steps.reduce((n, s) => n + s.delivered, 0);
  return frames > 0 ? (cpu * 1000) / frames : null;
}

export function idleAt(run: RunResult | undefined, n: number) {
  return run?.idle.find((p) => p.n === n);
}

export function broadcastAt(run: RunResult | undefined, rate: number): BroadcastStep | undefined {
  return run?.broadcast.find((s) => s.rate === rate);
}

export function targetedAt(run: RunResult | undefined, n: number): TargetedStep[] {
  return run?.targeted.filter((s) => s.n === n) ?? [];
}

export function maxOkRate(steps: TargetedStep[]): number | null {
  const ok = steps.filter((s) => s.ok).map((s) => s.rate);
  return ok.length ? Math.max(...ok) : null;
}

export function lostEverywhere(run: RunResult): number {
  return [...run.broadcast, ...run.latencyByN, ...run.targeted].reduce((n, s) => n + s.lost, 0);
}

export interface Target {
  name: string;
  measured: string;
  met: boolean | null;
}
