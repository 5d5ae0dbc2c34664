--[[
  Moves scheduled and retry jobs that are due to the tail of their queue. Atomic, so
  when many instances run it at once each job is moved exactly once.

  KEYS[1] scheduled sorted set
  KEYS[2] retry sorted set
  KEYS[3] waiting list

  ARGV[1] most jobs moved per set per call

  Returns { jobs moved, ms until the next job is due or -1 when none is waiting }.
]]
local now = redis.call('TIME')
local now_ms = now[1] * 1000 + math.floor(now[2] / 1000)
local moved = 0
local next_due = -1

for i = 1, 2 do
  local due = redis.call('ZRANGEBYSCORE', KEYS[i], '-inf', now_ms, 'LIMIT', 0, tonumber(ARGV[1]))
  if #due > 0 then
    for j = 1, #due, 1000 do
      local chunk = { unpack(due, j, math.min(j + 999, #due)) }
      redis.call('RPUSH', KEYS[3], unpack(chunk))
      redis.call('ZREM', KEYS[i], unpack(chunk))
    end
    moved = moved + #due
  end
  local first = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')
  if first[2] then
    local wait = math.max(0, tonumber(first[2]) - now_ms)
    if next_due < 0 or wait < next_due then
      next_due = wait
    end
  end
end
return { moved, next_due }
