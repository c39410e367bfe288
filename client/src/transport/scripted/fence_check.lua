-- POTTERY.FENCE.CHECK key token: 1 accepted (stored if above), 0 stale.
return run(function()
  local token = int_arg(ARGV[1])
  local stored = get(KEYS[1])
  local highest = stored == nil and '0' or stored
  if not is_int64(highest) then fail(NOT_AN_INTEGER) end
  if compare(token, highest) < 0 then return 0 end
  if stored ~= token then redis.call('SET', KEYS[1], token, 'KEEPTTL') end
  return 1
end)
