-- POTTERY.LOCK.HOLDER key: {token, ms_left}, or nil.
return run(function()
  local holder = get(KEYS[1])
  if holder == nil then return false end
  return {holder, ms_left(KEYS[1])}
end)
