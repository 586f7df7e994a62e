import type { BusMessage } from '../../src/bus/bus-event.js';
import { formatEventId } from '../../src/bus/event-id.js';
import type { LogPosition } from '../../src/bus/log-position.js';
import { heldBytes } from '../../src/bus/message-size.js';
import { RecentWindow } from '../../src/bus/transports/recent-window.js';

const EPOCH = 'e1';

function message(ms: number, seq = 0, data = '"x"', to: string[] | null = null): BusMessage {
  const position = { ms, seq };
  return {
    kind: 'message',
    id: formatEventId(EPOCH, position),
    position,
    to,
    topics: null,
    event: undefined,
    data,
  };
}

const at = (position: LogPosition, epoch = EPOCH) => ({ epoch, ...position });
const ms = (page: readonly BusMessage[] | undefined) => page?.map((m) => m.position.ms);

/** A window started at 10-0 that has read the messages of ms 11..20. */
function filled(maxLength = 100, maxBytes = 1024 * 1024) {
  const window = new RecentWindow(maxLength, maxBytes);
  window.restart(EPOCH, { ms: 10, seq: 0 });
  for (let i = 11; i <= 20; i++) window.add(message(i));
  return window;
}

describe('RecentWindow', () => {
  it('gives what came after a cursor it holds, oldest first, a page at a time', () => {
    const window = filled();
    expect(ms(window.after(at({ ms: 15, seq: 0 }), 100))).toEqual([16, 17, 18, 19, 20]);
    expect(ms(window.after(at({ ms: 15, seq: 0 }), 2))).toEqual([16, 17]);
    // A cursor between two ids: what comes after it.
    expect(ms(window.after(at({ ms: 15, seq: 7 }), 2))).toEqual([16, 17]);
  });

  it('serves its start position and its last message: it holds everything after them', () => {
    const window = filled();
    expect(ms(window.after(at({ ms: 10, seq: 0 }), 100))).toHaveLength(10);
    expect(window.after(at({ ms: 20, seq: 0 }), 100)).toEqual([]);
    const fresh = new RecentWindow(100, 1024);
    fresh.restart(EPOCH, { ms: 10, seq: 0 });
    expect(fresh.after(at({ ms: 10, seq: 0 }), 100)).toEqual([]);
  });

  it('leaves a cursor from before what it holds to the log (expired or not is for it to say)', () => {
    expect(filled().after(at({ ms: 9, seq: 5 }), 100)).toBeUndefined();
  });

  it('leaves a cursor ahead of what this reader has read to the log', () => {
    const window = filled();
    expect(window.after(at({ ms: 20, seq: 1 }), 100)).toBeUndefined();
    expect(window.after(at({ ms: 25, seq: 0 }), 100)).toBeUndefined();
  });

  it('leaves a cursor of another epoch to the log', () => {
    expect(filled().after(at({ ms: 15, seq: 0 }, 'e2'), 100)).toBeUndefined();
  });

  it('holds nothing of the old run after a restart: a new epoch, or a reader that resynced', () => {
    const window = filled();
    window.restart('e2', { ms: 0, seq: 0 });
    expect(window.size).toBe(0);
    expect(window.after(at({ ms: 15, seq: 0 }), 100)).toBeUndefined();
    expect(window.after(at({ ms: 0, seq: 0 }, 'e2'), 100)).toEqual([]);
    window.restart(EPOCH, { ms: 20, seq: 0 });
    expect(window.after(at({ ms: 15, seq: 0 }), 100)).toBeUndefined();
    expect(window.after(at({ ms: 20, seq: 0 }), 100)).toEqual([]);
  });

  it('keeps at most maxLength messages: an older cursor goes to the log', () => {
    const window = filled(4);
    expect(window.size).toBe(4);
    expect(window.after(at({ ms: 15, seq: 0 }), 100)).toBeUndefined();
    // The last one dropped is where it holds everything after.
    expect(ms(window.after(at({ ms: 16, seq: 0 }), 100))).toEqual([17, 18, 19, 20]);
  });

  it('keeps at most maxBytes of messages, and may drop everything', () => {
    const window = new RecentWindow(100, 2 * heldBytes(message(11, 0, '"1234"')));
    window.restart(EPOCH, { ms: 10, seq: 0 });
    window.add(message(11, 0, '"1234"'));
    window.add(message(12, 0, '"1234"'));
    expect(ms(window.after(at({ ms: 10, seq: 0 }), 100))).toEqual([11, 12]);
    window.add(message(13, 0, '"1234"'));
    expect(window.after(at({ ms: 10, seq: 0 }), 100)).toBeUndefined();
    expect(ms(window.after(at({ ms: 11, seq: 0 }), 100))).toEqual([12, 13]);
    window.add(message(14, 0, JSON.stringify('more than the bound'.repeat(30))));
    expect(window.size).toBe(0);
    expect(window.after(at({ ms: 13, seq: 0 }), 100)).toBeUndefined();
    expect(window.after(at({ ms: 14, seq: 0 }), 100)).toEqual([]);
  });

  it('counts the whole of a message: its client ids, not only its data', () => {
    const window = new RecentWindow(100, 64 * 1024);
    window.restart(EPOCH, { ms: 10, seq: 0 });
    const ids = Array.from({ length: 1000 }, (_, i) => `client-${i}`.padEnd(64, '.'));
    window.add(message(11, 0, '1', ids));
    window.add(message(12, 0, '1', ids));
    // 64 KB of ids each, one byte of data: only the newest fits.
    expect(window.size).toBe(0);
    window.add(message(13, 0, '1', ids.slice(0, 10)));
    window.add(message(14, 0, '1', ids.slice(0, 10)));
    expect(window.size).toBe(2);
  });

  it('drops what the age retention cut: a cursor on the last one cut missed nothing', () => {
    const window = filled();
    window.dropBefore(15);
    expect(window.after(at({ ms: 13, seq: 0 }), 100)).toBeUndefined();
    expect(ms(window.after(at({ ms: 14, seq: 0 }), 100))).toEqual([15, 16, 17, 18, 19, 20]);
    window.dropBefore(100);
    expect(window.size).toBe(0);
    expect(window.after(at({ ms: 20, seq: 0 }), 100)).toEqual([]);
  });

  it('stays in order over many drops (compacted as it goes)', () => {
    const window = new RecentWindow(3, 1024 * 1024);
    window.restart(EPOCH, { ms: 0, seq: 0 });
    for (let i = 1; i <= 5000; i++) window.add(message(i));
    expect(ms(window.after(at({ ms: 4997, seq: 0 }), 100))).toEqual([4998, 4999, 5000]);
  });
});
