import { BucketHistogram } from './bucket-histogram.js';

/**
 * Injection token of the histogram of how long `MessageBus.publish()` takes, there only when the
 * module serves metrics: without them, publishing times nothing.
 */
export const PUBLISH_SECONDS = Symbol('PUBLISH_SECONDS');

/** Registered by the app's own registry (MetricsService), never by prom-client's global one. */
export function publishSecondsHistogram(): BucketHistogram {
  return new BucketHistogram(
    'sse_bus_publish_duration_seconds',
    'Time from publish() to the message being in the log (or to publish() giving up).',
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  );
}
