import { Counter, type Registry } from 'prom-client';

/**
 * A counter of `registry` whose value is read from `count` at scrape time, so that whatever
 * counts it adds to a plain number and calls nothing: `count` is one number, or one per value of
 * `label` (the keys of a record of counts).
 */
export function scrapedCounter(
  registry: Registry,
  name: string,
  help: string,
  count: (() => number) | { label: string; counts: Readonly<Record<string, number>> },
): void {
  new Counter({
    name,
    help,
    labelNames: typeof count === 'function' ? [] : [count.label],
    registers: [registry],
    collect() {
      this.reset();
      if (typeof count === 'function') return this.inc(count());
      for (const [value, n] of Object.entries(count.counts)) this.inc({ [count.label]: value }, n);
    },
  });
}
