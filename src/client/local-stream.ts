import type { ServerEvent } from './event-stream-parser.js';
import { Listeners } from './listeners.js';
import type { StreamError, StreamState } from './types.js';

/** Ids remembered to drop an event a second source gives again: far more than a takeover overlaps. */
const REMEMBERED_IDS = 1000;

/** Where a connection puts what it reads: the tab's stream, or a tab's that shares it with others. */
export type StreamSink = Pick<LocalStream, 'state' | 'lastId' | 'deliver' | 'setState'>;

/**
 * The stream as this tab's app sees it: its state, the last id it saw, and each event once,
 * whether from its own connection or from the tab that holds the shared one (around a takeover
 * both may hand over the same events).
 */
export class LocalStream extends Listeners {
  state: StreamState = 'connecting';
  lastId: string | undefined;
  private readonly seen = new Set<string>();

  deliver({ id, event, data }: ServerEvent): void {
    // Closed by a listener, with more of the same chunk still to read.
    if (this.state === 'closed') return;
    if (id) {
      if (this.seen.has(id)) return;
      this.seen.add(id);
      if (this.seen.size > REMEMBERED_IDS) this.seen.delete(this.seen.values().next().value!);
    }
    // An empty id field clears the id to resume from, as in EventSource.
    if (id !== undefined) this.lastId = id || undefined;
    this.emit(event, parsed(data), { id: this.lastId, event });
  }

  setState(state: StreamState, error?: StreamError): void {
    if (this.state === 'closed' || state === this.state) return;
    this.state = state;
    if (error) this.emit('error', error);
    this.emit('state', state);
  }
}

/** The server sends JSON; anything else reaches the app as the text it was. */
function parsed(data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    return data;
  }
}
