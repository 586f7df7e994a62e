import { Histogram, Registry } from 'prom-client';
import { BucketHistogram } from '../../src/metrics/bucket-histogram.js';

const BOUNDS = [0.001, 0.01, 0.1, 1];

/** The text a registry serves for `metric` fed `values`. */
async function served(
  metric: (registry: Registry) => { observe(value: number): void },
  values: number[],
): Promise<string> {
  const registry = new Registry();
  const histogram = metric(registry);
  values.forEach((value) => histogram.observe(value));
  return registry.metrics();
}

describe('BucketHistogram', () => {
  it('is served as prom-client serves its own Histogram of the same observations', async () => {
    // On a bound, between bounds, past the last one, and zero.
    const values = [0, 0.001, 0.0015, 0.01, 0.05, 0.1, 0.7, 1, 3, 30];
    const own = await served((registry) => {
      const histogram = new BucketHistogram('lag_seconds', 'Lag.', BOUNDS);
      histogram.register(registry);
      return histogram;
    }, values);
    const prom = await served(
      (registry) =>
        new Histogram({
          name: 'lag_seconds',
          help: 'Lag.',
          buckets: BOUNDS,
          registers: [registry],
        }),
      values,
    );
    expect(own).toBe(prom);
    expect(own).toContain('lag_seconds_bucket{le="0.01"} 4');
    expect(own).toContain('lag_seconds_count 10');
  });

  it('times in seconds, and starts over when the registry is reset', async () => {
    const registry = new Registry();
    const histogram = new BucketHistogram('took_seconds', 'Took.', BOUNDS);
    histogram.register(registry);
    histogram.startTimer()();
    expect(await registry.metrics()).toContain('took_seconds_bucket{le="1"} 1');
    registry.resetMetrics();
    expect(await registry.metrics()).toContain('took_seconds_count 0');
  });
});
