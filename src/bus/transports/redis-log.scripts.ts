/**
 * Lua scripts of a Redis log (`RedisLog`): the one of a single Redis, or each shard of a Redis
 * Cluster. Each runs atomically, so the epoch, the log and its top are always read and written
 * together. A log's keys share one hash tag, so they live on one slot of a Redis Cluster.
 *
 * The log is a stream whose entries carry the epoch they were written in. The meta hash holds
 * the epoch and the id of the last entry: a log that is gone while its meta says it had entries
 * was lost (eviction, a flush), and gets a new epoch like a Redis that came back empty.
 */

/** Starts a new epoch when there is none or the log was lost. KEYS: meta, log. ARGV: candidate epoch. */
const ENSURE_EPOCH = `
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if (not epoch) or (redis.call('HEXISTS', KEYS[1], 'top') == 1 and redis.call('EXISTS', KEYS[2]) == 0) then
  epoch = ARGV[1]
  redis.call('DEL', KEYS[1], KEYS[2])
  redis.call('HSET', KEYS[1], 'epoch', epoch)
end`;

/**
 * KEYS: meta, log, memberships. ARGV: candidate epoch, and optionally the id of the last entry
 * the caller gave out. Returns { epoch, top id, hole, memberships }: hole is 1 when that entry is
 * gone while an older one is still there. Trimming only ever cuts the oldest entries, so the log
 * lost it otherwise (a failover before it reached the replica), even if it has been written to
 * since. The memberships (`HGETALL`) are as they stand at the top: what a reader that reads on
 * from there starts its projection of them with.
 */
export const SYNC_SCRIPT = `${ENSURE_EPOCH}
local hole = 0
if ARGV[2] then
  local at = redis.call('XREVRANGE', KEYS[2], ARGV[2], '-', 'COUNT', 1)[1]
  if at and at[1] ~= ARGV[2] then hole = 1 end
end
return { epoch, redis.call('HGET', KEYS[1], 'top') or '0-0', hole, redis.call('HGETALL', KEYS[3]) }`;

/**
 * What separates the fields of a message in `PUBLISH_SCRIPT`'s arguments, and of a message sent
 * with `SPUBLISH`: \x1f, which none of them can hold (JSON escapes it; ids, names, topics and
 * keys refuse control characters).
 */
export const FIELD_SEPARATOR = '\x1f';

/** A Lua pattern of the nine fields of a message as `PUBLISH_SCRIPT` is given it. */
const MESSAGE_FIELDS = Array.from({ length: 9 }, () => '([^\\31]*)').join('\\31');

/**
 * `changed(membership, change)`: a client's membership (`{ joined, left }`) after a change
 * (`{ join, leave }`), as `changeMembership` gives it: a leave wins over a join of the same topic.
 * `list(items)`: a JSON array of strings (cjson makes an empty table `{}`).
 */
const MEMBERSHIP_FUNCTIONS = `
local function list(items)
  local quoted = {}
  for i, item in ipairs(items) do quoted[i] = cjson.encode(item) end
  return '[' .. table.concat(quoted, ',') .. ']'
end
local function changed(membership, change)
  local leaving, joining = {}, {}
  for _, t in ipairs(change.leave) do leaving[t] = true end
  for _, t in ipairs(change.join) do if not leaving[t] then joining[t] = true end end
  local function merge(kept, dropped, added, listed)
    local out, has = {}, {}
    for _, t in ipairs(kept) do
      if not dropped[t] and not has[t] then out[#out + 1] = t; has[t] = true end
    end
    for _, t in ipairs(listed) do
      if added[t] and not has[t] then out[#out + 1] = t; has[t] = true end
    end
    return out
  end
  return {
    joined = merge(membership.joined, leaving, joining, change.join),
    left = merge(membership.left, joining, leaving, change.leave),
  }
end`;

/** What `PUBLISH_SCRIPT` answers in place of an id for a key seen with another message. */
export const KEY_REUSED = '!';

/**
 * What `PUBLISH_SCRIPT` answers in place of an id for a change of a client's topics it refused,
 * followed by the number of topics it would have left the client joined to.
 */
export const TOO_MANY_TOPICS = '#';

/**
 * What `PUBLISH_SCRIPT` answers in place of an id for a change of a client's topics whose lock
 * (see `ClientChangeLock`) was no longer its own: a holder that stalled past it.
 */
