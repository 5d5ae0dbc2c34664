--[[
  Settles a failed or unrunnable job: ends its lease and moves its new payload to
  the retry set (due after a delay) or to the dead set (bounded in size and age).
  Nothing is written when the lease is already gone (it expired and the job was
  handed back to the queue): the job then belongs to whoever runs it next.

  KEYS[1] processing sorted set
  KEYS[2] retry sorted set
  KEYS[3] dead sorted set

  ARGV[1] the lease ("<lease id>|<payload>")
  ARGV[2] the payload to store (with retry_count, error_message, ...)
  ARGV[3] "retry" or "dead"
  ARGV[4] retry delay in ms (retry only)
  ARGV[5] dead set: most jobs kept
  ARGV[6] dead set: oldest job kept, in ms

  Returns 1 when the job was moved, 0 when the lease was gone.
]]
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then
  return 0
end

local now = redis.call('TIME')
local now_ms = now[1] * 1000 + math.floor(now[2] / 1000)

if ARGV[3] == 'retry' then
  redis.call('ZADD', KEYS[2], now_ms + tonumber(ARGV[4]), ARGV[2])
else
  redis.call('ZADD', KEYS[3], now_ms, ARGV[2])
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. (now_ms - tonumber(ARGV[6])))
  redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -(tonumber(ARGV[5]) + 1))
end
return 1
