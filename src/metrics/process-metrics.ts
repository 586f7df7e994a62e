import { Registry, collectDefaultMetrics } from 'prom-client';

let registry: Registry | undefined;

/**
 * Node's default metrics: CPU, memory, event loop, garbage collection. They describe the process,
 * not an app, and prom-client cannot stop collecting them once it has started (an event-loop
 * monitor and a GC observer live as long as the process). So they are collected once per
 * process, into a registry of their own rather than prom-client's global one, and every app's
 * registry holds these same metrics. With two apps scraped, the event-loop figures cover the time
 * since either was last scraped.
 */
export function processMetrics(): Registry {
  if (!registry) {
    registry = new Registry();
    collectDefaultMetrics({ register: registry });
  }
  return registry;
}
