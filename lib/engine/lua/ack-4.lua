--[[
  Ends the leases of jobs that succeeded: the ids leave the processing set, their
  payloads the leases hash, and a job handed back after a crash loses its recovery
  count. An id whose lease is already gone (it expired and the job was handed back)
  is skipped by both removals: lease ids are never reused. The jobs are counted in the
  queue's history (one INCRBY per call, not per job).

  KEYS[1] processing sorted set
  KEYS[2] leases hash
  KEYS[3] recoveries hash
  KEYS[4] counter of the jobs processed this minute (history)

  ARGV[1] how long that counter is kept, in ms
  ARGV[2..n] lease ids

  Returns the number of leases ended.
]]
--@include history
-- Read first: a key of the wrong type fails the script before anything is removed.
if redis.call('HLEN', KEYS[3]) > 0 then
  local payloads = redis.call('HMGET', KEYS[2], unpack(ARGV, 2))
  for i = 1, #ARGV - 1 do
    if payloads[i] then
      redis.call('HDEL', KEYS[3], redis.sha1hex(payloads[i]))
    end
  end
end
local ended = redis.call('ZREM', KEYS[1], unpack(ARGV, 2))
redis.call('HDEL', KEYS[2], unpack(ARGV, 2))
count_in_history(KEYS[4], ended, ARGV[1])
return ended
