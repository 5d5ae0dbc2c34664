-- What stands in a queue's waiting list for a job kept elsewhere: PRIORITY_MARK for the
-- next job of the prioritized set (see push-job.lua), GROUP_MARK for a job of the next
-- group in turn (see groups.lua). A payload is a JSON object: it is never either.
local PRIORITY_MARK = '*'
local GROUP_MARK = '#'
