import type { BenchResult } from './results.js';

export function writeReport(result: BenchResult, source: string): string[] {
  void result;
  void source;
  return [];
}
