/**
 * Lua scripts of presence in Redis. KEYS[1] is the prefix every key starts with,
 * `{<keyPrefix>}:presence:`; which keys a script touches depends on the data (the instances it
 * reaps, the topics of a change), so they cannot all be declared, but the hash tag puts them on
 * one Cluster slot.
 *
 * - `instances`, ZSET: instance id → when it expires (ms, Redis's clock);
 * - `seq`, HASH: instance id → the number of its last refresh applied;
 * - `instance:<id>`, HASH: what one instance adds to the totals, field → its streams, a field
 *   being a client id, or a topic and a client id joined by a newline (neither can contain one);
 * - the totals: `clients`, ZSET client id → streams; `streams`, the number of streams;
 *   `topic:<topic>`, ZSET client id → streams on the topic.
 *
 * Every script first takes the instances that stopped refreshing out of the totals, so an
 * answer never counts an instance past its expiry, and the totals hold live instances only.
 */
const REAP = `
local prefix = KEYS[1]
local instances, sequences = prefix .. 'instances', prefix .. 'seq'
local clients, streams = prefix .. 'clients', prefix .. 'streams'
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)

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

local function forget(id)
  local own = contributions(id)
  local fields = redis.call('HGETALL', own)
  for i = 1, #fields, 2 do add(fields[i], -tonumber(fields[i + 1])) end
  redis.call('DEL', own)
  redis.call('ZREM', instances, id)
  redis.call('HDEL', sequences, id)
end

for _, id in ipairs(redis.call('ZRANGEBYSCORE', instances, '-inf', now)) do forget(id) end
`;

/**
 * ARGV: instance id, ttl ms, refresh number, 'delta' or 'replace', then field, streams, ...
 * 'delta' adds to what the instance has in Redis; 'replace' first takes all of it away, for an
 * instance that cannot know what Redis holds (a reply was lost). Returns 'ok'; 'reaped' for a
 * delta of an instance that had expired (its contributions are gone: it has to replace); 'stale'
 * for a refresh older than one already applied (one delayed on a dropped connection).
 */
export const REFRESH_SCRIPT = `${REAP}
local id, own, number = ARGV[1], contributions(ARGV[1]), tonumber(ARGV[3])
if number <= tonumber(redis.call('HGET', sequences, id) or '0') then return 'stale' end
if ARGV[4] == 'replace' then
  forget(id)
elseif not redis.call('ZSCORE', instances, id) then
  return 'reaped'
end
for i = 5, #ARGV, 2 do
  local delta = tonumber(ARGV[i + 1])
  if redis.call('HINCRBY', own, ARGV[i], delta) <= 0 then redis.call('HDEL', own, ARGV[i]) end
  add(ARGV[i], delta)
end
redis.call('ZADD', instances, now + tonumber(ARGV[2]), id)
redis.call('HSET', sequences, id, number)
return 'ok'`;

/** ARGV: instance id. Takes the instance out of presence (a clean shutdown). */
export const LEAVE_SCRIPT = `${REAP}
forget(ARGV[1])
return 'ok'`;

/**
 * ARGV: 'count' → { clients, streams }; 'client', client id → its streams; 'topic', topic,
 * limit → up to limit client ids on the topic.
 */
export const QUERY_SCRIPT = `${REAP}
if ARGV[1] == 'count' then
  return { redis.call('ZCARD', clients), tonumber(redis.call('GET', streams) or '0') }
elseif ARGV[1] == 'client' then
  return tonumber(redis.call('ZSCORE', clients, ARGV[2]) or '0')
end
return redis.call('ZRANGE', prefix .. 'topic:' .. ARGV[2], 0, tonumber(ARGV[3]) - 1)`;
