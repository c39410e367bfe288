-- POTTERY.NEXTID.CLAIM key value [FROM first]: {1, value} or {0, current}, counters as text.
return run(function()
  local value = int_arg(ARGV[1])
  local first = value
  if #ARGV == 3 and string.upper(ARGV[2]) == 'FROM' then
    first = int_arg(ARGV[3])
  elseif #ARGV ~= 1 then
    fail('ERR syntax error')
  end
  if compare(first, value) > 0 then fail('ERR first: must not exceed value') end
  local current = counter(KEYS[1])
  if compare(first, current) <= 0 then return {0, current} end
  redis.call('SET', KEYS[1], value, 'KEEPTTL')
  return {1, value}
end)