export const LOCK_LOST = '%';

/** Between the hash tag and the client id in a client's change lock's key (`changeLockKey`). */
export const LOCK_KEY_INFIX = ':lock:';

/**
 * KEYS: meta, log, receipt, keys. ARGV: candidate epoch, max length, receipt ttl ms, channel
 * prefix (the hash tag), key window ms, max keys, membership ttl ms, then one per message: its
 * to, event, data, topics, spread, channels, idempotency key and fingerprint ('' and '' without
 * one), and for a change of its client's topics the most topics it may leave the client joined
 * to ('' otherwise; on a sharded log, then a space and the token of the client's change lock),
 * joined by `FIELD_SEPARATOR`.
 * One argument a message rather than nine: the client spends a microsecond on each message's
 * arguments less, about a tenth of a publish's CPU. Appends the messages in
 * order and returns `<epoch> <id> <id>…`, their ids. An entry has one field, `m`: `<epoch>
 * <spread> <to> <topics> <event> <data>`, separated by \x1f. Every reader decodes every entry,
 * and the reply's strings are what decoding one costs most: one field is two strings an entry,
 * a field each (as entries were written before) was six to twelve. The receipt (one per batch) makes a retried
 * batch (after a lost reply) a no-op that returns the first ids, instead of appending the
 * messages again.
 *
 * A message with an idempotency key is appended only if the key is unseen: `<keys>:<key>` holds
 * `<epoch> <id> <fingerprint>` of its first publish for the window (PX); one of another epoch
 * was of a log that is gone, and counts as unseen. A seen key answers the id it was given, or
 * `KEY_REUSED` when it was given for another message. The keys remembered are indexed by time
 * in the `keys` sorted set: each call that remembers one drops up to 100 expired ones from it,
 * then, past the max, forgets the oldest.
 *
 * On a sharded log a message is also published, with `SPUBLISH`, on the channels of its
 * recipients that are on the shard: an instance hears only the channels its clients listen on,
 * and the log fills any gap in what it heard. What goes out is the entry's id, \x1f and its `m`
 * (none of the fields can hold \x1f). A log with one order
 * is given no channels.
 *
 * A change of a client's topics (its data `{ join, leave }`) is also kept as the client's
 * membership, in the `<prefix>:members` hash (client id to `{ id, joined, left }`, `id` its last
 * change's), with the time it was last used in the `<prefix>:members:used` sorted set (its last
 * change, or a stream of it, `KEEP_MEMBERSHIPS_SCRIPT`). Each change first forgets up to 16
 * memberships unused for the membership ttl. Its entry's data is written with the membership
 * before it and the client ids forgotten (`{ join, leave, before, forgotten }`): every reader
 * of the log keeps the same projection of the hash from it, and a stream resuming from before
 * the change finds what it started with. A change that would leave its client joined to more
 * topics than it may, and more than before (as `joinedPastLimit`), is not appended and changes
 * nothing: it answers `TOO_MANY_TOPICS` and that number in place of an id. On a sharded log a
 * change comes with `markers` (see `ShardMarker`), which its entry keeps, and the membership
 * keeps the latest marker's id on each shard (`marks`, shard to id): where a stream that starts
 * with it stands on that shard at least. It also comes with the token of its client's change
 * lock (`<prefix>:lock:<client>`): it lets the lock go, and when the lock is no longer that
 * token's, the change is not appended and changes nothing: it answers `LOCK_LOST`.
 */
