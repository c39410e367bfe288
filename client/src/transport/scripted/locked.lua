-- POTTERY.LOCKED key token: ms left, -1 held without expiry, 0 not held by token.
return run(function()
  local token = token_arg(ARGV[1])
  if get(KEYS[1]) ~= token then return 0 end
  return ms_left(KEYS[1])
end)
