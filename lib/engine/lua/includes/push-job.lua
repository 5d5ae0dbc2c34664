-- Waiting jobs with a priority (see keys.ts, QueueKeys.prioritized). Such a job waits in
-- the prioritized sorted set, scored so that the highest priority comes first and jobs
-- of one priority keep their order, and stands in the waiting list as one PRIORITY_MARK
-- pushed to its head. The take (take-12.lua) hands out, for each mark it meets, the first
-- job of the prioritized set: marks are only ever pushed to the head, so every job with
-- a priority runs before the jobs enqueued without one, and LLEN of the waiting list still
-- counts every waiting job. A plain job is RPUSHed as it always was. Needs the marks
-- include before it.
local MAX_PRIORITY = 100
-- 2^40 sequence numbers per priority: a score stays exact in a double up to 2^53.
local PRIORITY_STEP = 1099511627776

-- The priority a payload asks for: 1..MAX_PRIORITY, or 0 (none, or not a valid one).
-- Only a payload that mentions the field is decoded, and a payload cjson cannot decode
-- (too deep, not JSON) is a plain job: its worker sets it aside as it would anyway.
local function priority_of(payload)
  if not string.find(payload, '"priority":', 1, true) then
    return 0
  end
  local ok, job = pcall(cjson.decode, payload)
  if not ok or type(job) ~= 'table' then
    return 0
  end
  local priority = job.priority
  if type(priority) ~= 'number' or priority ~= math.floor(priority) or priority < 1 or
      priority > MAX_PRIORITY then
    return 0
  end
  return priority
end

-- Adds a job to the tail of its queue, or, with a priority, to the prioritized set and
-- a mark to the head of the queue.
local function push_job(waiting, prioritized, seq, payload, priority)
  if priority > 0 then
    local n = redis.call('INCR', seq)
    redis.call('ZADD', prioritized, (MAX_PRIORITY - priority) * PRIORITY_STEP + n, payload)
    redis.call('LPUSH', waiting, PRIORITY_MARK)
  else
    redis.call('RPUSH', waiting, payload)
  end
end
