import { type IncomingHttpHeaders, type IncomingMessage, request } from 'node:http';
import { type SseEvent, SseParser } from './sse-parser.js';
import { waitFor } from './wait-for.js';

/**
 * A raw SSE client: keeps the bytes, parses frames (see `SseParser`), and lets a test wait for
 * what it expects. Where the bytes on the wire matter, this rather than EventSource.
 */
export class RawSseClient {
  status = 0;
  headers: IncomingHttpHeaders = {};
  raw = '';
  readonly events: SseEvent[] = [];
  comments = 0;
  ended = false;
  private readonly parser = new SseParser(
    (event) => {
      if (this.light) delete event.data;
      this.events.push(event);
    },
    () => this.comments++,
  );
  private response: IncomingMessage | undefined;
  private readonly req;

  /** `light`: keeps no raw bytes and no data, only the events' ids and names (for bulk tests). */
  constructor(
    url: string,
    headers: Record<string, string> = {},
    private readonly light = false,
  ) {
    this.req = request(
      url,
      { headers: { accept: 'text/event-stream', ...headers } },
      (response) => {
        this.response = response;
        this.status = response.statusCode ?? 0;
        this.headers = response.headers;
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          if (!this.light) this.raw += chunk;
          this.parser.feed(chunk);
        });
        response.on('end', () => (this.ended = true));
        response.on('close', () => (this.ended = true));
      },
    );
    this.req.on('error', () => (this.ended = true));
    this.req.end();
  }

  /** The data of `message` events (the default type), parsed. */
  get messages(): unknown[] {
    return this.events
      .filter((e) => e.event === undefined && e.data !== undefined)
      .map((e) => JSON.parse(e.data!));
  }

  get lastId(): string | undefined {
    return [...this.events].reverse().find((e) => e.id !== undefined)?.id;
  }

  async opened(): Promise<this> {
    await waitFor(() => this.status !== 0 || this.ended, 'the response');
    return this;
  }

  async waitForEvents(
    count: number,
    what = `${count} events`,
    timeoutMs?: number,
  ): Promise<SseEvent[]> {
    await waitFor(() => this.events.length >= count, what, timeoutMs);
    return this.events;
  }

  async waitForEvent(
    predicate: (event: SseEvent) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<SseEvent> {
    await waitFor(() => this.events.some(predicate), what, timeoutMs);
    return this.events.find(predicate)!;
  }

  close(): void {
    this.req.destroy();
    this.response?.destroy();
  }
}
