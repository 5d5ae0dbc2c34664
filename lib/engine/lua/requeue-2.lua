--[[
  Hands leased jobs back to the head of their queue unchanged (no retry used up):
  jobs taken but not started, or still running when shutdown ran out of time.
  A lease that is already gone is skipped.

  KEYS[1] processing sorted set
  KEYS[2] waiting list

  ARGV[1..n] the leases ("<lease id>|<payload>"), oldest first

  Returns the number of jobs handed back.
]]
local count = 0
for i = #ARGV, 1, -1 do
  local lease = ARGV[i]
  if redis.call('ZREM', KEYS[1], lease) == 1 then
    local payload = string.sub(lease, string.find(lease, '|', 1, true) + 1)
    redis.call('LPUSH', KEYS[2], payload)
    count = count + 1
  end
end
return count
