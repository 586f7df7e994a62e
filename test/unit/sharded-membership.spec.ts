import type { HeldChange } from '../../src/bus/membership-projection.js';
import { membershipOnShards } from '../../src/bus/sharded-membership.js';
import { NO_MEMBERSHIP } from '../../src/bus/topic-change.js';

const at = (ms: number) => ({ ms, seq: 0 });

/** A change at `ms` on the client's shard, with its marker for `topics` at `markerMs` on shard 5. */
const change = (
  ms: number,
  kind: 'join' | 'leave',
  topic: string,
  markerMs: number,
  before = NO_MEMBERSHIP,
): HeldChange => ({
  position: at(ms),
  change: {
    join: kind === 'join' ? [topic] : [],
    leave: kind === 'leave' ? [topic] : [],
    before,
    forgotten: [],
    markers: [{ shard: 5, id: `${markerMs}-0`, topics: [topic] }],
  },
});

describe('a membership on a sharded log, at a place in it', () => {
  const joinT = change(10, 'join', 't', 9);
  const leaveT = change(20, 'leave', 't', 19, { joined: ['t'], left: [] });
  const joinedT = { joined: ['t'], left: [] };
  const leftT = { joined: [], left: ['t'] };

  it('takes a join at its change on the client shard, whatever the marker', () => {
    expect(membershipOnShards(NO_MEMBERSHIP, [joinT], at(9), () => at(100))).toEqual(NO_MEMBERSHIP);
    expect(membershipOnShards(joinedT, [joinT], at(10), () => at(0))).toEqual(joinedT);
  });

  it('keeps a left topic on until the stream passed its marker on the topic shard', () => {
    // Past the leave on the client's shard, not yet past its marker: still on.
    expect(membershipOnShards(leftT, [joinT, leaveT], at(20), () => at(18))).toEqual(joinedT);
    expect(membershipOnShards(leftT, [joinT, leaveT], at(20), () => at(19))).toEqual(leftT);
  });

  it('takes a leave whose marker the stream passed before it read the change', () => {
    expect(membershipOnShards(joinedT, [joinT, leaveT], at(15), () => at(19))).toEqual(leftT);
    expect(membershipOnShards(joinedT, [joinT, leaveT], at(15), () => at(18))).toEqual(joinedT);
  });

  it('lets a later join on the client shard win over an earlier leave still ahead', () => {
    const rejoin = change(30, 'join', 't', 29, leftT);
    expect(membershipOnShards(joinedT, [joinT, leaveT, rejoin], at(30), () => at(5))).toEqual(
      joinedT,
    );
  });
});
