import { Counter, type Registry } from 'prom-client';

/**
 * A counter of `registry` whose value is read from `count` at scrape time, so that whatever
 * counts it adds to a plain number and calls nothing.
 */
export function scrapedCounter(
  registry: Registry,
  name: string,
  help: string,
  count: () => number,
): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(count());
    },
  });
}

/** A counter of `registry` with one value per key of `counts`, under the label `label`. */
export function scrapedCounterBy(
  registry: Registry,
  name: string,
  help: string,
  label: string,
  counts: Readonly<Record<string, number>>,
): void {
  new Counter({
    name,
    help,
    labelNames: [label],
    registers: [registry],
    collect() {
      this.reset();
      for (const [value, count] of Object.entries(counts)) this.inc({ [label]: value }, count);
    },
  });
}
