/** One event as a block of the stream gives it: only the fields of that block. */
export interface SseEvent {
  id?: string;
  event?: string;
  data?: string;
  retry?: number;
}

/**
 * Parses an event stream as it comes, in chunks of text, per the WHATWG rules: lines end at CRLF,
 * LF or CR, a blank line ends an event, data lines join with LF. Unlike EventSource it reports
 * what a test checks the server for: every block with a field (an id or a retry alone too), with
 * the id of that block only, each comment, and a field the server has no business sending (thrown).
 */
export class SseParser {
  private line = '';
  private afterCr = false;
  private event: SseEvent | undefined;

  constructor(
    private readonly onEvent: (event: SseEvent) => void,
    private readonly onComment: () => void = () => undefined,
  ) {}

  feed(chunk: string): void {
    // A CRLF may be cut between two chunks: one line end, not two.
    const text = this.afterCr && chunk.startsWith('\n') ? chunk.slice(1) : chunk;
    if (chunk !== '') this.afterCr = chunk.endsWith('\r');
    const lines = (this.line + text).split(/\r\n|\n|\r/);
    this.line = lines.pop()!;
    for (const line of lines) this.take(line);
  }

  private take(line: string): void {
    if (line === '') {
      if (this.event) this.onEvent(this.event);
      this.event = undefined;
      return;
    }
    if (line.startsWith(':')) {
      this.onComment();
      return;
    }
    const colon = line.indexOf(':');
    const name = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    const event = (this.event ??= {});
    if (name === 'data') event.data = event.data === undefined ? value : `${event.data}\n${value}`;
    else if (name === 'id') event.id = value;
    else if (name === 'event') event.event = value;
    else if (name === 'retry') event.retry = Number(value);
    else throw new Error(`Unexpected field "${name}" in ${JSON.stringify(line)}`);
  }
}
