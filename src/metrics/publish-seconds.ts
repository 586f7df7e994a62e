import { Histogram } from 'prom-client';

/**
 * Injection token of the histogram of how long `MessageBus.publish()` takes, there only when the
 * module serves metrics: without them, publishing times nothing.
 */
export const PUBLISH_SECONDS = Symbol('PUBLISH_SECONDS');

export function publishSecondsHistogram(): Histogram {
  return new Histogram({
    name: 'sse_bus_publish_duration_seconds',
    help: 'Time from publish() to the message being in the log (or to publish() giving up).',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    // Registered by the app's own registry (MetricsService), never by prom-client's global one.
    registers: [],
  });
}
