--[[
  Settles a job that did not succeed: ends its lease and files it under retry (due
  after a delay) or dead (bounded in size and age), and counts it in the queue's
  history. Nothing is written when the lease is already gone (it expired and the job
  was handed back to the queue): the job then belongs to whoever runs it next.

  KEYS[1] processing sorted set
  KEYS[2] leases hash
  KEYS[3] recoveries hash
  KEYS[4] retry sorted set
  KEYS[5] dead sorted set
  KEYS[6] counter of the jobs failed this minute (history)

  ARGV[1] lease id
  ARGV[2] "retry", "dead", or "aside" (a payload that cannot run: kept verbatim)
  ARGV[3] retry: delay in ms; otherwise unused
  ARGV[4] retry, dead: the job's new document (retry count, error); aside: the reason
  ARGV[5] aside: the job's id when known, or ""
  ARGV[6] aside: the queue name
  ARGV[7] dead set: most jobs kept
  ARGV[8] dead set: oldest job kept, in ms
  ARGV[9] how long the history counter is kept, in ms

  Returns 1 when the job was filed, 0 when the lease was gone.
]]
--@include check-types
--@include dead-set
--@include history
local err = check_types({ KEYS[1], 'zset', KEYS[2], 'hash', KEYS[3], 'hash', KEYS[4], 'zset',
  KEYS[5], 'zset' })
if err then
  return err
end
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then
  return 0
end
local payload = redis.call('HGET', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
if payload and redis.call('HLEN', KEYS[3]) > 0 then
  redis.call('HDEL', KEYS[3], redis.sha1hex(payload))
end

local now = redis_now_ms()
if ARGV[2] == 'retry' then
  redis.call('ZADD', KEYS[4], now + tonumber(ARGV[3]), ARGV[4])
elseif ARGV[2] == 'dead' then
  bury(KEYS[5], now, ARGV[4], ARGV[7], ARGV[8])
else
  bury(KEYS[5], now, set_aside_document(ARGV[5], ARGV[6], ARGV[4], now, payload or ''),
    ARGV[7], ARGV[8])
end
count_in_history(KEYS[6], 1, ARGV[9])
return 1
