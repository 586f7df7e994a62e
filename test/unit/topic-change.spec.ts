import { Subject } from 'rxjs';
import type { BusEvent, BusMessage } from '../../src/index.js';
import { BusCounters } from '../../src/bus/bus-counters.js';
import { ClientRouter } from '../../src/bus/client-router.js';
import {
  NO_MEMBERSHIP,
  type TopicChange,
  applyTopicChange,
  changeMembership,
  startingTopics,
} from '../../src/bus/topic-change.js';
import { MemoryMembership } from '../../src/bus/transports/memory-membership.js';

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
const change = (ms: number, clientId: string, { join, leave }: TopicChange) =>
  at(ms, { to: [clientId], event: 'topics', data: JSON.stringify({ join, leave }) });

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

  it('is kept in memory as it stood at each place in the log, until its time to live is up', () => {
    const memberships = new MemoryMembership(1000);
    memberships.change('alice', { ms: 10, seq: 0 }, { join: ['a'], leave: [] }, 0);
    memberships.change('alice', { ms: 20, seq: 0 }, { join: [], leave: ['a'] }, 500);
    expect(memberships.at('alice', { ms: 5, seq: 0 }, 600)).toEqual(NO_MEMBERSHIP);
    expect(memberships.at('alice', { ms: 10, seq: 0 }, 600).joined).toEqual(['a']);
    expect(memberships.at('alice', undefined, 600)).toEqual({ joined: [], left: ['a'] });
    memberships.keep('alice', 1400);
    expect(memberships.at('alice', undefined, 2300).left).toEqual(['a']);
    expect(memberships.at('alice', undefined, 2400)).toEqual(NO_MEMBERSHIP);
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

  it('keeps the changes of a client routed while one of its streams opens, until stopped', () => {
    const source = new Subject<BusEvent>();
    const router = new ClientRouter(source, new BusCounters());
    const watch = router.watchChanges('alice');
    source.next(change(1, 'alice', { join: ['a'], leave: [] }));
    source.next(change(2, 'bob', { join: ['b'], leave: [] }));
    watch.unsubscribe();
    source.next(change(3, 'alice', { join: ['c'], leave: [] }));
    expect(watch.changes).toEqual([{ join: ['a'], leave: [] }]);
    expect(source.observed).toBe(false);
  });
});
