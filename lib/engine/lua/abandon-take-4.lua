--[[
  Hands back, unchanged, the jobs of a take whose reply never reached its caller (the
  connection dropped after take-12.lua ran): they go back to the head of the queue
  without counting a recovery, as no worker ever saw them. Nothing happens when the
  take never ran (no record), or its record expired.

  KEYS[1] record of the take ("<first lease id> <last lease id> <deadline>")
  KEYS[2] processing sorted set
  KEYS[3] leases hash
  KEYS[4] waiting list

  Returns the number of jobs handed back.
]]
--@include check-types
local record = redis.call('GET', KEYS[1])
if not record then
  return 0
end
local err = check_types({ KEYS[2], 'zset', KEYS[3], 'hash', KEYS[4], 'list' })
if err then
  return err
end
local first_id, last_id, deadline = string.match(record, '^(%d+) (%d+) (%d+)$')
first_id = tonumber(first_id)
last_id = tonumber(last_id)

-- Every lease of one take has the same deadline; leases renewed since are not ours
-- to touch (a caller that renews them is running them).
local ids = {}
for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], deadline, deadline)) do
  local id = tonumber(member)
  if id and id >= first_id and id <= last_id then
    ids[#ids + 1] = id
  end
end
table.sort(ids)
local count = 0
-- LPUSH reverses its arguments: walk from the newest so the oldest ends up first.
for i = #ids, 1, -1 do
  local payload = redis.call('HGET', KEYS[3], ids[i])
  if payload then
    redis.call('LPUSH', KEYS[4], payload)
    count = count + 1
  end
  redis.call('ZREM', KEYS[2], ids[i])
  redis.call('HDEL', KEYS[3], ids[i])
end
redis.call('DEL', KEYS[1])
return count
