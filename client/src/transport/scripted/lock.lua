-- POTTERY.LOCK key token ttl_ms
return run(function()
  local token = token_arg(ARGV[1])
  local ttl = ttl_arg(ARGV[2], 'pottery.lock')
  local holder = get(KEYS[1])
  if holder == nil then
    redis.call('SET', KEYS[1], token, 'PX', ttl)
  elseif holder == token then
    redis.call('PEXPIRE', KEYS[1], ttl)
  else
    return 0
  end
  return 1
end)
