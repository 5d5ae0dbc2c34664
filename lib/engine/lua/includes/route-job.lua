-- Jobs that come back to their queue from a set (scheduled, retry, dead): each goes where
-- it asks, as the enqueue would have put it. Needs the check-types, push-job and groups
-- includes before it.

-- Whether a payload needs more than an RPUSH: a group or a priority.
local function is_routed(payload)
  return group_of(payload) ~= nil or priority_of(payload) > 0
end

-- Refuses (an error reply) when a key that routing `payloads` writes holds another type:
-- call before removing them from where they were, so a failing push loses nothing.
local function check_route_types(waiting, prioritized, seq, groups, group_prefix, payloads)
  local expected = { waiting, 'list', prioritized, 'zset', seq, 'string', groups, 'list' }
  for _, payload in ipairs(payloads) do
    local group = group_of(payload)
    if group then
      expected[#expected + 1] = group_prefix .. group
      expected[#expected + 1] = 'list'
    end
  end
  return check_types(expected)
end

-- Adds a job to its group, or by its priority, or to the tail of its queue.
local function route_job(waiting, prioritized, seq, groups, group_prefix, payload)
  local group = group_of(payload)
  if group then
    add_to_group(groups, group_prefix, group, payload, false)
    redis.call('RPUSH', waiting, GROUP_MARK)
  else
    push_job(waiting, prioritized, seq, payload, priority_of(payload))
  end
end
