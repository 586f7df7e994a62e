import type { Socket } from 'node:net';

/**
 * What waits for the client of a stream that Nest writes (`@Sse()`): the bytes of the events
 * handed to Nest that the socket has not taken yet, plus those the socket holds. Events are
 * counted at their smallest wire size, so a client that reads is never cut off by a miscount,
 * and one that stopped reading still passes the limit soon.
 */
export class SocketBacklog {
  private owed = 0;
  private taken: number;
  private uncheckedBytes = 0;
  /** Whether the client was cut off for falling too far behind. */
  overflowed = false;

  constructor(
    private readonly socket: Socket,
    private readonly maxBytes: number,
    private readonly onOverflow: () => void,
  ) {
    this.taken = socket.bytesWritten;
  }

  /** Counts an event handed to Nest; past the limit, the client is cut off. */
  add(bytes: number): void {
    this.owed += bytes;
    this.uncheckedBytes += bytes;
    // Counting what the socket took costs a walk of its buffer: once per eighth of the limit.
    if (this.uncheckedBytes < this.maxBytes / 8) return;
    this.uncheckedBytes = 0;
    if (this.bytes() > this.maxBytes && !this.socket.destroyed) {
      this.socket.destroy();
      this.overflowed = true;
      this.onOverflow();
    }
  }

  /**
   * Undefined while the client keeps up; otherwise a promise that settles once more has gone
   * out (or the client left), for producers that can wait, like a history replay.
   */
  whenWritable(): Promise<void> | undefined {
    const socket = this.socket;
    if (socket.destroyed || this.bytes() < this.maxBytes / 2) return undefined;
    // While the socket is not full, what waits is in Nest's queue, which empties within the turn.
    if (!socket.writableNeedDrain) return new Promise((resolve) => setImmediate(resolve));
    return new Promise<void>((resolve) => {
      const done = () => {
        socket.off('drain', done).off('close', done);
        resolve();
      };
      socket.on('drain', done).on('close', done);
    });
  }

  private bytes(): number {
    const taken = this.socket.bytesWritten;
    this.owed = Math.max(0, this.owed - (taken - this.taken));
    this.taken = taken;
    return this.owed + this.socket.writableLength;
  }
}
