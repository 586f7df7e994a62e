import type { BusEvent } from '../bus/bus-event.js';
import { SseFrame } from './sse-frame.js';
import { type StreamEncoding, topicsData } from './stream-encoding.js';

const frames = new WeakMap<BusEvent, SseFrame>();
/** Frames without their id, for streams whose ids are their own. */
const bodies = new WeakMap<BusEvent, SseFrame>();

/**
 * The frame of a bus event, built once per process however many clients receive it; `id`
 * undefined for the frame without its id.
 */
function frameOf(event: BusEvent, id: string | undefined, cache: typeof frames): SseFrame {
  let frame = cache.get(event);
  if (!frame) {
    frame =
      event.kind === 'message'
        ? new SseFrame({ id, event: event.event, data: event.data })
        : new SseFrame({ id, event: 'reset', data: JSON.stringify({ reason: event.reason }) });
    cache.set(event, frame);
  }
  return frame;
}

/**
 * `GET /sse/msg`'s stream, as bytes built once per process and written as they are. Every block
 * that ends an event carries data: `retry` rides on `connected` and on `closing`, and the heartbeat
 * is a comment line that ends nothing, because some parsers hand a block without data to the app
 * as an empty message, which its `JSON.parse` throws on.
 */
export const FRAME_ENCODING: StreamEncoding<SseFrame> = {
  opening(retryMs, clientId, id, resumes) {
    // A resuming client's own Last-Event-ID stands until the replay moves it on.
    const connected = { retry: retryMs, id: resumes ? undefined : id, event: 'connected' };
    return [new SseFrame({ ...connected, data: JSON.stringify({ clientId }) })];
  },
  event: (event, id) =>
    id === event.id
      ? frameOf(event, id, frames)
      : SseFrame.withId(frameOf(event, undefined, bodies), id),
  topics: (topics, id) => new SseFrame({ id, event: 'topics', data: topicsData(topics) }),
  heartbeat: new SseFrame({}, [Buffer.from(':\n')]),
  closing: (retryMs) =>
    new SseFrame({ retry: retryMs, event: 'closing', data: JSON.stringify({ retryMs }) }),
  busy: (retryMs) =>
    new SseFrame({ retry: retryMs, event: 'busy', data: JSON.stringify({ retryMs }) }),
};
