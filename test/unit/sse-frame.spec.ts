import { SseFrame, encodeSseFields } from '../../src/sse/sse-frame.js';

describe('encodeSseFields', () => {
  it('writes id, event and data lines and ends the event with a blank line', () => {
    expect(encodeSseFields({ id: 'e.1-0', event: 'update', data: '{"a":1}' })).toBe(
      'id: e.1-0\nevent: update\ndata: {"a":1}\n\n',
    );
  });

  it('gives each line of data its own data: line, whatever the line ending', () => {
    expect(encodeSseFields({ data: 'a\nb\r\nc\rd' })).toBe(
      'data: a\ndata: b\ndata: c\ndata: d\n\n',
    );
  });

  it('keeps CR, LF and NUL out of id and event, so they cannot start a field', () => {
    expect(encodeSseFields({ id: 'x\nretry: 1', event: 'a\r\n\0b' })).toBe(
      'id: xretry: 1\nevent: ab\n\n',
    );
  });

  it('writes retry as a whole number, first in its block', () => {
    expect(encodeSseFields({ retry: 1500.7, event: 'connected', data: '1' })).toBe(
      'retry: 1500\nevent: connected\ndata: 1\n\n',
    );
  });
});

describe('SseFrame', () => {
  it('encodes once and adds HTTP/1.1 chunked framing around the same bytes', () => {
    const frame = new SseFrame({ id: '1', data: '"é"' });
    expect(frame.bytes.buffer).toBe(frame.chunk.buffer);
    expect(frame.bytes.byteOffset - frame.chunk.byteOffset).toBe(4);
    expect(frame.bytes.toString()).toBe('id: 1\ndata: "é"\n\n');
    expect(frame.chunk.toString()).toBe(
      `${frame.bytes.length.toString(16)}\r\nid: 1\ndata: "é"\n\n\r\n`,
    );
  });
});
