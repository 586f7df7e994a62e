import type { BusMessage } from '../../src/bus/bus-event.js';
import { clientChannel, designatedShard, shardOf, topicChannel } from '../../src/bus/channels.js';
import { VectorLease } from '../../src/bus/vector-lease.js';
import { epochsDigest, formatVectorId, parseVectorId } from '../../src/bus/vector-id.js';
import { isVisibleTo } from '../../src/bus/visibility.js';
import { MAX_SHARDS } from '../../src/config/sse-bus.options.js';

const log = {
  digest: epochsDigest(['a', 'b']),
  wanted: [] as string[],
  released: [] as string[],
  shardOf: (channel: string) => shardOf(channel, 8),
  want(channels: readonly string[]) {
    this.wanted.push(...channels);
    return undefined;
  },
  release(channels: readonly string[]) {
    this.released.push(...channels);
  },
};

const message = (
  shard: number,
  ms: number,
  seq = 0,
  extra: Partial<BusMessage> = {},
): BusMessage => ({
  kind: 'message',
  id: `m${shard}.${ms}`,
  position: { ms, seq },
  to: null,
  topics: null,
  event: undefined,
  data: '{}',
  shard,
  ...extra,
});

describe('vector ids', () => {
  it('fit a position on every shard into 128 characters an EventSource keeps as they are', () => {
    const now = Date.now();
    const positions = new Map(
      Array.from({ length: MAX_SHARDS }, (_, shard) => [shard, { ms: now, seq: 99_999 }]),
    );
    const id = formatVectorId(epochsDigest(['x'.repeat(8)]), positions);
    expect(id).toMatch(/^[A-Za-z0-9._-]{1,128}$/);
    expect(parseVectorId(id)).toEqual({ digest: epochsDigest(['x'.repeat(8)]), positions });
  });

  it.each([
    '',
    'abc',
    'abc.',
    'abc.9zz-0',
    'abc.0zz-0_0',
    'abc.0zz',
    `abc.${'0a-0_'.repeat(9)}0a-0`,
    'a b.0z-0',
  ])('are not read from %p', (text) => expect(parseVectorId(text)).toBeUndefined());

  it("name a join's catch-up cursor after the positions, and mean what they did without one", () => {
    const positions = new Map([
      [0, { ms: 1_700_000_000_000, seq: 3 }],
      [5, { ms: 1_700_000_000_900, seq: 0 }],
    ]);
    const plain = formatVectorId('abc', positions);
    const catchUp = { shard: 5, position: { ms: 1_700_000_000_100, seq: 2 } };
    const id = formatVectorId('abc', positions, catchUp);
    expect(id).toBe(`${plain}.5m8-2`);
    expect(parseVectorId(id)).toEqual({ digest: 'abc', positions, catchUp });
    expect(parseVectorId(plain)).toEqual({ digest: 'abc', positions });
    // A cursor on a shard the id does not name is not one.
    expect(parseVectorId(`${plain}.3m8-2`)).toEqual({ digest: 'abc', positions });
    // With one on every shard, a minute back and within a thousand entries a millisecond, it fits.
    const now = Date.now();
    const all = new Map(
      Array.from({ length: MAX_SHARDS }, (_, shard) => [shard, { ms: now, seq: 999 }]),
    );
    const cursor = { shard: 7, position: { ms: now - 60_000, seq: 999 } };
    const long = formatVectorId(epochsDigest(['x']), all, cursor);
    expect(long).toMatch(/^[A-Za-z0-9._-]{1,128}$/);
  });

  it('name the changes of catch-ups within catch-ups, the innermost cursor, and fit two in 128', () => {
    const positions = new Map([
      [0, { ms: 1_700_000_000_000, seq: 3 }],
      [2, { ms: 1_700_000_009_000, seq: 1 }],
      [5, { ms: 1_700_000_000_900, seq: 0 }],
    ]);
    const catchUp = { shard: 5, position: { ms: 1_700_000_000_100, seq: 2 } };
    const changes = [
      { shard: 2, position: { ms: 1_700_000_000_000, seq: 4 } },
      { shard: 2, position: { ms: 1_700_000_008_000, seq: 0 } },
    ];
    const id = formatVectorId('abc', positions, catchUp, changes);
    // The innermost change a second back from the client's shard's place, the outer 8 s before it.
    expect(id).toBe(`${formatVectorId('abc', positions, catchUp)}.2rs-0_668-4`);
    expect(parseVectorId(id)).toEqual({ digest: 'abc', positions, catchUp, changes });
    // One change, where the client's shard's place is not: named too.
    const one = formatVectorId('abc', positions, catchUp, changes.slice(0, 1));
    expect(parseVectorId(one)).toEqual({
      digest: 'abc',
      positions,
      catchUp,
      changes: changes.slice(0, 1),
    });
    // Changes on a shard the id does not name: which joins the cursor is of is unknown.
    expect(parseVectorId(id.replace(/\.2rs/, '.3rs'))).toEqual({ digest: 'abc', positions });
    // Every shard, under 36 entries a millisecond, a minute back, two joins ten seconds apart.
    const now = Date.now();
    const all = new Map(
      Array.from({ length: MAX_SHARDS }, (_, shard) => [shard, { ms: now, seq: 35 }]),
    );
    const cursor = { shard: 7, position: { ms: now - 60_000, seq: 35 } };
    const nested = [20_000, 10_000].map((ago) => ({
      shard: 3,
      position: { ms: now - ago, seq: 35 },
    }));
    const long = formatVectorId(epochsDigest(['x']), all, cursor, nested);
    expect(long).toMatch(/^[A-Za-z0-9._-]{1,128}$/);
    expect(parseVectorId(long)).toEqual({
      digest: epochsDigest(['x']),
      positions: all,
      catchUp: cursor,
      changes: nested,
    });
  });

  it('differ in their digest when any shard has a new epoch', () => {
    expect(epochsDigest(['a', 'b'])).not.toBe(epochsDigest(['a', 'c']));
    expect(epochsDigest(['a', 'b'])).toMatch(/^[a-z0-9]{1,6}$/);
  });
});

