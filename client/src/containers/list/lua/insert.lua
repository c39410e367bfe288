-- POTTERY.LIST.INSERT key index value: Python's list.insert(index, value); replies the length.
-- At the ends a push; near the tail the few elements after the insertion point are read,
-- trimmed off and pushed back; elsewhere the element at the point is marked and the value
-- inserted before the mark (LINSERT), which walks O(at) inside Redis and copies nothing.
if #ARGV ~= 2 then
    return arity('pottery.list.insert')
end
local len, index = read(1)
if not len then
    return index
end
local at = clamp(index[1], len)
if at == 0 then
    return redis.call('LPUSH', key, ARGV[2])
elseif at == len then
    return redis.call('RPUSH', key, ARGV[2])
elseif len - at > SHORT and not redis.call('LPOS', key, MARK, 'MAXLEN', at) then
    local original = redis.call('LINDEX', key, at)
    redis.call('LSET', key, at, MARK)
    redis.call('LINSERT', key, 'BEFORE', MARK, ARGV[2])
    redis.call('LSET', key, at + 1, original)
    return len + 1
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
