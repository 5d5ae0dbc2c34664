--[[
  Enqueues unique jobs: each job is added only when no job holds its lock, atomically
  with taking the lock, so that concurrent enqueues from any number of processes add
  one job. A job whose lock is held is not added; its caller gets the id of the job
  that holds it. The locks carry the queue's hash tag: one slot for the whole call.
  The number of KEYS varies (hence "-n" in the file name): one lock per job.

  KEYS[1] where the jobs go: the waiting list, or the scheduled sorted set
  KEYS[2..n+1] the lock of job 1..n

  ARGV[1] "list" (RPUSH) or "zset" (ZADD with each job's due time)
  then, per job, 4 values: lock ttl in ms (0: not unique, added as is), job id, payload, due time in ms (zset only;
  anything for a list)

  Returns, per job, the id of the job that holds its lock: the job's own when it was added.
]]
local to_list = ARGV[1] == 'list'
local ids = {}
for job = 1, #KEYS - 1 do
  local i = 2 + (job - 1) * 4
  local lock = KEYS[job + 1]
  local jid = ARGV[i + 1]
  -- A ttl of 0: a job of the same bulk enqueue that is not unique (its KEYS entry is KEYS[1]).
  if ARGV[i] == '0' or redis.call('SET', lock, jid, 'NX', 'PX', ARGV[i]) then
    if to_list then
      redis.call('RPUSH', KEYS[1], ARGV[i + 2])
    else
      redis.call('ZADD', KEYS[1], ARGV[i + 3], ARGV[i + 2])
    end
    ids[#ids + 1] = jid
  else
    ids[#ids + 1] = redis.call('GET', lock)
  end
end
return ids
