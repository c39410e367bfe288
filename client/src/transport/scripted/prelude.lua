-- pottery: helpers shared by the scripts that stand in for the module's lock and ID commands.
-- Counters are handled as decimal strings: Lua 5.1 numbers are doubles and lose integers
-- above 2^53, so every comparison below works on the digits.
local NOT_AN_INTEGER = 'ERR value is not an integer or out of range'

-- A refusal: the error reply's text, raised with a marker of ours and replied by run (Redis
-- rewrites raised error texts, adding the script's name).
local FAILED, failure = {}, nil
local function fail(text)
  failure = text
  error(FAILED)
end

-- Whether s is a signed 64-bit integer written as Redis writes it (no sign on 0, no leading
-- zeros, no spaces).
local function is_int64(s)
  if s == '0' then return true end
  local negative = string.sub(s, 1, 1) == '-'
  local digits = negative and string.sub(s, 2) or s
  if not string.find(digits, '^[1-9]%d*$') then return false end
  if #digits ~= 19 then return #digits < 19 end
  local limit = negative and '9223372036854775808' or '9223372036854775807'
  for i = 1, 19 do
    local a, b = string.byte(digits, i), string.byte(limit, i)
    if a ~= b then return a < b end
  end
  return true
end

-- -1, 0 or 1 as a <, = or > b, for two canonical integers (see is_int64).
local function compare(a, b)
  local a_negative, b_negative = string.sub(a, 1, 1) == '-', string.sub(b, 1, 1) == '-'
  if a_negative ~= b_negative then return a_negative and -1 or 1 end
  local x = a_negative and string.sub(a, 2) or a
  local y = b_negative and string.sub(b, 2) or b
  local order = 0
  if #x ~= #y then
    order = #x < #y and -1 or 1
  else
    for i = 1, #x do
      local p, q = string.byte(x, i), string.byte(y, i)
      if p ~= q then
        order = p < q and -1 or 1
        break
      end
    end
  end
  return a_negative and -order or order
end

-- n + 1 for a canonical integer n >= 0 below 2^63 - 1, by carrying through the digits.
local function plus_one(n)
  local i = #n
  while i > 0 and string.byte(n, i) == 57 do i = i - 1 end
  local tail = string.rep('0', #n - i)
  if i == 0 then return '1' .. tail end
  return string.sub(n, 1, i - 1) .. string.char(string.byte(n, i) + 1) .. tail
end

-- An argument that must be a canonical integer (the module's "value is not an integer").
local function int_arg(s)
  if not is_int64(s) then fail(NOT_AN_INTEGER) end
  return s
end

-- A lock token: any non-empty string.
local function token_arg(s)
  if s == '' then fail('ERR token: must not be empty') end
  return s
end

-- A TTL in ms, 1..=2^40, as the module checks it; kept as text for SET PX / PEXPIRE.
local function ttl_arg(s, command)
  int_arg(s)
  if compare(s, '1') < 0 or compare(s, '1099511627776') > 0 then
    fail("ERR invalid expire time in '" .. command .. "' command")
  end
  return s
end

-- The string at key, or nil; WRONGTYPE and the like are the script's error, word for word.
local function get(key)
  local value = redis.pcall('GET', key)
  if type(value) == 'table' and value.err then fail(value.err) end
  return value or nil
end

-- The counter at key as canonical text ('0' when absent); a value that is not one is the
-- module's error.
local function counter(key)
  local value = get(key)
  if value == nil then return '0' end
  if not is_int64(value) then fail(NOT_AN_INTEGER) end
  return value
end

-- Runs a script's body: a fail(text) becomes the error reply text, word for word.
local function run(body)
  local ok, reply = pcall(body)
  if ok then return reply end
  if reply == FAILED then return redis.error_reply(failure) end
  error(reply)
end

-- The module's ms_left: remaining ms (at least 1), or -1 without expiry.
local function ms_left(key)
  local ms = redis.call('PTTL', key)
  if ms == -1 then return -1 end
  if ms < 1 then return 1 end
  return ms
end
