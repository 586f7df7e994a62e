/** Injection token of the resolved `SseBusOptions`. */
export const SSE_BUS_OPTIONS = Symbol('SSE_BUS_OPTIONS');
