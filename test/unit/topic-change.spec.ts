import { Subject } from 'rxjs';
import type { BusEvent, BusMessage } from '../../src/index.js';
import { BusCounters } from '../../src/bus/bus-counters.js';
import { ClientRouter } from '../../src/bus/client-router.js';
import { MembershipProjection } from '../../src/bus/membership-projection.js';
import { toTopicChangeMessage } from '../../src/bus/message-validation.js';
import {
  type Membership,
  NO_MEMBERSHIP,
  type StreamTopics,
  type TopicChange,
  applyTopicChange,
  changeMembership,
  cursorTopics,
  joinedPastLimit,
  moveTopics,
  startingTopics,
  topicChangeOf,
  topicEffectOf,
  topicMarkerOf,
} from '../../src/bus/topic-change.js';
import { channelsOf, topicChannel } from '../../src/bus/channels.js';
import { reaches } from '../../src/bus/visibility.js';
import { MemoryMembership } from '../../src/bus/transports/memory-membership.js';
import { MemoryTransport } from '../../src/bus/transports/memory.transport.js';

const at = (ms: number, extra: Partial<BusMessage> = {}): BusMessage => ({
  kind: 'message',
  id: `e.${ms}-0`,
  position: { ms, seq: 0 },
  to: null,
  topics: null,
  event: undefined,
  data: String(ms),
  ...extra,
});
const change = (
  ms: number,
  clientId: string,
  { join, leave }: TopicChange,
  before: Membership = NO_MEMBERSHIP,
) => at(ms, { to: [clientId], event: 'topics', data: JSON.stringify({ join, leave, before }) });

describe('a change of topics', () => {
  it('applies to a stream and to a membership alike, a leave winning over a join', () => {
    const both = { join: ['a', 'b'], leave: ['b', 'c'] };
    expect(applyTopicChange(new Set(['c', 'd']), both)).toEqual(new Set(['d', 'a']));
    expect(applyTopicChange(new Set(['c']), { join: [], leave: ['c'] })).toBeNull();
    const membership = changeMembership({ joined: ['c'], left: ['a'] }, both);
    expect(membership).toEqual({ joined: ['a'], left: ['b', 'c'] });
    expect(startingTopics(new Set(['b', 'x']), membership)).toEqual(new Set(['x', 'a']));
    expect(startingTopics(null, NO_MEMBERSHIP)).toBeNull();
  });

  it('may not take a client past its limit of joined topics, but may always take some away', () => {
    const full = { joined: ['a', 'b'], left: ['x'] };
    const past = (join: string[], leave: string[], maxJoined = 2) =>
      joinedPastLimit(full, { join, leave, maxJoined });
    expect(past(['c'], [])).toBe(3);
    expect(past(['c', 'x'], ['a'])).toBe(3);
    expect(past(['a', 'b'], [])).toBeUndefined();
    expect(past(['c'], ['a'])).toBeUndefined();
    // Over a limit lowered since: a change that does not add to it still goes.
    expect(past(['c'], ['a'], 1)).toBeUndefined();
    expect(past([], ['a'], 1)).toBeUndefined();
    expect(past(['c'], [], 1)).toBe(3);
  });

  it('is kept in memory as it stood at each place in the log, until its time to live is up', () => {
    const memberships = new MemoryMembership(1000);
    const joinA = change(10, 'alice', { join: ['a'], leave: [] });
    memberships.change(joinA, 0);
    const before = { joined: ['a'], left: [] };
    memberships.change(change(20, 'alice', { join: [], leave: ['a'] }, before), 500);
    expect(memberships.at('alice', { ms: 5, seq: 0 })).toEqual(NO_MEMBERSHIP);
    expect(memberships.at('alice', { ms: 10, seq: 0 })).toEqual(before);
    expect(memberships.now('alice')).toEqual({ joined: [], left: ['a'] });
    memberships.keep('alice', 1400);
    memberships.expire(2300);
    expect(memberships.now('alice').left).toEqual(['a']);
    memberships.expire(2400);
    expect(memberships.now('alice')).toEqual(NO_MEMBERSHIP);
  });
});

