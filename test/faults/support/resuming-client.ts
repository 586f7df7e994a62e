import { type ClientRequest, request } from 'node:http';
import { type SseEvent, SseParser } from '../../support/sse-parser.js';
import type { Via } from './clients.js';

/**
 * One browser tab of a soak: it connects, drops, and comes back (to any instance) with the id of
 * the last event it received, as EventSource does, and keeps every frame of every connection.
 * Light on purpose: a hundred of them share the test's process with the instances.
 */
export class ResumingClient {
  /** Frames with data (messages, resets, connected), over all its connections, in order. */
  readonly frames: SseEvent[] = [];
  /** The id of the first `connected` frame: where what it is owed starts. */
  since: string | undefined;
  lastEventId: string | undefined;
  connections = 0;
  /** Responses other than 200. */
  refused = 0;
  /** Streams the server ended (it does, when it cannot serve one: the client is to come back). */
  endedByServer = 0;
  private readonly data = new Set<string>();
  private current: ClientRequest | undefined;

  constructor(
    readonly clientId: string,
    private readonly token: string,
  ) {}

  get connected(): boolean {
    return this.current !== undefined;
  }

  /** Whether a message frame with `data` has arrived. */
  has(data: string): boolean {
    return this.data.has(data);
  }

  connect(baseUrl: string, via: Via): void {
    this.disconnect();
    const query = new URLSearchParams({ token: this.token });
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (this.lastEventId !== undefined) {
      if (via === 'query') query.set('lastEventId', this.lastEventId);
      else headers['last-event-id'] = this.lastEventId;
    }
    // A parser per connection: an event cut off half-way by a disconnect was never received.
    const parser = new SseParser((frame) => this.received(frame));
    const req = request(`${baseUrl}/sse/msg?${query}`, { headers }, (response) => {
      if (response.statusCode !== 200) this.refused++;
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => this.current === req && parser.feed(chunk));
      response.on('error', () => undefined);
      response.on('close', ended);
    });
    const ended = () => {
      if (this.current !== req) return;
      this.endedByServer++;
      this.current = undefined;
    };
    req.on('error', ended);
    req.end();
    this.current = req;
    this.connections++;
  }

  /** Drops the connection at once, whatever it was in the middle of. */
  disconnect(): void {
    this.current?.destroy();
    this.current = undefined;
  }

  private received(frame: SseEvent): void {
    if (frame.id !== undefined) this.lastEventId = frame.id;
    if (frame.data === undefined) return;
    if (frame.event === 'connected' && frame.id !== undefined) this.since ??= frame.id;
    this.frames.push(frame);
    this.data.add(frame.data);
  }
}
