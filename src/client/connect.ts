import { runConnection } from './connection.js';
import { LocalStream } from './local-stream.js';
import { shareAcrossTabs } from './tab-sharing.js';
import type { ConnectOptions, EventMap, SseBusStream } from './types.js';

/**
 * Opens the stream at `url` (relative to the page) and keeps it open: across reconnects, from the
 * last id seen, and by default shared by the tabs of this origin that connect to the same URL with
 * the same token. Each tab connects on its own without Web Locks or BroadcastChannel.
 */
export function connect<Events extends object = EventMap>(
  url: string,
  options: ConnectOptions = {},
): SseBusStream<Events> {
  const stream = new LocalStream();
  const stop = new AbortController();
  stream.on('state', (state: string) => state === 'closed' && stop.abort());
  const shared =
    options.shareTabs !== false && typeof BroadcastChannel === 'function' && navigator.locks;
  (shared ? shareAcrossTabs : runConnection)(
    new URL(url, location.href).href,
    options,
    stream,
    stop.signal,
  ).catch((error: Error) => stream.setState('closed', error));
  return {
    get state() {
      return stream.state;
    },
    on: (name: string, listener: (...args: never[]) => void) => stream.on(name, listener),
    close: () => stream.setState('closed'),
  } as SseBusStream<Events>;
}
