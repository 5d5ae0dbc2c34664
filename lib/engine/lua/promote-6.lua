--[[
  Moves scheduled and retry jobs that are due to the tail of their queue (a job with a
  priority to the prioritized set, a grouped job to its group: see includes/route-job.lua).
  Atomic, so when many instances run it at once each job is moved exactly once.

  KEYS[1] scheduled sorted set
  KEYS[2] retry sorted set
  KEYS[3] waiting list
  KEYS[4] prioritized sorted set
  KEYS[5] priority sequence counter
  KEYS[6] groups list

  ARGV[1] most jobs moved per set per call
  ARGV[2] what the key of a group's list starts with (the group's name follows)

  Returns { jobs moved, ms until the next job is due or -1 when none is waiting }.
]]
--@include check-types
--@include marks
--@include push-job
--@include groups
--@include route-job
local now = redis.call('TIME')
local now_ms = now[1] * 1000 + math.floor(now[2] / 1000)
local moved = 0
local next_due = -1

for i = 1, 2 do
  local due = redis.call('ZRANGEBYSCORE', KEYS[i], '-inf', now_ms, 'LIMIT', 0, tonumber(ARGV[1]))
  if #due > 0 then
    -- Plain jobs keep the chunked RPUSH; the others are routed one by one, after the
    -- key types were checked (nothing leaves the set when a push would fail).
    local plain = {}
    local routed = {}
    for _, job in ipairs(due) do
      if is_routed(job) then
        routed[#routed + 1] = job
      else
        plain[#plain + 1] = job
      end
    end
    if #routed > 0 then
      local err = check_route_types(KEYS[3], KEYS[4], KEYS[5], KEYS[6], ARGV[2], routed)
      if err then
        return err
      end
    end
    for j = 1, #plain, 1000 do
      redis.call('RPUSH', KEYS[3], unpack(plain, j, math.min(j + 999, #plain)))
    end
    for _, job in ipairs(routed) do
      route_job(KEYS[3], KEYS[4], KEYS[5], KEYS[6], ARGV[2], job)
    end
    for j = 1, #due, 1000 do
      redis.call('ZREM', KEYS[i], unpack(due, j, math.min(j + 999, #due)))
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
