--[[
  Claims one tick of a periodic job for the caller and enqueues the tick's job, in one
  step: of all the instances that run this at a tick, one enqueues the job, the others
  find the tick claimed. No leader: the claim is the tick's time itself, so instances
  whose clocks differ by a second claim the same tick, not two.

  KEYS[1] hash: periodic name -> time of the last tick claimed (ms)
  KEYS[2] hash: periodic name -> "1" while paused for every instance
  KEYS[3] waiting list of the periodic's queue
  KEYS[4] the unique lock of the tick's job, or KEYS[3] when it is not unique

  ARGV[1] periodic name
  ARGV[2] the tick (ms since the epoch)
  ARGV[3] "tick": claim when no later tick was; "catch-up": claim a tick missed while every
          instance was down, only when an earlier tick was claimed (never a first one)
  ARGV[4] the tick's job payload
  ARGV[5] the job's id
  ARGV[6] unique lock ttl in ms; 0 when the job is not unique

  Returns { 1 when enqueued, 0 otherwise (claimed before, paused, a duplicate); ms until
  the tick by Redis' clock when it is not due yet (nothing done), else 0 }.
]]
local now = redis.call('TIME')
local now_ms = now[1] * 1000 + math.floor(now[2] / 1000)
local tick = tonumber(ARGV[2])
if tick > now_ms then
  return { 0, tick - now_ms }
end
local last = redis.call('HGET', KEYS[1], ARGV[1])
if ARGV[3] == 'catch-up' and not last then
  return { 0, 0 }
end
if last and tonumber(last) >= tick then
  return { 0, 0 }
end
redis.call('HSET', KEYS[1], ARGV[1], tick)
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then
  return { 0, 0 }
end
if ARGV[6] ~= '0' and not redis.call('SET', KEYS[4], ARGV[5], 'NX', 'PX', ARGV[6]) then
  return { 0, 0 }
end
redis.call('RPUSH', KEYS[3], ARGV[4])
return { 1, 0 }
