-- POTTERY.LIST.INSERT key index value: Python's list.insert(index, value); replies the length.
-- O(min(at, len - at)): the shorter side of the insertion point is read, trimmed off and
-- pushed back with the value.
if #ARGV ~= 2 then
    return arity('pottery.list.insert')
end
local index = integer(ARGV[1])
if not index then
    return redis.error_reply(NOT_INTEGER)
end
if not is_list() then
    return redis.error_reply(WRONGTYPE)
end
local len = redis.call('LLEN', key)
local at = clamp(index, len)
if at == 0 then
    return redis.call('LPUSH', key, ARGV[2])
elseif at == len then
    return redis.call('RPUSH', key, ARGV[2])
elseif at <= len - at then
    local head = redis.call('LRANGE', key, 0, at - 1)
    redis.call('LTRIM', key, at, -1)
    head[#head + 1] = ARGV[2]
    return prepend(head, 1)
else
    local tail = redis.call('LRANGE', key, at, -1)
    redis.call('LTRIM', key, 0, at - 1)
    redis.call('RPUSH', key, ARGV[2])
    return append(tail, 1)
end
