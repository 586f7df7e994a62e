/**
 * Lua scripts of presence in Redis. KEYS[1] is the prefix every key starts with,
 * `{<keyPrefix>}:presence:`; which keys a script touches depends on the data (the instances it
 * reaps, the topics of a change), so they cannot all be declared, but the hash tag puts them on
 * one Cluster slot.
 *
 * - `instances`, ZSET: instance id → when it expires (ms, Redis's clock);
 * - `seq`, HASH: instance id → the number of its last call applied;
 * - `instance:<id>`, HASH: what one instance adds to the totals, field → its streams, a field
 *   being a client id, or a topic and a client id joined by a newline (neither can contain one);
 * - the totals: `clients`, ZSET client id → streams; `streams`, the number of streams;
 *   `topic:<topic>`, ZSET client id → streams on the topic.
 *
 * Every script first takes a batch of the instances that stopped refreshing out of the totals,
 * and says whether any is left: a query answers only once none is, so it never counts an
 * instance past its expiry.
 */

/**
 * Fields one call adds or takes away, at most: an instance of 10,000 streams on 30 topics has
 * 300,000, and taking them away in one call would hold Redis, and every publish, for seconds.
 */
export const PRESENCE_BATCH = 1000;

const PRELUDE = `
local prefix = KEYS[1]
local instances, sequences = prefix .. 'instances', prefix .. 'seq'
local clients, streams = prefix .. 'clients', prefix .. 'streams'
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local budget = ${PRESENCE_BATCH}

local function contributions(id)
  return prefix .. 'instance:' .. id
end

-- Adds delta streams to the totals of one field.
local function add(field, delta)
  local cut = string.find(field, '\\n', 1, true)
  local key, member = clients, field
  if cut then
    key, member = prefix .. 'topic:' .. string.sub(field, 1, cut - 1), string.sub(field, cut + 1)
  else
    redis.call('INCRBY', streams, delta)
  end
  if tonumber(redis.call('ZINCRBY', key, delta, member)) <= 0 then
    redis.call('ZREM', key, member)
  end
end

-- Takes what is left of the budget of an instance's fields out of the totals; once none is
-- left, the instance leaves the set. True then.
local function drain(id)
  local own = contributions(id)
  if budget > 0 then
    local found = redis.call('HRANDFIELD', own, budget, 'WITHVALUES')
    local fields = {}
    for i = 1, #found, 2 do
      add(found[i], -tonumber(found[i + 1]))
      fields[#fields + 1] = found[i]
    end
    if #fields > 0 then redis.call('HDEL', own, unpack(fields)) end
    budget = budget - #fields
  end
  if redis.call('EXISTS', own) == 1 then return false end
  redis.call('ZREM', instances, id)
  return true
end

-- True once no expired instance is left.
local function reap()
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', instances, '-inf', now)) do
    if not drain(id) then return false end
    redis.call('HDEL', sequences, id)
  end
  return true
end
`;

/**
 * ARGV: instance id, ttl ms, call number, mode, then field, streams, ... Modes:
 * - 'delta' adds to what the instance has, and pushes its expiry back: 'reaped' if it had
 *   expired (what it had is being taken away: it must clear and register again);
 * - 'clear' takes away what the instance has, a batch a call: 'more' until it is all gone;
 *   'leave' does too, and forgets the instance;
 * - 'register' adds to an instance that has nothing, and pushes its expiry back.
 * A call older than one already applied (delayed on a dropped connection) is 'stale' and does
 * nothing. Returns { status, 1 if expired instances are left to reap }.
 */
export const REFRESH_SCRIPT = `${PRELUDE}
local reaping = reap() and 0 or 1
local id, number, mode = ARGV[1], tonumber(ARGV[3]), ARGV[4]
if number <= tonumber(redis.call('HGET', sequences, id) or '0') then return { 'stale', reaping } end
redis.call('HSET', sequences, id, number)
if mode == 'clear' or mode == 'leave' then
  if not drain(id) then return { 'more', reaping } end
  if mode == 'leave' then redis.call('HDEL', sequences, id) end
  return { 'ok', reaping }
end
if mode == 'delta' then
  local expiry = redis.call('ZSCORE', instances, id)
  if (not expiry) or tonumber(expiry) <= now then return { 'reaped', reaping } end
end
local own = contributions(id)
for i = 5, #ARGV, 2 do
  local delta = tonumber(ARGV[i + 1])
  if redis.call('HINCRBY', own, ARGV[i], delta) <= 0 then redis.call('HDEL', own, ARGV[i]) end
  add(ARGV[i], delta)
end
redis.call('ZADD', instances, now + tonumber(ARGV[2]), id)
return { 'ok', reaping }`;

/**
 * ARGV: 'count' → { clients, streams }; 'client', client id → { its streams }; 'topic', topic,
 * limit → up to limit client ids on the topic. Each after a 0; a lone 1 while expired instances
 * are left to reap: ask again.
 */
export const QUERY_SCRIPT = `${PRELUDE}
if not reap() then return { 1 } end
if ARGV[1] == 'count' then
  return { 0, redis.call('ZCARD', clients), tonumber(redis.call('GET', streams) or '0') }
elseif ARGV[1] == 'client' then
  return { 0, tonumber(redis.call('ZSCORE', clients, ARGV[2]) or '0') }
end
local ids = redis.call('ZRANGE', prefix .. 'topic:' .. ARGV[2], 0, tonumber(ARGV[3]) - 1)
table.insert(ids, 1, 0)
return ids`;
