-- POTTERY.LOCK.FENCE key fencekey token value: {1, value}, {0, current} or {-1, current},
-- counters as text.
return run(function()
  local token = token_arg(ARGV[1])
  local value = int_arg(ARGV[2])
  if KEYS[1] == KEYS[2] then fail('ERR fencekey: must differ from key') end
  local held = get(KEYS[1]) == token
  local stored = get(KEYS[2])
  local current = stored == nil and '0' or stored
  if not is_int64(current) then fail(NOT_AN_INTEGER) end
  if not held then return {-1, current} end
  if compare(current, value) > 0 then return {0, current} end
  if stored ~= value then redis.call('SET', KEYS[2], value, 'KEEPTTL') end
  return {1, value}
end)
