--[[
  Moves one job from a scheduled, retry or dead set to its queue (by its priority or to
  its group, see includes/route-job.lua), so it runs now. Nothing happens when the job is
  no longer in the set (it was moved or deleted meanwhile).

  KEYS[1] the sorted set holding the job
  KEYS[2] waiting list
  KEYS[3] prioritized sorted set
  KEYS[4] priority sequence counter
  KEYS[5] groups list

  ARGV[1] the member as stored in the set
  ARGV[2] the payload to enqueue (the same, or with retry_count reset)
  ARGV[3] what the key of a group's list starts with (the group's name follows)

  Returns 1 when moved, 0 when the job was not there.
]]
--@include check-types
--@include marks
--@include push-job
--@include groups
--@include route-job
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  return 0
end
if is_routed(ARGV[2]) then
  local err = check_route_types(KEYS[2], KEYS[3], KEYS[4], KEYS[5], ARGV[3], { ARGV[2] })
  if err then
    return err
  end
end
route_job(KEYS[2], KEYS[3], KEYS[4], KEYS[5], ARGV[3], ARGV[2])
redis.call('ZREM', KEYS[1], ARGV[1])
return 1
