-- Adds a document to the dead set, then trims the set to its bounds (age, then size).
local function bury(dead_key, now_ms, document, max_jobs, max_age_ms)
  redis.call('ZADD', dead_key, now_ms, document)
  redis.call('ZREMRANGEBYSCORE', dead_key, '-inf', '(' .. (now_ms - tonumber(max_age_ms)))
  redis.call('ZREMRANGEBYRANK', dead_key, 0, -(tonumber(max_jobs) + 1))
end

-- The dead-set document of a payload set aside without running: the payload kept
-- verbatim (as a JSON string) beside the reason. jid is the job's id when known, or ''.
local function set_aside_document(jid, queue, reason, now_ms, payload)
  return '{"jid":' .. (jid == '' and 'null' or cjson.encode(jid)) ..
    ',"queue":' .. cjson.encode(queue) ..
    ',"error_message":' .. cjson.encode(reason) ..
    ',"failed_at":' .. (now_ms / 1000) ..
    ',"payload":' .. cjson.encode(payload) .. '}'
end

local function redis_now_ms()
  local now = redis.call('TIME')
  return now[1] * 1000 + math.floor(now[2] / 1000)
end
