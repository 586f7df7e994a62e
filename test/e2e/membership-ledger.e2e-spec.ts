/**
 * The ledger of topics joined and left at run time, on two instances over a single Redis.
 *
 * The rule (`ONE_LOG`), computed from the log and not from timing: every publish resolved to its
 * message's id and every join/leave to its change entry's id, and on a single Redis the ids are
 * totally ordered (`<epoch>.<ms>-<seq>`: ms, then seq). A connection that started at `start` (the
 * `Last-Event-ID` it resumed from, or its `connected` event's id when it opened fresh) and whose
 * last event had the id `end` should have got message m iff start < m <= end and m is a
 * broadcast, or to its client, or on a topic T that is among its topics at m's position:
 * (asked for in its URL ∪ joined) − left, as the client's changes before m leave them. It should
 * have got one `topics` event per change of its client in (start, end], with the change's id and
 * its topics after it. Each message once; per (publisher, channel) the seq strictly increases,
 * and every id strictly increases and is the one its publish resolved to.
 */
import { ONE_LOG } from '../support/membership-ledger.js';
import { describeMembershipLedger } from '../support/membership-ledger-suite.js';
import { startRedis } from '../support/redis-server.js';

describeMembershipLedger('the membership ledger on a single Redis', {
  startRedis,
  rule: ONE_LOG,
});
