--[[
  Hands leased jobs back to the head of their queue unchanged (no retry used up):
  jobs taken but not started, or still running when shutdown ran out of time. A
  lease that is already gone is skipped.

  KEYS[1] processing sorted set
  KEYS[2] leases hash
  KEYS[3] waiting list

  ARGV[1..n] lease ids, oldest job first

  Returns the number of jobs handed back.
]]
--@include check-types
local err = check_types({ KEYS[1], 'zset', KEYS[2], 'hash', KEYS[3], 'list' })
if err then
  return err
end
local count = 0
-- LPUSH one at a time from the newest, so the oldest ends up first.
for i = #ARGV, 1, -1 do
  if redis.call('ZREM', KEYS[1], ARGV[i]) == 1 then
    local payload = redis.call('HGET', KEYS[2], ARGV[i])
    if payload then
      redis.call('LPUSH', KEYS[3], payload)
      count = count + 1
    end
    redis.call('HDEL', KEYS[2], ARGV[i])
  end
end
return count
