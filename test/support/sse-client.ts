import { type IncomingHttpHeaders, type IncomingMessage, request } from 'node:http';
import { waitFor } from './wait-for.js';

export interface SseEvent {
  id?: string;
  event?: string;
  data?: string;
  retry?: number;
}

/**
 * A raw SSE client: keeps the bytes, parses frames per the WHATWG rules, and lets a test wait
 * for what it expects. Where the bytes on the wire matter, this rather than EventSource.
 */
export class RawSseClient {
  status = 0;
  headers: IncomingHttpHeaders = {};
  raw = '';
  readonly events: SseEvent[] = [];
  comments = 0;
  ended = false;
  private buffer = '';
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
        response.on('data', (chunk: string) => this.feed(chunk));
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

  private feed(chunk: string): void {
    if (!this.light) this.raw += chunk;
    this.buffer += chunk;
    const blocks = this.buffer.split(/\r\n\r\n|\n\n|\r\r/);
    this.buffer = blocks.pop() ?? '';
    for (const block of blocks) this.parse(block);
  }

  private parse(block: string): void {
    const event: SseEvent = {};
    let data: string[] | undefined;
    let fields = 0;
    for (const line of block.split(/\r\n|\n|\r/)) {
      if (line === '') continue;
      if (line.startsWith(':')) {
        this.comments++;
        continue;
      }
      const colon = line.indexOf(':');
      const name = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      fields++;
      if (name === 'data') (data ??= []).push(value);
      else if (name === 'id') event.id = value;
      else if (name === 'event') event.event = value;
      else if (name === 'retry') event.retry = Number(value);
      else throw new Error(`Unexpected field "${name}" in ${JSON.stringify(block)}`);
    }
    if (data && !this.light) event.data = data.join('\n');
    if (fields > 0) this.events.push(event);
  }
}
