import { EventSource } from 'eventsource';
import type { ReceivedEvent, StreamRecord } from './membership-ledger.js';
import { waitFor } from './wait-for.js';

/** Events of the bus an EventSource dispatches by name: any but the first two is a finding. */
const NAMED_EVENTS = ['connected', 'topics', 'reset', 'closing', 'disconnect', 'busy'];

interface Connection extends StreamRecord {
  readonly events: ReceivedEvent[];
  start: string;
}

/**
 * A browser tab of a client: an EventSource on `GET /sse/msg` with its topics in the query, at
 * its home instance or another, closed and opened again with a `Last-Event-ID` as a test says,
 * each connection recorded from its start.
 */
export class LedgerTab {
  readonly connections: Connection[] = [];
  private source: EventSource | undefined;
  /** Errors the EventSource reported while open (a dropped connection it would retry). */
  errors = 0;

  constructor(
    readonly name: string,
    readonly clientId: string,
    readonly asked: readonly string[],
    readonly home: string,
    private readonly token: string,
  ) {}

  /** The id of the last event the tab got, or where its connection started. */
  get lastId(): string {
    const connection = this.connections.at(-1)!;
    return connection.events.at(-1)?.id ?? connection.start;
  }

  /**
   * A new connection (fresh, or resuming from `lastEventId`) to the instance at `baseUrl`;
   * resolves once `connected` came.
   */
  async open(lastEventId?: string, baseUrl = this.home): Promise<void> {
    this.close();
    const connection: Connection = {
      name: `${this.name}#${this.connections.length}`,
      clientId: this.clientId,
      asked: this.asked,
      start: lastEventId ?? '',
      events: [],
    };
    this.connections.push(connection);
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    // The EventSource's own Last-Event-ID, when it reconnects by itself, wins over this one.
    if (lastEventId) headers['Last-Event-ID'] = lastEventId;
    const query = this.asked.map((topic) => `topic=${topic}`).join('&');
    const source = new EventSource(`${baseUrl}/sse/msg?${query}`, {
      fetch: (input, init) => fetch(input, { ...init, headers: { ...headers, ...init?.headers } }),
    });
    this.source = source;
    // An event without an id (a resumed stream's `connected`) leaves the last id as it was, as
    // the EventSource of a browser keeps it.
    const record = ({ type, lastEventId: own, data }: MessageEvent) => {
      connection.events.push({ type, id: own || this.lastId, data });
      if (type === 'connected' && !lastEventId) connection.start = own;
    };
    source.onmessage = record;
    for (const name of NAMED_EVENTS) source.addEventListener(name, record);
    source.onerror = () => this.errors++;
    await waitFor(() => connection.events.length > 0, `${connection.name} to open`);
  }

  /** Waits for the message `{ marker }` on the open connection. */
  async received(marker: string): Promise<void> {
    const events = this.connections.at(-1)!.events;
    const data = JSON.stringify({ marker });
    await waitFor(() => events.some((event) => event.data === data), `${this.name}: ${marker}`);
  }

  close(): void {
    this.source?.close();
    this.source = undefined;
  }
}
