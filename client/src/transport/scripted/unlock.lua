-- POTTERY.UNLOCK key token
return run(function()
  local token = token_arg(ARGV[1])
  if get(KEYS[1]) ~= token then return 0 end
  redis.call('DEL', KEYS[1])
  return 1
end)