describe('VectorLease', () => {
  const start = () =>
    new VectorLease(
      log,
      new Map([
        [0, { ms: 10, seq: 0 }],
        [3, { ms: 5, seq: 0 }],
      ]),
      ['b', 'c:x'],
      undefined,
    );

  it('moves the position of the shard an event came from, and says what the stream has', () => {
    const lease = start();
    expect(lease.has(message(3, 5))).toBe(true);
    expect(lease.has(message(3, 6))).toBe(false);
    const id = lease.advance(message(3, 6));
    expect(parseVectorId(id)!.positions).toEqual(
      new Map([
        [0, { ms: 10, seq: 0 }],
        [3, { ms: 6, seq: 0 }],
      ]),
    );
    expect(lease.has(message(3, 6))).toBe(true);
    // A shard the stream does not read: never had.
    expect(lease.has(message(1, 1))).toBe(false);
  });

  it('keeps the client id it was given until it moves, and takes a reset of every shard', () => {
    const lease = new VectorLease(
      log,
      new Map([[0, { ms: 1, seq: 0 }]]),
      ['b'],
      undefined,
      'given.00-0',
    );
    expect(lease.id).toBe('given.00-0');
    const reset = formatVectorId(log.digest, new Map([[0, { ms: 50, seq: 2 }]]));
    expect(
      lease.advance({ kind: 'reset', id: reset, position: { ms: 0, seq: 0 }, reason: 'epoch' }),
    ).toBe(reset);
  });

  it("names the catch-ups under way in its ids: the innermost's cursor, and their changes unless one at the client's shard's place", () => {
    const lease = start();
    const plain = lease.id;
    const outer = lease.openCatchUp({ shard: 0, position: { ms: 10, seq: 0 } }, undefined);
    expect(lease.id).toBe(plain);
    lease.moveCatchUp(outer, { shard: 3, position: { ms: 4, seq: 1 } });
    expect(parseVectorId(lease.id)).toEqual({
      ...parseVectorId(plain),
      catchUp: { shard: 3, position: { ms: 4, seq: 1 } },
    });
    lease.moveCatchUp(outer, { shard: 0, position: { ms: 10, seq: 0 } });
    lease.advance(message(0, 11));
    const inner = lease.openCatchUp(
      { shard: 0, position: { ms: 11, seq: 0 } },
      { shard: 3, position: { ms: 5, seq: 0 } },
    );
    expect(parseVectorId(lease.id)).toMatchObject({
      catchUp: { shard: 3, position: { ms: 5, seq: 0 } },
      changes: [outer.change, inner.change],
    });
    // Past its late messages: the outer one's cursor is what is left.
    lease.moveCatchUp(inner, undefined);
    expect(parseVectorId(lease.id)).toMatchObject({
      catchUp: { shard: 0, position: { ms: 10, seq: 0 } },
      changes: [outer.change],
    });
    lease.closeCatchUp(inner);
    lease.closeCatchUp(outer);
    expect(parseVectorId(lease.id)!.catchUp).toBeUndefined();
  });

  it('lets go of its channels when the stream ends', () => {
    log.released = [];
    start().unsubscribe();
    expect(log.released).toEqual(['b', 'c:x']);
  });

  it('never moves back: a message given late leaves the position where it is', () => {
    const lease = start();
    const id = lease.advance(message(0, 12));
    expect(lease.advance(message(0, 11))).toBe(id);
    expect(lease.positionOn(0)).toEqual({ ms: 12, seq: 0 });
  });

  it('listens on joined topics, stands on their new shards at the start given, and lets go of left ones', () => {
    log.released = [];
    log.wanted = [];
    const lease = start();
    const topic = ['t1', 't2', 't3', 't4'].find(
      (t) => ![0, 3].includes(log.shardOf(topicChannel(t))),
    )!;
    const shard = log.shardOf(topicChannel(topic));
    lease.listen([topicChannel(topic), 'b'], () => ({ ms: 7, seq: 1 }));
    expect(log.wanted).toEqual([topicChannel(topic)]);
    expect(lease.positionOn(shard)).toEqual({ ms: 7, seq: 1 });
    expect(parseVectorId(lease.id)!.positions.get(shard)).toEqual({ ms: 7, seq: 1 });
    lease.leave([topic, 'never-joined']);
    expect(log.released).toEqual([topicChannel(topic)]);
    lease.unsubscribe();
    expect(log.released).toEqual([topicChannel(topic), 'b', 'c:x']);
  });
});

