import type { ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { ResponseWriter } from '../../src/sse/response-writer.js';
import { SseFrame } from '../../src/sse/sse-frame.js';

/** A socket that records each write it makes: one entry per system call it would make. */
class RecordingSocket extends Writable {
  readonly writes: string[][] = [];

  override _write(chunk: Buffer, _: BufferEncoding, done: () => void): void {
    this.writes.push([chunk.toString()]);
    done();
  }

  override _writev(chunks: { chunk: Buffer }[], done: () => void): void {
    this.writes.push(chunks.map(({ chunk }) => chunk.toString()));
    done();
  }

  setTimeout(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  setNoDelay(): this {
    return this;
  }
}

function writerOn(socket: RecordingSocket, maxBufferedBytes = 1024 * 1024) {
  const response = {
    req: { httpVersionMajor: 1, method: 'GET' },
    socket,
    chunkedEncoding: false,
    writeHead: () => response,
    flushHeaders: () => undefined,
  };
  return new ResponseWriter(response as unknown as ServerResponse, {}, maxBufferedBytes);
}

const frame = (data: string) => new SseFrame({ data });
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('ResponseWriter', () => {
  it('sends the first frame of a turn at once and the rest of the turn together', async () => {
    const socket = new RecordingSocket();
    const writer = writerOn(socket);
    writer.write(frame('1'));
    expect(socket.writes).toEqual([['data: 1\n\n']]);
    writer.write(frame('2'));
    writer.write(frame('3'));
    expect(socket.writes).toHaveLength(1);
    await nextTurn();
    expect(socket.writes).toEqual([['data: 1\n\n'], ['data: 2\n\n', 'data: 3\n\n']]);
    writer.write(frame('4'));
    expect(socket.writes.at(-1)).toEqual(['data: 4\n\n']);
  });

  it('cuts off a client whose unsent bytes pass maxBufferedBytes', () => {
    const socket = new RecordingSocket({ highWaterMark: 1 });
    // A socket that never finishes a write: everything after the first waits.
    socket._write = () => undefined;
    const writer = writerOn(socket, 64);
    for (let n = 0; n < 10 && !socket.destroyed; n++) writer.write(frame('x'.repeat(20)));
    expect(socket.destroyed).toBe(true);
  });
});
