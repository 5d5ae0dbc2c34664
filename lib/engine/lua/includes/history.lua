-- Adds `count` to a history counter. The call that creates it (the minute's first) gives
-- it its lifetime, so a minute costs one PEXPIRE. A counter someone overwrote with
-- something else is skipped (pcall): history never fails the script that counts.
local function count_in_history(key, count, kept_ms)
  if count > 0 and redis.pcall('INCRBY', key, count) == count then
    redis.pcall('PEXPIRE', key, kept_ms)
  end
end
