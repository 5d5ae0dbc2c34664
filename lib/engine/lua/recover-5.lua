--[[
  Hands jobs whose lease expired (their worker died or stalled past the visibility
  timeout) back to the head of their queue, oldest first, counting each recovery in
  the recoveries hash under the sha1 of the payload (never in the payload itself). A
  job recovered more than ARGV[2] times is taken to kill its worker and goes to the
  dead set instead, so a poison job cannot crash workers forever.

  KEYS[1] processing sorted set
  KEYS[2] leases hash
  KEYS[3] waiting list
  KEYS[4] dead sorted set
  KEYS[5] recoveries hash

  ARGV[1] most jobs recovered per call
  ARGV[2] most recoveries of one job
  ARGV[3] dead set: most jobs kept
  ARGV[4] dead set: oldest job kept, in ms
  ARGV[5] queue name (for the document of a payload that is not a JSON object)

  Returns { jobs handed back, then the dead-set document of each job buried }.
]]
--@include check-types
--@include dead-set
local err = check_types({ KEYS[1], 'zset', KEYS[2], 'hash', KEYS[3], 'list', KEYS[4], 'zset',
  KEYS[5], 'hash' })
if err then
  return err
end
local now = redis_now_ms()
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
local max_recoveries = tonumber(ARGV[2])
local handed_back = 0
local buried = {}

-- LPUSH reverses its arguments: walk from the newest so the oldest ends up first.
for i = #expired, 1, -1 do
  local id = expired[i]
  local payload = redis.call('HGET', KEYS[2], id)
  -- No payload: a take that failed half way left the id alone; nothing to hand back.
  if payload then
    local digest = redis.sha1hex(payload)
    local count = redis.call('HINCRBY', KEYS[5], digest, 1)
    if count > max_recoveries then
      local reason = 'its worker stopped while running it ' .. count ..
        ' times (crashed, was killed, or stalled past the visibility timeout)'
      local document
      if string.sub(payload, 1, 1) == '{' and string.sub(payload, -1) == '}' and #payload > 2 then
        document = string.sub(payload, 1, -2) .. ',"error_message":' .. cjson.encode(reason) ..
          ',"failed_at":' .. (now / 1000) .. '}'
      else
        document = set_aside_document('', ARGV[5], reason, now, payload)
      end
      bury(KEYS[4], now, document, ARGV[3], ARGV[4])
      redis.call('HDEL', KEYS[5], digest)
      buried[#buried + 1] = document
    else
      redis.call('LPUSH', KEYS[3], payload)
      handed_back = handed_back + 1
    end
  end
  redis.call('ZREM', KEYS[1], id)
  redis.call('HDEL', KEYS[2], id)
end
return { handed_back, unpack(buried) }
