-- POTTERY.LIST.POP key [index]: Python's list.pop(index), index default -1; replies the
-- element, nil when out of range. O(min(at, len - at)), as insert.
local index = integer(ARGV[1] or '-1')
if not index then
    return redis.error_reply(NOT_INTEGER)
elseif #ARGV > 1 then
    return redis.error_reply('ERR syntax error')
end
if not is_list() then
    return redis.error_reply(WRONGTYPE)
end
local len = redis.call('LLEN', key)
if index < 0 then
    index = index + len
end
if index < 0 or index >= len then
    return false
elseif index == 0 then
    return redis.call('LPOP', key)
elseif index == len - 1 then
    return redis.call('RPOP', key)
elseif index < len - 1 - index then
    local head = redis.call('LRANGE', key, 0, index)
    redis.call('LTRIM', key, index + 1, -1)
    local item = table.remove(head)
    prepend(head, 1)
    return item
else
    local tail = redis.call('LRANGE', key, index, -1)
    redis.call('LTRIM', key, 0, index - 1)
    append(tail, 2)
    return tail[1]
end
