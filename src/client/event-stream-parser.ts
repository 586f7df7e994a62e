/** One event of a stream: its data, its name (`message` without one), and its own id if it had one. */
export interface ServerEvent {
  id?: string;
  event: string;
  data: string;
}

/**
 * Reads an event stream chunk by chunk as the WHATWG rules do: lines end at CRLF, LF or CR, a blank
 * line ends an event, data lines join with LF, a block without data is no event. The text comes
 * already decoded (TextDecoderStream drops a leading BOM). An event's id is its block's own: the
 * server gives every message one, and a resumed stream's `connected` none, which must not be taken
 * for the message before it.
 */
export function eventStreamParser(
  onEvent: (event: ServerEvent) => void,
  onRetry: (ms: number) => void,
): (chunk: string) => void {
  let pending = '';
  let event: Partial<ServerEvent> = {};
  const take = (line: string) => {
    if (line === '') {
      const { id, event: name, data } = event;
      if (data !== undefined) onEvent({ id, event: name || 'message', data });
      event = {};
      return;
    }
    const colon = line.indexOf(':');
    // A comment: the heartbeat.
    if (colon === 0) return;
    const name = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + (line[colon + 1] === ' ' ? 2 : 1));
    if (name === 'data') event.data = event.data === undefined ? value : `${event.data}\n${value}`;
    else if (name === 'event') event.event = value;
    else if (name === 'id' && !value.includes('\0')) event.id = value;
    else if (name === 'retry' && /^\d+$/.test(value)) onRetry(Number(value));
  };
  return (chunk) => {
    pending += chunk;
    let end = 0;
    // A CR at the very end waits for the next chunk: it may be the first half of a CRLF.
    for (const match of pending.matchAll(/([^\r\n]*)(?:\r\n|\r(?!$)|\n)/g)) {
      take(match[1]);
      end = match.index + match[0].length;
    }
    pending = pending.slice(end);
  };
}
