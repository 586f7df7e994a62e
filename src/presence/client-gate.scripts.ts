/**
 * Lua scripts of the client gate in Redis. KEYS[1] is presence's prefix, `{<keyPrefix>}:presence:`,
 * whose `instances` ZSET (instance id → when it expires) says which instances are alive; a
 * client's keys are beside it, on the same Cluster slot:
 *
 * - `client:<id>:blocked`, a string that expires with the block;
 * - `client:<id>:revoked`, up to when its tokens are refused (epoch ms), expiring with that;
 * - `client:<id>:streams`, HASH: instance id → its streams of the client there. An instance
 *   writes its own count whole at each open and end (never adds to it), so a lost write is made
 *   good by the next; the count of an instance that expired is taken out when next read.
 */

const SET_COUNT = `
local function setCount(streams, id, count)
  if count > 0 then
    redis.call('HSET', streams, id, count)
    redis.call('PEXPIRE', streams, tonumber(ARGV[5]))
  else
    redis.call('HDEL', streams, id)
  end
end
`;

/**
 * ARGV: client id, instance id, its streams here with the new one, the limit (0: none), how long
 * the count is kept after its last change (ms). Returns 'open', 'blocked' or 'full'; counts the
 * new stream when 'open'.
 */
export const ADMIT_SCRIPT = `${SET_COUNT}
local prefix, id = KEYS[1], ARGV[2]
local client = prefix .. 'client:' .. ARGV[1] .. ':'
local here, limit = tonumber(ARGV[3]), tonumber(ARGV[4])
local verdict = redis.call('EXISTS', client .. 'blocked') == 1 and 'blocked' or 'open'
if limit == 0 then return verdict end
local streams = client .. 'streams'
if verdict == 'open' then
  local clock = redis.call('TIME')
  local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
  local total = here
  local counts = redis.call('HGETALL', streams)
  for i = 1, #counts, 2 do
    if counts[i] ~= id then
      local expiry = redis.call('ZSCORE', prefix .. 'instances', counts[i])
      if expiry and tonumber(expiry) > now then
        total = total + tonumber(counts[i + 1])
      else
        redis.call('HDEL', streams, counts[i])
      end
    end
  end
  if total > limit then verdict = 'full' end
end
setCount(streams, id, verdict == 'open' and here or here - 1)
return verdict`;

/** ARGV as the admission's, the streams left here in place of those with the new one. */
export const RELEASE_SCRIPT = `${SET_COUNT}
setCount(KEYS[1] .. 'client:' .. ARGV[1] .. ':streams', ARGV[2], tonumber(ARGV[3]))`;
