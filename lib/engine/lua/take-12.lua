--[[
  Takes up to ARGV[1] jobs from the head of a queue and leases them to the caller,
  atomically: a job is either waiting or leased, never both, never neither. A lease is
  a number (its id); the processing set holds ids only, and the payload is kept once,
  in the leases hash, until the lease ends.

  KEYS[1] waiting list
  KEYS[2] processing sorted set (member = lease id, score = lease deadline in ms)
  KEYS[3] leases hash (lease id -> payload)
  KEYS[4] lease id counter
  KEYS[5] recoveries hash (sha1 of a payload -> times its worker stopped mid-job)
  KEYS[6] dead sorted set
  KEYS[7] record of this take (a key named by the caller's take token)
  KEYS[8] record of the caller's previous take, whose reply arrived: deleted here, so
          a taker leaves at most one record behind (and no extra round trip)
  KEYS[9] prioritized sorted set (jobs with a priority; see includes/push-job.lua)
  KEYS[10] groups list (groups with waiting jobs, in turn; see includes/groups.lua)
  KEYS[11] group leases hash (lease id -> group, for grouped jobs)
  KEYS[12] paused groups hash (group -> "1")

  ARGV[1] how many jobs to take at most (integer > 0)
  ARGV[2] lease length in ms
  ARGV[3] how long the record of this take is kept, in ms
  ARGV[4] largest payload that may run, in bytes: a larger one is set aside in the dead
          set, never handed out
  ARGV[5] queue name (for the document of a payload set aside)
  ARGV[6] dead set: most jobs kept
  ARGV[7] dead set: oldest job kept, in ms
  ARGV[8] what the key of a group's list starts with (the group's name follows)
  ARGV[9] what the key of a group's rate-limit window starts with
  ARGV[10] most jobs of one group running at once, across instances (0: no limit)
  ARGV[11] most jobs of one group started in any window of ARGV[12] ms (0: no limit)
  ARGV[12] that window, in ms
  ARGV[13] most jobs of the queue running at once, across instances (0: no limit)

  The record ("<first lease id> <last lease id> <deadline>") lets a caller whose reply
  was lost (the connection dropped after the script ran) hand exactly these jobs back
  with abandon-take-4.lua instead of leaving them leased to nobody until they expire.

  Jobs are taken in the order of the waiting list, where each PRIORITY_MARK stands for
  the first job of the prioritized set at the time of the take. A mark whose job is gone
  (the set was deleted by hand) is dropped; a job of the prioritized set without a mark
  (the list was deleted by hand) is taken once the list has run out.

  Each GROUP_MARK stands for the first job of the next group in turn that may start: not
  paused, under ARGV[10] running and under its rate limit. Marks no group can fill now
  go back to the head of the list (and the reply says the queue is blocked); a mark
  when no group has a job is dropped. A grouped job met in the list itself (handed back
  after its worker stopped or at shutdown) joins the head of its group and counts as a
  mark. A group's running jobs are counted from the processing set and
  the group leases hash, so a lease that ends in any way (done, failed, recovered,
  handed back) frees its slot: no other script knows about groups.

  Writes come before the jobs leave the list and the set (LRANGE and ZRANGE, then the
  writes, then LTRIM and ZREMRANGEBYRANK): a key of the wrong type fails the script while
  every job is still waiting.

  Returns { first lease id, { index, recoveries, ... } for jobs handed back before after
  their worker stopped, { bytes, ... } of payloads set aside as too large, blocked,
  payload 1, ..., payload n }: payload i holds lease id first + i - 1. blocked is -1, or,
  when jobs wait that no group or queue limit lets start now, the ms until a group's
  rate window lets one start (0: when a running job ends).
]]
--@include check-types
--@include dead-set
--@include marks
--@include groups
redis.call('DEL', KEYS[8])
local count = tonumber(ARGV[1])
-- Why jobs that wait may not start now: the queue's limit, a group's (and then the
-- soonest a rate window lets one start, ms).
local queue_full = false
local group_full = false
local rate_wait = nil

