-- Job groups (see keys.ts, QueueKeys.groups). A grouped job waits in its group's list
-- (key: group prefix .. group) and stands in the waiting list as one GROUP_MARK, pushed
-- to its tail like any job; the groups with waiting jobs are listed once each in the
-- groups list. The take fills each mark it meets with the first job of the next group
-- in turn (round robin) that may start now: a group with a huge backlog gets its turn
-- and no more. Key names of one group are the prefixes the caller passes, then the
-- group's name, which carries no braces: every key stays in the queue's slot. Needs the
-- marks include before it.

-- The group a payload names, or nil: only a payload that mentions the field is decoded,
-- and only a name a key can carry counts (1 to 200 characters, no braces or whitespace).
local function group_of(payload)
  if not string.find(payload, '"group":', 1, true) then
    return nil
  end
  local ok, job = pcall(cjson.decode, payload)
  if not ok or type(job) ~= 'table' then
    return nil
  end
  local group = job.group
  if type(group) ~= 'string' or #group == 0 or #group > 200 or string.find(group, '[{}%s]') then
    return nil
  end
  return group
end

-- Adds a job to group `group`: to the tail of its list (`front`: to the head, for a job
-- that ran before), listing the group when it had no waiting job.
local function add_to_group(groups, prefix, group, payload, front)
  local list = prefix .. group
  local length
  if front then
    length = redis.call('LPUSH', list, payload)
  else
    length = redis.call('RPUSH', list, payload)
  end
  if length == 1 then
    redis.call('RPUSH', groups, group)
  end
end
