/** Where a stream stands: `closed` is for good (`close()`, HTTP 204, or the server refused it). */
export type StreamState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/**
 * The data of each event name, as `connect<Events>()` takes it (an interface or a type) to type
 * what `on(name)` hands a listener. This, the default, lets any name through with `unknown` data.
 */
export type EventMap = Record<string, unknown>;

/** The events the server itself sends, whatever the app publishes. */
export interface ControlEvents {
  connected: { clientId: string };
  /** The history could not give everything that was missed: reload the app's state. */
  reset: { reason: string };
  /** The instance is full; the stream comes back after `retryMs` or so. */
  busy: { retryMs: number };
  /** The instance shuts down; the stream comes back after `retryMs` or so. */
  closing: { retryMs: number };
  /** The server ended the client's streams; blocked, the stream then closes for good (204). */
  disconnect: { reason: string };
  /** The server joined or left topics for the client: the stream's topics now. */
  topics: { topics: string[] };
}

/**
 * What came with an event besides its data: its id (without one of its own, the last before it,
 * as EventSource's `lastEventId`) and its name.
 */
export interface EventMeta {
  readonly id: string | undefined;
  /** `message` for an event published without a name. */
  readonly event: string;
}

/**
 * Why a stream closed for good: the server refused it (`status`: 4xx) or did not stream, or the
 * token function failed before the first connection.
 */
export interface StreamError extends Error {
  readonly status?: number;
}

export interface ConnectOptions {
  /**
   * Sent as `Authorization: Bearer`, never in the URL. A function is called again before every
   * reconnect, so that it can hand over a refreshed token.
   */
  token?: string | (() => string | Promise<string>);
  /** Cookies (`sse_token`) go with the request: `include` for another origin. Default `same-origin`. */
  credentials?: RequestCredentials;
  /** One stream for all tabs of this origin on the same URL and token. Default `true`. */
  shareTabs?: boolean;
}

export type Unsubscribe = () => void;

/** `Events` beside the server's own: what the app publishes, by event name. */
export type AllEvents<Events extends object> = Omit<ControlEvents, keyof Events> & Events;

export interface SseBusStream<Events extends object = EventMap> {
  readonly state: StreamState;
  on(name: 'state', listener: (state: StreamState) => void): Unsubscribe;
  on(name: 'error', listener: (error: StreamError) => void): Unsubscribe;
  on<Name extends keyof AllEvents<Events> & string>(
    name: Name,
    listener: (data: AllEvents<Events>[Name], meta: EventMeta) => void,
  ): Unsubscribe;
  /** Stops this tab's stream; another tab that shares it takes it over. */
  close(): void;
}
