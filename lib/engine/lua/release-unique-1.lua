--[[
  Releases a unique job's lock, only when that job still holds it (a lock that expired
  and was taken by a newer equal job stays with the newer one).

  KEYS[1] the lock

  ARGV[1] the id of the job releasing it

  Returns 1 when released, 0 otherwise.
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
