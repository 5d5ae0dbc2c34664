--[[
  Grants up to ARGV[3] permits of a sliding-window rate limit shared by every
  process: at most ARGV[1] permits in any window of ARGV[2] ms. Each permit is one
  member of the window set, scored with the time it was granted.

  KEYS[1] window sorted set

  ARGV[1] permits per window (integer > 0)
  ARGV[2] window length in ms
  ARGV[3] permits wanted (integer > 0)
  ARGV[4] prefix of the members added: unique per call; members are prefix..1 .. prefix..n,
          so unused permits can be given back with ZREM

  Returns { permits granted, ms until the next permit frees when none was granted,
  the time the permits are stamped with (ms, Redis clock) }.
]]
local now = redis.call('TIME')
local now_ms = now[1] * 1000 + math.floor(now[2] / 1000)
local window = tonumber(ARGV[2])

redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms - window)
local granted = math.min(tonumber(ARGV[3]), tonumber(ARGV[1]) - redis.call('ZCARD', KEYS[1]))
if granted <= 0 then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return { 0, math.max(1, tonumber(oldest[2]) + window - now_ms + 1), now_ms }
end

local args = {}
for i = 1, granted do
  args[#args + 1] = now_ms
  args[#args + 1] = ARGV[4] .. i
  if #args >= 2000 or i == granted then
    redis.call('ZADD', KEYS[1], unpack(args))
    args = {}
  end
end
redis.call('PEXPIRE', KEYS[1], window * 2)
return { granted, 0, now_ms }
