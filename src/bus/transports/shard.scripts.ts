/**
 * The publish script of a sharded log. Each shard is a log of its own (the single-node scripts'
 * meta, log and receipts, under the shard's hash tag), and a message is also published, with
 * `SPUBLISH`, on the shard channels of its recipients: an instance hears only the channels its
 * clients listen on, and the log fills any gap in what it heard.
 */
import { ENSURE_EPOCH } from './redis.scripts.js';

/** Arguments per message of `SHARD_PUBLISH_SCRIPT`: to, event, data, topics, spread, channels. */
const ARGS_PER_MESSAGE = 6;

/**
 * KEYS: meta, log, receipt. ARGV: candidate epoch, max length, receipt ttl ms, channel prefix,
 * then `ARGS_PER_MESSAGE` per message. Appends the messages in one go and returns
 * `<epoch> <id> <id>…`. The receipt makes a retried batch (after a lost reply) a no-op that
 * returns the first ids. What goes out on a channel is `<id> <epoch> <spread> <to> <topics>
 * <event> <data>`, separated by \x1f, which none of them can hold.
 */
export const SHARD_PUBLISH_SCRIPT = `
local receipt = redis.call('GET', KEYS[3])
if receipt then return receipt end
${ENSURE_EPOCH}
local ids = {}
for b = 5, #ARGV, ${ARGS_PER_MESSAGE} do
  local to, ev, d, tp, sp, channels = ARGV[b], ARGV[b + 1], ARGV[b + 2], ARGV[b + 3], ARGV[b + 4], ARGV[b + 5]
  local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'e', epoch, 'to', to, 'ev', ev, 'd', d, 'tp', tp, 'sp', sp)
  ids[#ids + 1] = id
  local heard = table.concat({ id, epoch, sp, to, tp, ev, d }, '\\31')
  for channel in string.gmatch(channels, '[^\\n]+') do
    redis.call('SPUBLISH', ARGV[4] .. channel, heard)
  end
end
redis.call('HSET', KEYS[1], 'top', ids[#ids])
receipt = epoch .. ' ' .. table.concat(ids, ' ')
redis.call('SET', KEYS[3], receipt, 'PX', ARGV[3])
return receipt`;
