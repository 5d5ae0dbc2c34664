--[[
  Enqueues jobs a plain RPUSH cannot: unique jobs, jobs with a priority and grouped
  jobs (and the plain jobs of the same bulk enqueue, in order). A unique job is added
  only when no job holds its lock, atomically with taking the lock, so that concurrent
  enqueues from any number of processes add one job; a job whose lock is held is not
  added, and its caller gets the id of the job that holds it. A job with a priority goes
  to the prioritized set (see includes/push-job.lua), a grouped job to its group (see
  includes/groups.lua). Every key carries the queue's hash tag: one slot for the whole
  call. The number of KEYS varies (hence "-n" in the file name): one lock per job.

  KEYS[1] where the jobs go: the waiting list, or the scheduled sorted set
  KEYS[2] prioritized sorted set
  KEYS[3] priority sequence counter
  KEYS[4] groups list
  KEYS[5..n+4] the lock of job 1..n (KEYS[1] for a job that is not unique)

  ARGV[1] "list" (to the queue) or "zset" (ZADD with each job's due time; a scheduled
          job keeps its priority and group in its payload, read when it becomes due)
  ARGV[2] what the key of a group's list starts with
  then, per job, 6 values: lock ttl in ms (0: not unique, added as is), job id, payload,
  due time in ms (zset only; anything for a list), priority (0: none), group ("": none)

  Returns, per job, the id of the job that holds its lock: the job's own when it was added.
]]
--@include marks
--@include push-job
--@include groups
local to_list = ARGV[1] == 'list'
local ids = {}
for job = 1, #KEYS - 4 do
  local i = 3 + (job - 1) * 6
  local lock = KEYS[job + 4]
  local jid = ARGV[i + 1]
  if ARGV[i] == '0' or redis.call('SET', lock, jid, 'NX', 'PX', ARGV[i]) then
    if to_list and ARGV[i + 5] ~= '' then
      add_to_group(KEYS[4], ARGV[2], ARGV[i + 5], ARGV[i + 2], false)
      redis.call('RPUSH', KEYS[1], GROUP_MARK)
    elseif to_list then
      push_job(KEYS[1], KEYS[2], KEYS[3], ARGV[i + 2], tonumber(ARGV[i + 4]))
    else
      redis.call('ZADD', KEYS[1], ARGV[i + 3], ARGV[i + 2])
    end
    ids[#ids + 1] = jid
  else
    ids[#ids + 1] = redis.call('GET', lock)
  end
end
return ids
