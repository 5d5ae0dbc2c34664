--[[
  Hands jobs whose lease expired (their worker died or stalled past the visibility
  timeout) back to the head of their queue, oldest first.

  KEYS[1] processing sorted set
  KEYS[2] waiting list

  ARGV[1] most jobs recovered per call

  Returns the number of jobs recovered.
]]
local now = redis.call('TIME')
local now_ms = now[1] * 1000 + math.floor(now[2] / 1000)
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now_ms, 'LIMIT', 0, tonumber(ARGV[1]))

-- LPUSH reverses its arguments: walk from the newest so the oldest ends up first.
for i = #expired, 1, -1 do
  local lease = expired[i]
  local payload = string.sub(lease, string.find(lease, '|', 1, true) + 1)
  redis.call('LPUSH', KEYS[2], payload)
  redis.call('ZREM', KEYS[1], lease)
end
return #expired