describe('MembershipProjection', () => {
  const joined = (topic: string) => ({ joined: [topic], left: [] });

  it('answers from the changes it holds, and leaves older cursors to the log', () => {
    const projection = new MembershipProjection();
    // As Redis had it when read: alice's last change at 10.
    projection.restart([['alice', joined('a'), { ms: 10, seq: 0 }]]);
    expect(projection.at('alice', { ms: 10, seq: 0 })).toEqual(joined('a'));
    expect(projection.at('alice', { ms: 9, seq: 0 })).toBeUndefined();
    expect(projection.at('bob', { ms: 1, seq: 0 })).toEqual(NO_MEMBERSHIP);
    projection.apply(change(20, 'alice', { join: ['b'], leave: ['a'] }, joined('a')));
    expect(projection.at('alice', { ms: 15, seq: 0 })).toEqual(joined('a'));
    expect(projection.now('alice')).toEqual({ joined: ['b'], left: ['a'] });
    for (let ms = 21; ms < 60; ms++) {
      const before = projection.now('alice');
      projection.apply(change(ms, 'alice', { join: [`t${ms}`], leave: [] }, before));
    }
    // It holds the latest changes only: from before them, the log is asked.
    expect(projection.at('alice', { ms: 20, seq: 0 })).toBeUndefined();
    expect(projection.at('alice', { ms: 58, seq: 0 })?.joined).toContain('t58');
  });

  it('forgets the memberships the log forgot with a change', () => {
    const projection = new MembershipProjection();
    projection.restart([['alice', joined('a'), { ms: 10, seq: 0 }]]);
    const forgetting = change(20, 'bob', { join: ['b'], leave: [] });
    projection.apply({
      ...forgetting,
      data: JSON.stringify({ join: ['b'], forgotten: ['alice'] }),
    });
    expect(projection.has('alice')).toBe(false);
    expect(projection.now('bob')).toEqual(joined('b'));
  });
});

describe('MemoryTransport.membershipAt', () => {
  it('finds what a cursor from before the changes it holds started with in the history', async () => {
    const transport = new MemoryTransport(
      1000,
      1024 * 1024,
      { windowMs: 1000, maxKeys: 10 },
      60_000,
    );
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) {
      ids.push(await transport.publish(toTopicChangeMessage('alice', { join: `t${i}` }, 1000)));
    }
    expect(await transport.membershipAt('alice', ids[1])).toEqual({
      joined: ['t0', 't1'],
      left: [],
    });
    expect((await transport.membershipAt('alice', ids[38])).joined).toHaveLength(39);
    expect(transport.membership('alice').joined).toHaveLength(40);
  });
});

describe('ClientRouter and changes of topics', () => {
  it("moves the client's streams between topics before giving them the change, and no one else's", () => {
    const source = new Subject<BusEvent>();
    const router = new ClientRouter(source, new BusCounters());
    const got: Record<string, number[]> = { alice: [], bob: [] };
    for (const clientId of ['alice', 'bob']) {
      const audience = { clientId, topics: new Set(['base']) };
      router.view(audience).subscribe((event) => got[clientId].push(event.position.ms));
    }
    source.next(at(1, { topics: ['news'] }));
    source.next(change(2, 'alice', { join: ['news'], leave: ['base'] }));
    source.next(at(3, { topics: ['news'] }));
    source.next(at(4, { topics: ['base'] }));
    expect(got).toEqual({ alice: [2, 3], bob: [4] });
    expect(router.clientsOn('news', 10)).toEqual(['alice']);
  });
});

