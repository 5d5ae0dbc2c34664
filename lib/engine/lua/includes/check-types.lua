-- Refuses to run when a key the script writes holds a value of another type (someone
-- wrote to it by hand): returns an error reply before anything was removed, so no job
-- is lost half way. Call as: local err = check_types({ key1, 'zset', key2, 'hash' })
local function check_types(expected)
  for i = 1, #expected, 2 do
    local found = redis.call('TYPE', expected[i])['ok']
    if found ~= 'none' and found ~= expected[i + 1] then
      return redis.error_reply('WRONGTYPE key ' .. expected[i] .. ' holds a ' .. found ..
        ', Flume expects a ' .. expected[i + 1] ..
        '; nothing was changed: delete or rename the key and the jobs move again')
    end
  end
  return nil
end
