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

  ARGV[1] how many jobs to take at most (integer > 0)
  ARGV[2] lease length in ms
  ARGV[3] how long the record of this take is kept, in ms
  ARGV[4] largest payload that may run, in bytes: a larger one is set aside in the dead
          set, never handed out
  ARGV[5] queue name (for the document of a payload set aside)
  ARGV[6] dead set: most jobs kept
  ARGV[7] dead set: oldest job kept, in ms

  The record ("<first lease id> <last lease id> <deadline>") lets a caller whose reply
  was lost (the connection dropped after the script ran) hand exactly these jobs back
  with abandon-take-4.lua instead of leaving them leased to nobody until they expire.

  Jobs are taken in the order of the waiting list, where each PRIORITY_MARK stands for
  the first job of the prioritized set at the time of the take. A mark whose job is gone
  (the set was deleted by hand) is dropped; a job of the prioritized set without a mark
  (the list was deleted by hand) is taken once the list has run out.

  Writes come before the jobs leave the list and the set (LRANGE and ZRANGE, then the
  writes, then LTRIM and ZREMRANGEBYRANK): a key of the wrong type fails the script while
  every job is still waiting.

  Returns { first lease id, { index, recoveries, ... } for jobs handed back before after
  their worker stopped, { bytes, ... } of payloads set aside as too large, payload 1, ...,
  payload n }: payload i holds lease id first + i - 1.
]]
--@include check-types
--@include dead-set
--@include push-job
redis.call('DEL', KEYS[8])
local count = tonumber(ARGV[1])
local listed = redis.call('LRANGE', KEYS[1], 0, count - 1)

-- The prioritized jobs this take hands out: one per mark, and when the list ran out, any
-- left without a mark (EXISTS first: a queue that uses no priorities pays one lookup).
local marks = 0
for _, job in ipairs(listed) do
  if job == PRIORITY_MARK then
    marks = marks + 1
  end
end
local wanted = marks
if #listed < count and redis.call('EXISTS', KEYS[9]) == 1 then
  wanted = marks + count - #listed
end
local prioritized = {}
if wanted > 0 then
  prioritized = redis.call('ZRANGE', KEYS[9], 0, wanted - 1)
end

local jobs = listed
if #prioritized > 0 or marks > 0 then
  jobs = {}
  local next_prioritized = 1
  for _, job in ipairs(listed) do
    if job ~= PRIORITY_MARK then
      jobs[#jobs + 1] = job
    elseif prioritized[next_prioritized] then
      jobs[#jobs + 1] = prioritized[next_prioritized]
      next_prioritized = next_prioritized + 1
    end
  end
  for i = next_prioritized, #prioritized do
    jobs[#jobs + 1] = prioritized[i]
  end
end
if #jobs == 0 then
  if #listed > 0 then
    redis.call('LTRIM', KEYS[1], #listed, -1)
  end
  return { 0, {}, {} }
end
local suspects = redis.call('HLEN', KEYS[5]) > 0

local now = redis_now_ms()
local max_bytes = tonumber(ARGV[4])
local leased = {}
local too_large = {}
for _, job in ipairs(jobs) do
  if #job > max_bytes then
    too_large[#too_large + 1] = job
  else
    leased[#leased + 1] = job
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
if #prioritized > 0 then
  redis.call('ZREMRANGEBYRANK', KEYS[9], 0, #prioritized - 1)
end
local reply = { first_id, recovered, sizes }
for i, job in ipairs(leased) do
  reply[i + 3] = job
end
return reply
