--[[
  Moves one job from a scheduled, retry or dead set to the tail of its queue, so it
  runs now. Nothing happens when the job is no longer in the set (it was moved or
  deleted meanwhile).

  KEYS[1] the sorted set holding the job
  KEYS[2] waiting list

  ARGV[1] the member as stored in the set
  ARGV[2] the payload to enqueue (the same, or with retry_count reset)

  Returns 1 when moved, 0 when the job was not there.
]]
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then
  return 0
end
redis.call('RPUSH', KEYS[2], ARGV[2])
return 1
