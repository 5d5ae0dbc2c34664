--[[
  Moves one job from a scheduled, retry or dead set to the tail of its queue (a job with
  a priority to the prioritized set, see includes/push-job.lua), so it runs now. Nothing
  happens when the job is no longer in the set (it was moved or deleted meanwhile).

  KEYS[1] the sorted set holding the job
  KEYS[2] waiting list
  KEYS[3] prioritized sorted set
  KEYS[4] priority sequence counter

  ARGV[1] the member as stored in the set
  ARGV[2] the payload to enqueue (the same, or with retry_count reset)

  Returns 1 when moved, 0 when the job was not there.
]]
--@include check-types
--@include push-job
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  return 0
end
local priority = priority_of(ARGV[2])
if priority > 0 then
  local err = check_push_types(KEYS[2], KEYS[3], KEYS[4])
  if err then
    return err
  end
end
push_job(KEYS[2], KEYS[3], KEYS[4], ARGV[2], priority)
redis.call('ZREM', KEYS[1], ARGV[1])
return 1
