/** How `GET /metrics` is served. */
export interface SseBusMetricsOptions {
  /** A bearer token every scrape must carry (`Authorization: Bearer <token>`). Unset: none. */
  token?: string;
}

/** Injection token of the `SseBusMetricsOptions` of a module that serves `GET /metrics`. */
export const SSE_BUS_METRICS_OPTIONS = Symbol('SSE_BUS_METRICS_OPTIONS');
