-- POTTERY.NEXTID key: the new value as text.
return run(function()
  local current = counter(KEYS[1])
  if current == '9223372036854775807' then
    fail('ERR increment or decrement would overflow')
  end
  -- INCR is exact on the server; its reply would come back as a double, so read the text.
  redis.call('INCR', KEYS[1])
  return redis.call('GET', KEYS[1])
end)
