--[[
  Hands jobs whose lease expired (their worker died or stalled past the visibility
  timeout) back to the head of their queue, oldest first, counting each recovery in
  the payload's last field, "recoveries". A job recovered more than ARGV[2] times is
  taken to kill its worker and goes to the dead set instead, so a poison job cannot
  crash workers forever.

  KEYS[1] processing sorted set
  KEYS[2] waiting list
  KEYS[3] dead sorted set

  ARGV[1] most jobs recovered per call
  ARGV[2] most recoveries of one job
  ARGV[3] dead set: most jobs kept
  ARGV[4] dead set: oldest job kept, in ms

  Returns { jobs handed back, then the payload of each job moved to the dead set }.
]]
local now = redis.call('TIME')
local now_ms = now[1] * 1000 + math.floor(now[2] / 1000)
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now_ms, 'LIMIT', 0, tonumber(ARGV[1]))
local max_recoveries = tonumber(ARGV[2])
local handed_back = 0
local buried = {}

-- Payloads are JSON objects written by the engine with "recoveries", when present,
-- as the very last field; anything else is handed back untouched and the worker
-- that takes it files it in the dead set with the reason.
local function count_recovery(payload)
  local count = tonumber(string.match(payload, ',"recoveries":(%d+)}$') or '0') + 1
  if count > 1 then
    return string.gsub(payload, ',"recoveries":%d+}$', ',"recoveries":' .. count .. '}'), count
  end
  if #payload > 2 and string.sub(payload, 1, 1) == '{' and string.sub(payload, -1) == '}' then
    return string.sub(payload, 1, -2) .. ',"recoveries":1}', count
  end
  return payload, 0
end

-- LPUSH reverses its arguments: walk from the newest so the oldest ends up first.
for i = #expired, 1, -1 do
  local lease = expired[i]
  local payload, count = count_recovery(string.sub(lease, string.find(lease, '|', 1, true) + 1))
  if count > max_recoveries then
    local dead = string.sub(payload, 1, -2) ..
      ',"error_message":"its worker stopped while running it ' .. count ..
      ' times (crashed, was killed, or stalled past the visibility timeout)","failed_at":' ..
      (now_ms / 1000) .. '}'
    redis.call('ZADD', KEYS[3], now_ms, dead)
    buried[#buried + 1] = dead
  else
    redis.call('LPUSH', KEYS[2], payload)
    handed_back = handed_back + 1
  end
  redis.call('ZREM', KEYS[1], lease)
end
if #buried > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. (now_ms - tonumber(ARGV[4])))
  redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -(tonumber(ARGV[3]) + 1))
end
return { handed_back, unpack(buried) }
