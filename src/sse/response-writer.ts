import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { MessageEvent } from '@nestjs/common';
import type { Subscriber } from 'rxjs';
import type { SseFrame } from './sse-frame.js';

/**
 * Writes a stream's frames to its HTTP/1 socket as prebuilt bytes, bypassing Nest's per-event
 * formatting and per-event drain wait. Nest still owns the response: it sends the headers, ends
 * it when the stream completes, and unsubscribes when the client goes away.
 *
 * Nest sends the headers on a timer after it subscribes, so frames wait until then. Where the
 * socket cannot be written directly (HTTP/2), frames go to Nest as `MessageEvent`s instead.
 * A client whose unsent bytes pass `maxBufferedBytes` is disconnected: it will reconnect and
 * resume, rather than make the process hold a growing backlog for it.
 */
export class ResponseWriter {
  private readonly socket: Socket | undefined;
  private waiting: SseFrame[] | undefined;
  private waitingBytes = 0;
  private ending = false;
  private headersTimer: NodeJS.Timeout | undefined;
  private whenHeadersSent: (() => void) | undefined;
  private drained: Promise<void> | undefined;

  constructor(
    private readonly response: ServerResponse,
    private readonly maxBufferedBytes: number,
    private readonly out: Subscriber<MessageEvent>,
    private readonly onOverflow: () => void,
  ) {
    const direct = response.req?.httpVersionMajor === 1 && response.socket;
    this.socket = direct ? response.socket : undefined;
    if (this.socket) {
      this.waiting = [];
      this.headersTimer = setTimeout(() => this.flushOnceHeadersSent(), 1);
    }
  }

  write(frame: SseFrame): void {
    if (!this.socket) return this.out.next(frame.toMessageEvent());
    if (!this.waiting) return this.send(this.socket, frame);
    this.waiting.push(frame);
    this.waitingBytes += frame.bytes.length;
  }

  /** Completes the stream once every frame written so far is out. */
  end(): void {
    if (this.waiting) this.ending = true;
    else this.out.complete();
  }

  /**
   * Undefined while the client keeps up; otherwise a promise that settles once it has read
   * enough (or left), for producers that can wait, like a history replay.
   */
  whenWritable(): Promise<void> | undefined {
    const socket = this.socket;
    if (!socket) return undefined;
    if (this.waiting) {
      if (this.waitingBytes < this.maxBufferedBytes / 2) return undefined;
      return new Promise((resolve) => (this.whenHeadersSent = resolve));
    }
    if (socket.writableLength < this.maxBufferedBytes / 2 || socket.destroyed) return undefined;
    this.drained ??= new Promise<void>((resolve) => {
      const done = () => {
        socket.off('drain', done).off('close', done);
        this.drained = undefined;
        resolve();
      };
      socket.on('drain', done).on('close', done);
    });
    return this.drained;
  }

  dispose(): void {
    clearTimeout(this.headersTimer);
    // A replay waiting for the headers of a stream that is gone must not wait forever.
    this.whenHeadersSent?.();
  }

  private flushOnceHeadersSent(): void {
    if (!this.response.headersSent) {
      this.headersTimer = setTimeout(() => this.flushOnceHeadersSent(), 1);
      return;
    }
    const frames = this.waiting ?? [];
    this.waiting = undefined;
    frames.forEach((frame) => this.send(this.socket!, frame));
    this.whenHeadersSent?.();
    if (this.ending) this.out.complete();
  }

  private send(socket: Socket, frame: SseFrame): void {
    if (socket.destroyed) return;
    socket.write(this.response.chunkedEncoding ? frame.chunk : frame.bytes);
    if (socket.writableLength > this.maxBufferedBytes) {
      socket.destroy();
      this.onOverflow();
    }
  }
}