describe('a change on a sharded log, and its markers', () => {
  const marked = (ms: number, clientId: string, topics: string[], { join, leave }: TopicChange) =>
    at(ms, { to: [clientId], topics, event: 'topics', data: JSON.stringify({ join, leave }) });

  it('is read on its topics’ channels, where the reader of their shard fills its gaps from', () => {
    const marker = marked(1, 'alice', ['news'], { join: [], leave: ['news'] });
    expect(channelsOf(marker)).toEqual([topicChannel('news')]);
    expect(topicChangeOf(marker)).toBeUndefined();
    expect(topicMarkerOf(marker)).toEqual({ join: [], leave: ['news'] });
  });

  /** A change of Alice's topics, with its marker of `far` on shard 3. */
  const farMarked = (ms: number, change: TopicChange) =>
    at(ms, {
      to: ['alice'],
      event: 'topics',
      data: JSON.stringify({ ...change, markers: [{ shard: 3, id: '1-0', topics: ['far'] }] }),
    });
  const farLeft = (ms: number) => marked(ms, 'alice', ['far'], { join: [], leave: ['far'] });
  /** What a stream of Alice's on `far` and `base` is given of `events`. */
  const routed = (...events: BusMessage[]) => {
    const source = new Subject<BusEvent>();
    const router = new ClientRouter(source, new BusCounters());
    const got: number[] = [];
    router
      .view({ clientId: 'alice', topics: new Set(['far', 'base']) })
      .subscribe((event) => got.push(event.position.ms));
    events.forEach((event) => source.next(event));
    return got;
  };

  it('routes a leave marked on another shard until its marker, and a join from its change', () => {
    const got = routed(
      farMarked(2, { join: ['near'], leave: ['far', 'base'] }),
      at(3, { topics: ['far'] }),
      at(4, { topics: ['near'] }),
      at(5, { topics: ['base'] }),
      farLeft(6),
      at(7, { topics: ['far'] }),
    );
    expect(got).toEqual([2, 3, 4, 6]);
    expect(topicEffectOf(marked(6, 'a', ['far'], { join: ['far'], leave: [] }))).toEqual({
      join: [],
      leave: [],
    });
  });

  it('judges a message to the client on a far topic by the changes, whenever the leave’s marker is read', () => {
    const leaveFar = (ms: number) => farMarked(ms, { join: [], leave: ['far'] });
    const toAliceOnFar = (ms: number) => at(ms, { to: ['alice'], topics: ['far'] });
    // The marker after the change: the topic's messages count until it, the client's no longer.
    expect(
      routed(leaveFar(1), toAliceOnFar(2), at(3, { topics: ['far'] }), farLeft(4), toAliceOnFar(5)),
    ).toEqual([1, 3, 4]);
    // The marker first: the topic's messages no longer count, the client's until the change.
    expect(
      routed(farLeft(1), toAliceOnFar(2), at(3, { topics: ['far'] }), leaveFar(4), toAliceOnFar(5)),
    ).toEqual([1, 2, 4]);
  });

  it('keeps a stream on a topic left and joined again twice before it meets the first leave’s marker', () => {
    /** A change of Alice's `far` on the client's shard, with its marker on shard 1 at `marker`. */
    const changed = (ms: number, join: string[], leave: string[], marker: number) =>
      at(ms, {
        shard: 0,
        to: ['alice'],
        event: 'topics',
        data: JSON.stringify({
          join,
          leave,
          markers: [{ shard: 1, id: `${marker}-0`, topics: ['far'] }],
        }),
      });
    let stream: StreamTopics = { topics: new Set(['far']) };
    const read = (message: BusMessage) =>
      (stream = moveTopics(stream, message, topicEffectOf(message)!));
    [
      changed(1, [], ['far'], 10),
      changed(2, ['far'], [], 20),
      changed(3, [], ['far'], 30),
      changed(4, ['far'], [], 40),
    ].forEach(read);
    // Then the topic's shard: its messages, and each change's marker (a leave at 10 and 30).
    const got: number[] = [];
    const marker = (ms: number, join: string[], leave: string[]) => ({
      ...marked(ms, 'alice', ['far'], { join, leave }),
      shard: 1,
    });
    const onFar = (ms: number) =>
      reaches(at(ms, { shard: 1, topics: ['far'] }), { clientId: 'alice', ...stream });
    for (const ms of [5, 10, 15, 20, 25, 30, 35, 40, 45]) {
      if (ms % 20 === 10) read(marker(ms, [], ['far']));
      else if (ms % 20 === 0) read(marker(ms, ['far'], []));
      else if (onFar(ms)) got.push(ms);
    }
    expect(got).toEqual([5, 25, 45]);
    expect(stream.topics).toEqual(new Set(['far']));
    expect(stream.rejoins).toBeUndefined();
  });

  it('keeps one view of a stream’s topics where the changes and their markers agree', () => {
    const change = farMarked(1, { join: ['near'], leave: ['far'] });
    const stream = { topics: new Set(['far']) };
    const moved = moveTopics(stream, change, topicEffectOf(change)!);
    expect(moved).toEqual({ topics: new Set(['far', 'near']), clientTopics: new Set(['near']) });
    const marker = farLeft(2);
    expect(moveTopics(moved, marker, topicEffectOf(marker)!)).toEqual({
      topics: new Set(['near']),
      clientTopics: undefined,
    });
    // Without markers, the change is its effect: nothing more is kept.
    const plain = at(3, { to: ['alice'], event: 'topics', data: '{"join":["x"],"leave":[]}' });
    expect(moveTopics(stream, plain, topicEffectOf(plain)!)).toEqual({
      topics: new Set(['far', 'x']),
    });
    expect(
      cursorTopics(new Set(['far']), {
        joined: [],
        left: [],
        inClientOrder: { joined: [], left: ['far'] },
      }),
    ).toEqual({ topics: new Set(['far']), clientTopics: null });
  });
});
