import { eventStreamParser, type ServerEvent } from '../../src/client/event-stream-parser.js';

/** What the parser makes of `chunks`, fed one after the other. */
function parse(...chunks: string[]): { events: ServerEvent[]; retries: number[] } {
  const events: ServerEvent[] = [];
  const retries: number[] = [];
  const feed = eventStreamParser(
    (event) => events.push(event),
    (ms) => retries.push(ms),
  );
  chunks.forEach(feed);
  return { events, retries };
}

describe("the browser client's event stream parser", () => {
  it('reads the opening block and a message as the server writes them, the heartbeat between', () => {
    expect(
      parse(
        'retry: 3000\nid: e.1-0\nevent: connected\ndata: {"clientId":"a"}\n\n',
        ':\n',
        'id: e.2-0\ndata: {"n":1}\n\n',
      ),
    ).toEqual({
      events: [
        { id: 'e.1-0', event: 'connected', data: '{"clientId":"a"}' },
        { id: 'e.2-0', event: 'message', data: '{"n":1}' },
      ],
      retries: [3000],
    });
  });

  it('reads a block cut anywhere, a CRLF cut between its CR and LF included', () => {
    const text = 'id: 7\r\nevent: shipped\r\ndata: {"a":\r\ndata: 1}\r\n\r\n';
    for (let cut = 1; cut < text.length; cut++) {
      expect(parse(text.slice(0, cut), text.slice(cut)).events).toEqual([
        { id: '7', event: 'shipped', data: '{"a":\n1}' },
      ]);
    }
  });

  it('ends lines at CR alone too, and does not dispatch until the blank line', () => {
    expect(parse('data: a\rdata: b\r\r', 'data: c\r').events).toEqual([
      { event: 'message', data: 'a\nb' },
    ]);
  });

  it('dispatches no block without data, whatever else it had: a comment, an id, a retry, an event name', () => {
    expect(parse(':\n\n', 'id: 1\n\n', 'retry: 10\n\n', 'event: x\n\n')).toEqual({
      events: [],
      retries: [10],
    });
  });

  it('keeps data that is empty, or a space after the colon only once stripped, and a field without a colon', () => {
    expect(parse('data\n\n', 'data:\n\n', 'data:  two spaces\n\n').events).toEqual([
      { event: 'message', data: '' },
      { event: 'message', data: '' },
      { event: 'message', data: ' two spaces' },
    ]);
  });

  it('takes only the id of its own block, ignores an id with NUL and a retry that is not a number', () => {
    expect(parse('id: 1\ndata: a\n\n', 'data: b\n\n', 'id: x\0y\nretry: 1s\ndata: c\n\n')).toEqual({
      events: [
        { id: '1', event: 'message', data: 'a' },
        { event: 'message', data: 'b' },
        { event: 'message', data: 'c' },
      ],
      retries: [],
    });
  });

  it('ignores fields it does not know', () => {
    expect(parse('foo: bar\ndata: a\n\n').events).toEqual([{ event: 'message', data: 'a' }]);
  });
});