describe('a message written to several shards', () => {
  const shards = 8;
  // Two clients on different shards.
  const [ann, bob] = ['ann', 'bob', 'cat', 'dan', 'eve'].filter(
    (user, i, all) =>
      all.findIndex(
        (other) => shardOf(clientChannel(other), shards) === shardOf(clientChannel(user), shards),
      ) === i,
  );
  const to = [ann, bob];

  it('reaches each client through the copy on its own shard only', () => {
    for (const user of to) {
      const copies = to.map((each) =>
        message(shardOf(clientChannel(each), shards), 1, 0, { to, spread: shards }),
      );
      const seen = copies.filter((copy) => isVisibleTo(copy, { clientId: user, topics: null }));
      expect(seen.map((copy) => copy.shard)).toEqual([shardOf(clientChannel(user), shards)]);
    }
  });

  it('reaches a stream on several of its topics through one copy', () => {
    const topics = ['t1', 't2', 't3', 't4', 't5'];
    const byShard = new Set(topics.map((topic) => shardOf(topicChannel(topic), shards)));
    const copies = [...byShard].map((shard) => message(shard, 1, 0, { topics, spread: shards }));
    const audience = { clientId: 'x', topics: new Set(topics) };
    expect(copies.filter((copy) => isVisibleTo(copy, audience))).toHaveLength(1);
    expect(designatedShard(copies[0], audience, shards)).toBe(Math.min(...byShard));
  });

  it('puts broadcasts on shard 0, and every channel on one shard when there is one', () => {
    expect(shardOf('b', shards)).toBe(0);
    expect(shardOf(clientChannel('ann'), 1)).toBe(0);
  });
});
