import { runConnection } from './connection.js';
import type { ServerEvent } from './event-stream-parser.js';
import type { LocalStream, StreamSink } from './local-stream.js';
import { streamIdentity } from './stream-identity.js';
import type { ConnectOptions, StreamState } from './types.js';

/** What the tabs of one shared stream tell each other. */
type TabMessage =
  /** From the holder: an event of the stream, or its new state. */
  | { event: ServerEvent }
  | { state: StreamState; error?: string; status?: number }
  /** From a tab that joins, and the holder's answer to it alone. */
  | { hello: string }
  | { to: string; state: StreamState; lastId?: string; connected?: ServerEvent };

/**
 * One stream for every tab of this origin on the same URL and identity: the tab that holds the
 * Web Lock named after them connects, and hands every event and state over a BroadcastChannel of
 * the same name to the others. When it goes (closed, crashed, `close()`), the lock passes to a
 * tab that waited for it, which connects from the last id it saw: every tab sees every event, and
 * drops one it is given twice around the takeover. A stream the server ended for good ends in
 * every tab.
 */
export async function shareAcrossTabs(
  url: string,
  options: ConnectOptions,
  stream: LocalStream,
  signal: AbortSignal,
): Promise<void> {
  const token = typeof options.token === 'function' ? await options.token() : options.token;
  if (signal.aborted) return;
  const name = streamIdentity(url, token);
  const channel = new BroadcastChannel(name);
  signal.addEventListener('abort', () => channel.close());
  const tab = Math.random().toString(36).slice(2);
  let holding = false;
  let connected: ServerEvent | undefined;
  channel.onmessage = ({ data }: MessageEvent<TabMessage>) => {
    if ('event' in data) stream.deliver(data.event);
    else if ('hello' in data) {
      if (!holding) return;
      const { state, lastId } = stream;
      channel.postMessage({ to: data.hello, state, lastId, connected } satisfies TabMessage);
    } else if (!('to' in data)) {
      const { state, error, status } = data;
      stream.setState(state, error ? Object.assign(new Error(error), { status }) : undefined);
    } else if (data.to === tab) {
      stream.lastId ??= data.lastId;
      // The client id of a stream that opened before this tab came (its id is no message's).
      if (data.connected) stream.deliver({ ...data.connected, id: undefined });
      stream.setState(data.state);
    }
  };
  channel.postMessage({ hello: tab } satisfies TabMessage);
  const relay: StreamSink = {
    get state() {
      return stream.state;
    },
    get lastId() {
      return stream.lastId;
    },
    deliver(event) {
      if (event.event === 'connected') connected = event;
      channel.postMessage({ event } satisfies TabMessage);
      stream.deliver(event);
    },
    setState(state, error) {
      channel.postMessage({
        state,
        error: error?.message,
        status: error?.status,
      } satisfies TabMessage);
      stream.setState(state, error);
    },
  };
  await navigator.locks
    .request(name, { signal }, () => {
      holding = true;
      return runConnection(url, options, relay, signal);
    })
    // Closed while waiting for the lock.
    .catch(() => undefined);
}
