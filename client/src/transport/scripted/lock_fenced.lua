-- POTTERY.LOCK.FENCED key fencekey token ttl_ms: the counter as text (the client reads it as
-- an integer) when held by token, 0 when held by another.
return run(function()
  local token = token_arg(ARGV[1])
  local ttl = ttl_arg(ARGV[2], 'pottery.lock.fenced')
  if KEYS[1] == KEYS[2] then fail('ERR fencekey: must differ from key') end
  -- Read (and so validate) the counter before writing anything.
  local current = counter(KEYS[2])
  local holder = get(KEYS[1])
  if holder ~= nil and holder ~= token then return 0 end
  local counted = holder == token and compare(current, '1') >= 0
  local next_value = current
  if not counted then
    if compare(current, '0') < 0 then current = '0' end
    if current == '9223372036854775807' then
      fail('ERR increment or decrement would overflow')
    end
    next_value = plus_one(current)
  end
  if holder == nil then
    redis.call('SET', KEYS[1], token, 'PX', ttl)
  else
    redis.call('PEXPIRE', KEYS[1], ttl)
  end
  if not counted then redis.call('SET', KEYS[2], next_value, 'KEEPTTL') end
  return next_value
end)
