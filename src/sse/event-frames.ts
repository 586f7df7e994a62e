import type { BusEvent } from '../bus/bus-event.js';
import { SseFrame } from './sse-frame.js';

const frames = new WeakMap<BusEvent, SseFrame>();

/** The frame of a bus event, built once per process however many clients receive it. */
export function frameOf(event: BusEvent): SseFrame {
  let frame = frames.get(event);
  if (!frame) {
    frame =
      event.kind === 'message'
        ? new SseFrame({ id: event.id, event: event.event, data: event.data })
        : new SseFrame({
            id: event.id,
            event: 'reset',
            data: JSON.stringify({ reason: event.reason }),
          });
    frames.set(event, frame);
  }
  return frame;
}

/** The heartbeat: a comment, which clients ignore and proxies count as traffic. */
export const HEARTBEAT = new SseFrame({ comment: '' });

export function retryFrame(retryMs: number): SseFrame {
  return new SseFrame({ retry: retryMs });
}

/**
 * Tells the client who it is. `id` is where it would resume from; it is left out when the client
 * resumes, so its own Last-Event-ID stands until the replay moves it on.
 */
export function connectedFrame(clientId: string, id: string | undefined): SseFrame {
  return new SseFrame({ id, event: 'connected', data: JSON.stringify({ clientId }) });
}

/** The instance is full or closing: come back after `retryMs`. */
export function busyFrame(retryMs: number): SseFrame {
  return new SseFrame({ retry: retryMs, event: 'busy', data: JSON.stringify({ retryMs }) });
}

/** A random delay from `baseMs` to `baseMs + spreadMs`, so clients do not all return at once. */
export function jitter(baseMs: number, spreadMs: number): number {
  return baseMs + Math.floor(Math.random() * (spreadMs + 1));
}
