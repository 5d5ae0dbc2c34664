--[[
  Extends the leases of jobs still running on a live worker, so that a long job is
  never handed out twice. Leases that are gone are not re-created.

  KEYS[1] processing sorted set

  ARGV[1] lease length in ms, from now
  ARGV[2..n] lease ids

  Returns the number of leases extended.
]]
local now = redis.call('TIME')
local deadline = now[1] * 1000 + math.floor(now[2] / 1000) + tonumber(ARGV[1])
local renewed = 0
local args = {}
for i = 2, #ARGV do
  args[#args + 1] = deadline
  args[#args + 1] = ARGV[i]
  if #args >= 2000 or i == #ARGV then
    renewed = renewed + redis.call('ZADD', KEYS[1], 'XX', 'CH', unpack(args))
    args = {}
  end
end
return renewed
