--[[
  Hands back, unchanged, the jobs of a take whose reply never reached its caller (the
  connection dropped after take-5.lua ran): they go back to the head of the queue
  without counting a recovery, as no worker ever saw them. Nothing happens when the
  take never ran (no record), or its record expired.

  KEYS[1] record of the take ("<first lease id> <last lease id> <deadline>")
  KEYS[2] processing sorted set
  KEYS[3] waiting list

  Returns the number of jobs handed back.
]]
local record = redis.call('GET', KEYS[1])
if not record then
  return 0
end
local first_id, last_id, deadline = string.match(record, '^(%d+) (%d+) (%d+)$')
first_id = tonumber(first_id)
last_id = tonumber(last_id)

-- Every lease of one take has the same deadline; leases renewed since are not ours
-- to touch (a caller that renews them is running them).
local leases = redis.call('ZRANGEBYSCORE', KEYS[2], deadline, deadline)
local count = 0
-- LPUSH reverses its arguments: walk from the newest so the oldest ends up first.
for i = #leases, 1, -1 do
  local lease = leases[i]
  local bar = string.find(lease, '|', 1, true)
  local id = tonumber(string.sub(lease, 1, bar - 1))
  if id and id >= first_id and id <= last_id then
    redis.call('ZREM', KEYS[2], lease)
    redis.call('LPUSH', KEYS[3], string.sub(lease, bar + 1))
    count = count + 1
  end
end
redis.call('DEL', KEYS[1])
return count