export const PUBLISH_SCRIPT = `${MEMBERSHIP_FUNCTIONS}
local receipt = redis.call('GET', KEYS[3])
if receipt then return receipt end
${ENSURE_EPOCH}
local now = redis.call('TIME')
now = now[1] * 1000 + math.floor(now[2] / 1000)
local ids, top, remembered = {}, nil, false
local members, used = ARGV[4] .. ':members', ARGV[4] .. ':members:used'
for b = 8, #ARGV do
  local to, ev, d, tp, sp, channels, key, print, change = string.match(ARGV[b], '^${MESSAGE_FIELDS}$')
  local id
  if key ~= '' then
    key = KEYS[4] .. ':' .. key
    local seen = redis.call('GET', key)
    if seen then
      local e, first, p = string.match(seen, '^(%S+) (%S+) (%S+)$')
      if e == epoch then
        if p == print then id = first else id = '${KEY_REUSED}' end
      end
    end
  end
  local membership
  if change ~= '' then
    local max, token = string.match(change, '^(%d+) ?(%S*)$')
    change = max
    if token ~= '' then
      local lock = ARGV[4] .. '${LOCK_KEY_INFIX}' .. to
      if redis.call('GET', lock) == token then redis.call('DEL', lock)
      elseif not id then id = '${LOCK_LOST}' end
    end
  end
  if not id and change ~= '' then
    local forgotten = redis.call('ZRANGEBYSCORE', used, '-inf', now - ARGV[7], 'LIMIT', 0, 16)
    local stored = redis.call('HGET', members, to)
    for _, client in ipairs(forgotten) do if client == to then stored = nil end end
    local before = stored and cjson.decode(stored) or { joined = {}, left = {} }
    local parsed = cjson.decode(d)
    membership = changed(before, parsed)
    local joined = #membership.joined
    if joined > tonumber(change) and joined > #before.joined then
      id = '${TOO_MANY_TOPICS}' .. joined
    else
      if #forgotten > 0 then
        redis.call('HDEL', members, unpack(forgotten))
        redis.call('ZREM', used, unpack(forgotten))
      end
      membership.marks = before.marks or {}
      local marked = ''
      if parsed.markers and #parsed.markers > 0 then
        for _, marker in ipairs(parsed.markers) do membership.marks[tostring(marker.shard)] = marker.id end
        marked = ',"markers":' .. cjson.encode(parsed.markers)
      end
      d = '{"join":' .. list(parsed.join) .. ',"leave":' .. list(parsed.leave) ..
        ',"before":{"joined":' .. list(before.joined) .. ',"left":' .. list(before.left) ..
        '},"forgotten":' .. list(forgotten) .. marked .. '}'
    end
  end
  if not id then
    local packed = table.concat({ epoch, sp, to, tp, ev, d }, '\\31')
    id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'm', packed)
    top = id
    if channels ~= '' then
      local heard = id .. '\\31' .. packed
      for channel in string.gmatch(channels, '[^\\n]+') do
        redis.call('SPUBLISH', ARGV[4] .. channel, heard)
      end
    end
    if membership then
      local marks = next(membership.marks) and cjson.encode(membership.marks) or '{}'
      redis.call('HSET', members, to, '{"id":' .. cjson.encode(id) .. ',"joined":' ..
        list(membership.joined) .. ',"left":' .. list(membership.left) .. ',"marks":' .. marks .. '}')
      redis.call('ZADD', used, now, to)
    end
    if key ~= '' then
      redis.call('SET', key, epoch .. ' ' .. id .. ' ' .. print, 'PX', ARGV[5])
      redis.call('ZADD', KEYS[4], now, key)
      remembered = true
    end
  end
  ids[#ids + 1] = id
end
if top then redis.call('HSET', KEYS[1], 'top', top) end
if remembered then
  local expired = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now - ARGV[5], 'LIMIT', 0, 100)
  if #expired > 0 then redis.call('ZREM', KEYS[4], unpack(expired)) end
  local over = redis.call('ZCARD', KEYS[4]) - tonumber(ARGV[6])
  if over > 0 then
    local oldest = redis.call('ZPOPMIN', KEYS[4], over)
    for i = 1, #oldest, 2 do redis.call('DEL', oldest[i]) end
  end
end
receipt = epoch .. ' ' .. table.concat(ids, ' ')
redis.call('SET', KEYS[3], receipt, 'PX', ARGV[3])
return receipt`;

/**
 * KEYS: the memberships' last uses (`<prefix>:members:used`). ARGV: client ids. Marks the
 * memberships of those that have one as used now (`ZADD XX`): their clients have streams.
 */
export const KEEP_MEMBERSHIPS_SCRIPT = `
local now = redis.call('TIME')
now = now[1] * 1000 + math.floor(now[2] / 1000)
local args = { 'XX' }
for _, client in ipairs(ARGV) do
  args[#args + 1] = now
  args[#args + 1] = client
end
return redis.call('ZADD', KEYS[1], unpack(args))`;

