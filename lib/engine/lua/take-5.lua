--[[
  Takes up to ARGV[1] jobs from the head of a queue and leases them to the caller,
  atomically: a job is either waiting or leased, never both, never neither.

  KEYS[1] waiting list
  KEYS[2] processing sorted set
  KEYS[3] lease id counter
  KEYS[4] record of this take (a key named by the caller's take token)
  KEYS[5] record of the caller's previous take, whose reply arrived: deleted here, so
          a taker leaves at most one record behind (and no extra round trip)

  ARGV[1] how many jobs to take at most (integer > 0)
  ARGV[2] lease length in ms
  ARGV[3] how long the record of this take is kept, in ms

  The record ("<first lease id> <last lease id> <deadline>") lets a caller whose reply
  was lost (the connection dropped after the script ran) hand exactly these jobs back
  with abandon-take-3.lua instead of leaving them leased to nobody until they expire.

  Returns the leases taken, oldest job first. A lease is "<lease id>|<payload>": the
  id makes each delivery distinct, so a late acknowledgement of an expired lease
  cannot remove the lease of the worker that now holds the same job.
]]
redis.call('DEL', KEYS[5])
local jobs = redis.call('LPOP', KEYS[1], ARGV[1])
if not jobs then
  return {}
end

local now = redis.call('TIME')
local deadline = now[1] * 1000 + math.floor(now[2] / 1000) + tonumber(ARGV[2])
local last_id = redis.call('INCRBY', KEYS[3], #jobs)
local first_id = last_id - #jobs + 1
redis.call('SET', KEYS[4], first_id .. ' ' .. last_id .. ' ' .. deadline, 'PX', ARGV[3])

local leases = {}
local zadd_args = {}
for i, job in ipairs(jobs) do
  local lease = (first_id + i - 1) .. '|' .. job
  leases[i] = lease
  zadd_args[#zadd_args + 1] = deadline
  zadd_args[#zadd_args + 1] = lease
  -- unpack() is bounded by Lua's C stack: add in chunks.
  if #zadd_args >= 2000 then
    redis.call('ZADD', KEYS[2], unpack(zadd_args))
    zadd_args = {}
  end
end
if #zadd_args > 0 then
  redis.call('ZADD', KEYS[2], unpack(zadd_args))
end
return leases
