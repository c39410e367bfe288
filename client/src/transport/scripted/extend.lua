-- POTTERY.EXTEND key token ttl_ms: never re-creates the lock.
return run(function()
  local token = token_arg(ARGV[1])
  local ttl = ttl_arg(ARGV[2], 'pottery.extend')
  if get(KEYS[1]) ~= token then return 0 end
  redis.call('PEXPIRE', KEYS[1], ttl)
  return 1
end)
