import type { Redis } from 'ioredis';

/** Commands Redis has run, by name, but `INFO` itself (the test's own). */
export async function commandsRun(admin: Redis): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const [, name, calls] of (await admin.info('commandstats')).matchAll(
    /^cmdstat_(\S+?):calls=(\d+)/gm,
  )) {
    if (name !== 'info') counts.set(name, Number(calls));
  }
  return counts;
}

/** Commands run between two `commandsRun`, but those named in `except`. */
export function commandsBetween(
  before: Map<string, number>,
  after: Map<string, number>,
  except: readonly string[] = [],
): number {
  let total = 0;
  for (const [name, calls] of after) {
    if (!except.includes(name)) total += calls - (before.get(name) ?? 0);
  }
  return total;
}

/** Reads of a log's history between two `commandsRun`: only the history script runs XRANGE. */
export function historyReadsBetween(
  before: Map<string, number>,
  after: Map<string, number>,
): number {
  return (after.get('xrange') ?? 0) - (before.get('xrange') ?? 0);
}