/** `facts(log)`: what `XINFO STREAM` says of the log, by name. */
const STREAM_FACTS = `
local function facts(log)
  local info = redis.call('XINFO', 'STREAM', log)
  local named = {}
  for i = 1, #info, 2 do named[info[i]] = info[i + 1] end
  return named
end`;

/**
 * KEYS: meta, log. ARGV: epoch, after id, count.
 * Returns { 'gap', reason } or { 'ok', top id, since id, entries after the id }: a cursor before
 * `since` has missed messages that were trimmed. `MAXLEN ~` does not say what it trimmed (nor,
 * in Redis 7.0, does `max-deleted-entry-id`): after it, since is the first entry kept, so a
 * cursor on the last entry trimmed counts as expired. After the age cut alone, since is the
 * last entry it deleted, as recorded by `TRIM_BEFORE_SCRIPT`: exact.
 */
export const HISTORY_SCRIPT = `${STREAM_FACTS}
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if epoch ~= ARGV[1] then return { 'gap', 'epoch' } end
local top = redis.call('HGET', KEYS[1], 'top')
if not top then return { 'ok', '0-0', '0-0', {} } end
if redis.call('EXISTS', KEYS[2]) == 0 then return { 'gap', 'lost' } end
local log = facts(KEYS[2])
local deleted = log['entries-added'] - log['length']
local cut = redis.call('HMGET', KEYS[1], 'cut', 'cutDeleted')
local since = '0-0'
if deleted > 0 then
  if tonumber(cut[2]) == deleted then since = cut[1]
  elseif log['length'] == 0 then since = top
  else since = log['first-entry'][1] end
end
return { 'ok', top, since, redis.call('XRANGE', KEYS[2], '(' .. ARGV[2], '+', 'COUNT', ARGV[3]) }`;

/**
 * KEYS: meta, log. ARGV: ms. Deletes the entries from before ms, and records the last one it
 * deleted with how many the log has deleted in all: while that count stands, nothing else was
 * trimmed, and a cursor on that entry has missed nothing. Returns how many it deleted.
 */
export const TRIM_BEFORE_SCRIPT = `${STREAM_FACTS}
local last = redis.call('XREVRANGE', KEYS[2], '(' .. ARGV[1] .. '-0', '-', 'COUNT', 1)[1]
if not last then return 0 end
local trimmed = redis.call('XTRIM', KEYS[2], 'MINID', ARGV[1])
local log = facts(KEYS[2])
redis.call('HSET', KEYS[1], 'cut', last[1], 'cutDeleted', log['entries-added'] - log['length'])
return trimmed`;

/** The scripts as commands of a connection (see `openRedis`). */
export const LOG_SCRIPTS = {
  sseBusSync: { numberOfKeys: 3, lua: SYNC_SCRIPT },
  sseBusPublish: { numberOfKeys: 4, lua: PUBLISH_SCRIPT },
  sseBusHistory: { numberOfKeys: 2, lua: HISTORY_SCRIPT },
  sseBusTrimBefore: { numberOfKeys: 2, lua: TRIM_BEFORE_SCRIPT },
  sseBusKeepMemberships: { numberOfKeys: 1, lua: KEEP_MEMBERSHIPS_SCRIPT },
};

/** What `SYNC_SCRIPT` answers: hole is 1 when the entry given is gone while an older one stays. */
export type SyncReply = [epoch: string, top: string, hole: 0 | 1, memberships: string[]];

export type LogEntry = [id: string, fields: string[]];

/** What `HISTORY_SCRIPT` answers. */
export type HistoryReply = ['gap', 'epoch' | 'lost'] | ['ok', string, string, LogEntry[]];

/** The commands `LOG_SCRIPTS` define. */
export interface LogScripts {
  sseBusSync(
    meta: string,
    log: string,
    members: string,
    epoch: string,
    given: string,
  ): Promise<SyncReply>;
  sseBusPublish(
    meta: string,
    log: string,
    receipt: string,
    keys: string,
    ...args: string[]
  ): Promise<string>;
  sseBusHistory(meta: string, log: string, ...args: string[]): Promise<HistoryReply>;
  sseBusTrimBefore(meta: string, log: string, ms: string): Promise<number>;
  sseBusKeepMemberships(used: string, ...clientIds: string[]): Promise<number>;
}
