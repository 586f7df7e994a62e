/** The fields of one server-sent event. */
export interface SseFields {
  readonly id?: string;
  readonly event?: string;
  readonly data?: string;
  readonly retry?: number;
}

const CRLF = Buffer.from('\r\n');

/**
 * One event, encoded once and written as the same bytes to every connection that gets it.
 * `chunk` carries HTTP/1.1 chunked framing too, which depends on nothing but the bytes.
 */
export class SseFrame {
  private chunked: Buffer | undefined;
  private headLength = 0;

  /** `parts`: the event's bytes, in pieces, when they are not to be encoded from `fields`. */
  constructor(
    readonly fields: SseFields,
    private readonly parts?: readonly Buffer[],
  ) {}

  /**
   * `body`'s event with an id of its own: for a stream whose ids are its own, the rest of the
   * event is encoded once however many streams carry it, and copied once into this frame.
   */
  static withId(body: SseFrame, id: string): SseFrame {
    return new SseFrame({}, [Buffer.from(`id: ${oneLine(id)}\n`), body.bytes]);
  }

  /** The encoded event: a view into `chunk`, so that a frame holds its bytes once. */
  get bytes(): Buffer {
    const chunk = this.chunk;
    return chunk.subarray(this.headLength, chunk.length - 2);
  }

  get chunk(): Buffer {
    if (!this.chunked) {
      const parts = this.parts ?? [Buffer.from(encodeSseFields(this.fields))];
      const length = parts.reduce((sum, part) => sum + part.length, 0);
      const head = Buffer.from(`${length.toString(16)}\r\n`);
      this.headLength = head.length;
      this.chunked = Buffer.concat([head, ...parts, CRLF], head.length + length + CRLF.length);
    }
    return this.chunked;
  }
}

/**
 * Encodes an event per the WHATWG rules. `data` gets one line per line it holds, so nothing in it
 * can end the event or start a field; `id` and `event` lose any CR, LF or NUL.
 */
export function encodeSseFields({ id, event, data, retry }: SseFields): string {
  let text = retry === undefined ? '' : `retry: ${Math.max(0, Math.floor(retry))}\n`;
  if (id !== undefined) text += `id: ${oneLine(id)}\n`;
  if (event !== undefined) text += `event: ${oneLine(event)}\n`;
  if (data !== undefined) text += lines('data: ', data);
  return `${text}\n`;
}

function lines(prefix: string, value: string): string {
  return value
    .split(/\r\n|\r|\n/)
    .map((line) => `${prefix}${line}\n`)
    .join('');
}

function oneLine(value: string): string {
  return value.replace(/[\r\n\0]/g, '');
}