-- The queue's limit across instances: take no more than its free slots.
local global_cap = tonumber(ARGV[13])
if global_cap > 0 then
  local free = global_cap - redis.call('ZCARD', KEYS[2])
  if free < count then
    count = math.max(free, 0)
    queue_full = true
  end
  if count == 0 then
    if redis.call('LLEN', KEYS[1]) == 0 and redis.call('EXISTS', KEYS[9], KEYS[10]) == 0 then
      return { 0, {}, {}, -1 }
    end
    return { 0, {}, {}, 0 }
  end
end

local listed = redis.call('LRANGE', KEYS[1], 0, count - 1)
local now = redis_now_ms()
if #listed < count then
  -- The queue ran out before its limit did.
  queue_full = false
end

-- What each entry of the list stands for: a payload, a priority mark or a group mark.
-- In a queue that uses groups, a grouped payload met here (a job handed back to the head
-- of the queue) joins its group (below) and counts as a group mark. A queue that has no
-- prioritized job, no waiting group and no group lease (the common case) pays one EXISTS
-- for this and for the prioritized jobs below.
local extras = redis.call('EXISTS', KEYS[9], KEYS[10], KEYS[11]) > 0
local uses_groups = extras and redis.call('EXISTS', KEYS[10], KEYS[11]) > 0
local marks = 0
local group_marks = 0
local rejoin = {}
for i, job in ipairs(listed) do
  if job == PRIORITY_MARK then
    marks = marks + 1
  elseif job == GROUP_MARK then
    group_marks = group_marks + 1
  elseif uses_groups then
    local group = group_of(job)
    if group then
      rejoin[#rejoin + 1] = { i, group }
      group_marks = group_marks + 1
    end
  end
end
local has_groups = group_marks > 0 or uses_groups

local wanted = marks
if #listed < count and extras and redis.call('EXISTS', KEYS[9]) == 1 then
  wanted = marks + count - #listed
end
local prioritized = {}
if wanted > 0 then
  prioritized = redis.call('ZRANGE', KEYS[9], 0, wanted - 1)
end

-- Groups take jobs out of their lists before the leases are written: the keys written
-- later are checked first, so nothing taken out can be lost to a failing write.
local group_cap = tonumber(ARGV[10])
local rate_count = tonumber(ARGV[11])
local rate_window = tonumber(ARGV[12])
local state = {}
local running = nil
local rotation_failed = false

-- The group machinery, defined only for a queue that uses groups (a closure per call
-- costs Redis time on every take).
local running_counts, may_start, next_grouped
local any_paused = nil
-- How many groups are in turn (the groups list's length), once read.
local turns = nil
if has_groups then
  running_counts = function()
    local counts = {}
    if redis.call('EXISTS', KEYS[11]) == 0 then
      return counts
    end
    local ids = redis.call('ZRANGE', KEYS[2], 0, -1)
    for i = 1, #ids, 1000 do
      local groups = redis.call('HMGET', KEYS[11], unpack(ids, i, math.min(i + 999, #ids)))
      for _, group in ipairs(groups) do
        if group then
          counts[group] = (counts[group] or 0) + 1
        end
      end
    end
    -- Entries of leases that ended stay until here: drop them once they outnumber the live.
    if redis.call('HLEN', KEYS[11]) > 2 * #ids + 1000 then
      local live = {}
      for _, id in ipairs(ids) do
        live[id] = true
      end
      for _, id in ipairs(redis.call('HKEYS', KEYS[11])) do
        if not live[id] then
          redis.call('HDEL', KEYS[11], id)
        end
      end
    end
    return counts
  end

  -- Whether group `group` may start a job now; notes why when it may not.
  may_start = function(group)
    local s = state[group]
    if not s then
      -- Lookups a queue without paused groups or a rate limit does not need are skipped.
      if any_paused == nil then
        any_paused = redis.call('EXISTS', KEYS[12]) == 1
      end
      s = { paused = any_paused and redis.call('HEXISTS', KEYS[12], group) == 1 }
      -- How many jobs the group has: counted down as they are taken (one LLEN a group);
      -- an error reply here is a key of the wrong type: the group is skipped.
      local length = redis.pcall('LLEN', ARGV[8] .. group)
      s.broken = type(length) ~= 'number'
      s.left = s.broken and 0 or length
      if rate_count > 0 then
        local window_type = redis.call('TYPE', ARGV[9] .. group)['ok']
        s.broken = s.broken or (window_type ~= 'zset' and window_type ~= 'none')
      end
      if group_cap > 0 then
        running = running or running_counts()
        s.running = running[group] or 0
      end
      if rate_count > 0 and not s.broken then
        redis.call('ZREMRANGEBYSCORE', ARGV[9] .. group, '-inf', now - rate_window)
        s.started = redis.call('ZCARD', ARGV[9] .. group)
      end
      state[group] = s
    end
    if s.paused or s.broken or (group_cap > 0 and s.running >= group_cap) then
      group_full = true
      return false
    end
    if rate_count > 0 and s.started >= rate_count then
      -- The oldest start in the window; none yet when this take filled it (stamped now).
      local oldest = redis.call('ZRANGE', ARGV[9] .. group, 0, 0, 'WITHSCORES')[2]
      local wait = math.max(1, (oldest and tonumber(oldest) or now) + rate_window - now)
      if not rate_wait or wait < rate_wait then
        rate_wait = wait
      end
      return false
    end
    return true
  end

  -- The first job of the next group in turn that may start, and its group; nil when none
  -- may ("blocked") or no group has a job ("empty").
  next_grouped = function()
    if rotation_failed then
      return nil, 'blocked'
    end
    if not turns then
      turns = redis.call('LLEN', KEYS[10])
    end
    if turns == 0 then
      return nil, 'empty'
    end
    for _ = 1, turns do
      local group = redis.call('LMOVE', KEYS[10], KEYS[10], 'LEFT', 'RIGHT')
      if may_start(group) then
        local s = state[group]
        local job = redis.call('LPOP', ARGV[8] .. group)
        s.left = s.left - 1
        if not job or s.left <= 0 then
          -- Its last job: the group leaves the turns (it is at their tail now).
          redis.call('LREM', KEYS[10], -1, group)
          turns = turns - 1
          s.left = 0
        end
        if job then
          if s.running then
            s.running = s.running + 1
          end
          if s.started then
            s.started = s.started + 1
          end
          return job, group
        end
      end
    end
    rotation_failed = true
    return nil, 'blocked'
  end
end

local jobs = listed
local groups_of = {}
local kept_marks = 0
if has_groups then
  local err = check_types({ KEYS[2], 'zset', KEYS[3], 'hash', KEYS[4], 'string', KEYS[10], 'list',
    KEYS[11], 'hash', KEYS[12], 'hash' })
  if err then
    return err
  end
end
if #prioritized > 0 or marks > 0 or group_marks > 0 then
  -- Grouped payloads of the list rejoin their groups first (at the head: they ran, or
  -- were due, before the jobs waiting there), unless their group's list is broken.
  local rejoined = {}
  for _, entry in ipairs(rejoin) do
    local group_type = redis.call('TYPE', ARGV[8] .. entry[2])['ok']
    if group_type == 'list' or group_type == 'none' then
      rejoined[entry[1]] = true
    end
  end
  for i = #rejoin, 1, -1 do
    local index, group = rejoin[i][1], rejoin[i][2]
    if rejoined[index] then
      add_to_group(KEYS[10], ARGV[8], group, listed[index], true)
    end
  end
  jobs = {}
  local next_prioritized = 1
  for i, job in ipairs(listed) do
    if job == PRIORITY_MARK then
      if prioritized[next_prioritized] then
        jobs[#jobs + 1] = prioritized[next_prioritized]
        next_prioritized = next_prioritized + 1
      end
    elseif job == GROUP_MARK or rejoined[i] then
      local grouped, why = next_grouped()
      if grouped then
        jobs[#jobs + 1] = grouped
        groups_of[#jobs] = why
      elseif why == 'blocked' then
        kept_marks = kept_marks + 1
      end
    else
      jobs[#jobs + 1] = job
    end
  end
  for i = next_prioritized, #prioritized do
    jobs[#jobs + 1] = prioritized[i]
  end
end
-- The list ran out: grouped jobs without a mark (the list was deleted by hand) run too.
if #listed < count and has_groups then
  if jobs == listed then
    jobs = {}
    for i, job in ipairs(listed) do
      jobs[i] = job
    end
  end
  while #jobs < count do
    local grouped, group = next_grouped()
    if not grouped then
      break
    end
    jobs[#jobs + 1] = grouped
    groups_of[#jobs] = group
  end
end
-- -1: nothing waits that may not start; else the ms until one may (0: when a job ends).
local blocked = -1
if queue_full or (rotation_failed and (group_full or not rate_wait)) then
  blocked = 0
elseif rotation_failed then
  blocked = rate_wait
end
if #jobs == 0 then
  if #listed > 0 then
    redis.call('LTRIM', KEYS[1], #listed, -1)
  end
  for _ = 1, kept_marks do
    redis.call('LPUSH', KEYS[1], GROUP_MARK)
  end
  return { 0, {}, {}, blocked }
end
local suspects = redis.call('HLEN', KEYS[5]) > 0

local max_bytes = tonumber(ARGV[4])
local leased = {}
local leased_groups = {}
local too_large = {}
for i, job in ipairs(jobs) do
  if #job > max_bytes then
    too_large[#too_large + 1] = job
  else
    leased[#leased + 1] = job
    leased_groups[#leased] = groups_of[i]
  end
end
-- Writes in an order where the first that can fail comes before any that would need
-- undoing, and all of them before LTRIM: INCRBY (an unused id is harmless), ZADD (ids
-- without a payload are dropped by recover-5.lua), HSET. The dead set is written only
-- when a payload is too large, so its type is checked first then.
if #too_large > 0 then
  local err = check_types({ KEYS[6], 'zset' })
  if err then
    return err
  end
end

local first_id = 0
local recovered = {}
if #leased > 0 then
  local deadline = now + tonumber(ARGV[2])
  first_id = redis.call('INCRBY', KEYS[4], #leased) - #leased + 1
  -- unpack() is bounded by Lua's C stack: write in chunks. Numbers become strings once.
  local score = tostring(deadline)
  local ids = {}
  for j = 1, #leased do
    ids[j] = tostring(first_id + j - 1)
  end
  -- Largest id first (one score, members ordered by id): in a small (listpack) set each
  -- member then goes in before the one added just before it, not after all of them.
  for i = #leased, 1, -1000 do
    local scored = {}
    for j = i, math.max(i - 999, 1), -1 do
      scored[#scored + 1] = score
      scored[#scored + 1] = ids[j]
    end
    redis.call('ZADD', KEYS[2], unpack(scored))
  end
  for i = 1, #leased, 1000 do
    local fields = {}
    for j = i, math.min(i + 999, #leased) do
      fields[#fields + 1] = ids[j]
      fields[#fields + 1] = leased[j]
    end
    redis.call('HSET', KEYS[3], unpack(fields))
  end
  if suspects then
    for i, job in ipairs(leased) do
      local times = redis.call('HGET', KEYS[5], redis.sha1hex(job))
      if times then
        recovered[#recovered + 1] = i
        recovered[#recovered + 1] = tonumber(times)
      end
    end
  end
  local group_fields = {}
  for j = 1, #leased do
    local group = leased_groups[j]
    if group then
      group_fields[#group_fields + 1] = ids[j]
      group_fields[#group_fields + 1] = group
      if #group_fields >= 2000 then
        redis.call('HSET', KEYS[11], unpack(group_fields))
        group_fields = {}
      end
      if rate_count > 0 then
        redis.call('ZADD', ARGV[9] .. group, now, ids[j])
        redis.call('PEXPIRE', ARGV[9] .. group, rate_window)
      end
    end
  end
  if #group_fields > 0 then
    redis.call('HSET', KEYS[11], unpack(group_fields))
  end
  redis.call('SET', KEYS[7], first_id .. ' ' .. (first_id + #leased - 1) .. ' ' .. deadline,
    'PX', ARGV[3])
end

local sizes = {}
for _, job in ipairs(too_large) do
  sizes[#sizes + 1] = #job
  bury(KEYS[6], now, set_aside_document('', ARGV[5],
    'the payload is ' .. #job .. ' bytes, over maxPayloadBytes (' .. max_bytes ..
    '): set aside without running', now, job), ARGV[6], ARGV[7])
end

redis.call('LTRIM', KEYS[1], #listed, -1)
for _ = 1, kept_marks do
  redis.call('LPUSH', KEYS[1], GROUP_MARK)
end
if #prioritized > 0 then
  redis.call('ZREMRANGEBYRANK', KEYS[9], 0, #prioritized - 1)
end
local reply = { first_id, recovered, sizes, blocked }
for i, job in ipairs(leased) do
  reply[i + 4] = job
end
return reply
