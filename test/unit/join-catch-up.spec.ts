import { Subject } from 'rxjs';
import { BusCounters } from '../../src/bus/bus-counters.js';
import type { BusEvent, BusMessage } from '../../src/bus/bus-event.js';
import { ClientRouter } from '../../src/bus/client-router.js';
import { type CatchUpSource, withJoinCatchUps } from '../../src/bus/join-catch-up.js';
import {
  type Member,
  applyTopicChange,
  moveTopics,
  topicEffectOf,
  topicMarkerOf,
} from '../../src/bus/topic-change.js';
import { VectorLease } from '../../src/bus/vector-lease.js';

const log = {
  digest: 'd',
  shardOf: () => 1,
  want: () => undefined,
  release: () => undefined,
};

const on = (shard: number, ms: number, extra: Partial<BusMessage> = {}): BusMessage => ({
  kind: 'message',
  id: `${shard}.${ms}`,
  position: { ms, seq: 0 },
  to: null,
  topics: null,
  event: undefined,
  data: `${shard}:${ms}`,
  shard,
  ...extra,
});

describe('a stream whose client joins topics on a sharded log', () => {
  it('is given what it is owed on them first, then what came meanwhile, minus what it has', async () => {
    const source$ = new Subject<BusEvent>();
    const stream: Member = { clientId: 'alice', topics: new Set(['base']) };
    const lease = new VectorLease(
      log,
      new Map([
        [0, { ms: 1, seq: 0 }],
        [1, { ms: 3, seq: 0 }],
      ]),
      [],
      undefined,
    );
    let owe!: (entries: BusMessage[]) => void;
    const owed = new Promise<BusMessage[]>((resolve) => (owe = resolve));
    const asked: string[][] = [];
    const catchUps: CatchUpSource = {
      async *catchUp(_message, _change, joined) {
        asked.push([...joined]);
        yield* await owed;
      },
    };
    const got: string[] = [];
    withJoinCatchUps(source$, catchUps, stream, lease).subscribe((event) => {
      // What the stream does with each: applies a change, and moves its place.
      const effect = event.kind === 'message' ? topicEffectOf(event) : undefined;
      if (effect) stream.topics = applyTopicChange(stream.topics, effect);
      lease.advance(event);
      got.push(event.kind === 'message' ? event.data.slice(0, 8) : 'reset');
    });
    const change = on(0, 2, {
      to: ['alice'],
      event: 'topics',
      data: JSON.stringify({ join: ['news', 'base'], leave: [] }),
    });
    source$.next(change);
    // Heard while it catches up: held back.
    source$.next(on(1, 5, { topics: ['news'] }));
    source$.next(on(0, 3));
    source$.next(on(1, 6, { topics: ['news'] }));
    expect(got).toEqual(['{"join":']);
    expect(asked).toEqual([['news']]);
    // Owed: a message on the joined topic from before where it stood, then on from there.
    owe([
      on(1, 2, { topics: ['news'] }),
      on(1, 4, { topics: ['news'] }),
      on(1, 5, { topics: ['news'] }),
    ]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(got).toEqual(['{"join":', '1:2', '1:4', '1:5', '0:3', '1:6']);
    // Once caught up, a message it has is dropped, and one on a topic it is not on.
    source$.next(on(1, 6, { topics: ['news'] }));
    source$.next(on(1, 7, { topics: ['sport'] }));
    source$.next(on(1, 8, { topics: ['news'] }));
    expect(got.slice(6)).toEqual(['1:8']);
    expect(lease.positionOn(1)).toEqual({ ms: 8, seq: 0 });
  });

  it('judges a message to the client by the changes given before it, held back or not', async () => {
    const source$ = new Subject<BusEvent>();
    const stream: Member = { clientId: 'alice', topics: new Set(['far']) };
    const lease = new VectorLease(log, new Map([[0, { ms: 1, seq: 0 }]]), [], undefined);
    let owe!: (entries: BusMessage[]) => void;
    const owed = new Promise<BusMessage[]>((resolve) => (owe = resolve));
    const catchUps: CatchUpSource = {
      async *catchUp() {
        yield* await owed;
      },
    };
    const got: string[] = [];
    withJoinCatchUps(source$, catchUps, stream, lease).subscribe((event) => {
      const effect = event.kind === 'message' ? topicEffectOf(event) : undefined;
      if (effect) Object.assign(stream, moveTopics(stream, event as BusMessage, effect));
      lease.advance(event);
      got.push(event.kind === 'message' ? event.data.slice(0, 8) : 'reset');
    });
    const changed = (ms: number, join: string[], leave: string[], shard: number) =>
      on(0, ms, {
        to: ['alice'],
        event: 'topics',
        data: JSON.stringify({
          join,
          leave,
          markers: [{ shard, id: '1-0', topics: [...join, ...leave] }],
        }),
      });
    source$.next(changed(2, ['news'], [], 1));
    // Met while the join catches up (as a replay meets them): judged once the change before is given.
    source$.next(changed(3, [], ['far'], 2));
    source$.next(on(0, 4, { to: ['alice'], topics: ['far'] }));
    source$.next(on(0, 5, { to: ['alice'], topics: ['news'] }));
    expect(got).toEqual(['{"join":']);
    owe([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(got).toEqual(['{"join":', '{"join":', '0:5']);
    // The routing set keeps the far topic until its leave's marker; the client's messages do not.
    expect(stream).toMatchObject({
      topics: new Set(['far', 'news']),
      clientTopics: new Set(['news']),
    });
  });
});

describe('a stream whose client leaves a far topic and joins it again before it meets the leave', () => {
  it("is off the topic from the leave's marker to the join's, and on it again after", () => {
    const source$ = new Subject<BusEvent>();
    const router = new ClientRouter(source$, new BusCounters());
    const stream: Member = { clientId: 'alice', topics: new Set(['far']) };
    const lease = new VectorLease(
      log,
      new Map([
        [0, { ms: 1, seq: 0 }],
        [1, { ms: 1, seq: 0 }],
      ]),
      [],
      undefined,
    );
    const asked: string[][] = [];
    const catchUps: CatchUpSource = {
      // eslint-disable-next-line require-yield
      async *catchUp(_message, _change, joined) {
        asked.push([...joined]);
      },
    };
    const got: string[] = [];
    const view$ = router.view({ clientId: stream.clientId, topics: stream.topics });
    withJoinCatchUps(view$, catchUps, stream, lease).subscribe((event) => {
      // What a stream does with each (see BusStream): applies a change or marker, moves its place.
      const effect = event.kind === 'message' ? topicEffectOf(event) : undefined;
      if (effect) Object.assign(stream, moveTopics(stream, event as BusMessage, effect));
      lease.advance(event);
      if (event.kind === 'message' && !topicMarkerOf(event)) got.push(event.data.slice(0, 12));
    });
    const change = (ms: number, join: string[], leave: string[], marker: string) =>
      on(0, ms, {
        to: ['alice'],
        event: 'topics',
        data: JSON.stringify({ join, leave, markers: [{ shard: 1, id: marker, topics: ['far'] }] }),
      });
    const marker = (ms: number, join: string[], leave: string[]) =>
      on(1, ms, {
        to: ['alice'],
        topics: ['far'],
        event: 'topics',
        data: JSON.stringify({ join, leave }),
      });
    // Both changes read on the client's shard before the leave's marker on the topic's.
    source$.next(change(2, [], ['far'], '3-0'));
    source$.next(change(4, ['far'], [], '5-0'));
    source$.next(on(1, 2, { topics: ['far'] }));
    source$.next(marker(3, [], ['far']));
    source$.next(on(1, 4, { topics: ['far'] }));
    source$.next(marker(5, ['far'], []));
    source$.next(on(1, 6, { topics: ['far'] }));
    expect(got).toEqual(['{"join":[],"', '{"join":["fa', '1:2', '1:6']);
    expect(stream.topics).toEqual(new Set(['far']));
    // Still on it: nothing to catch up with.
    expect(asked).toEqual([]);
  });
});
