-- POTTERY.LIST.POP key [index]: Python's list.pop(index), index default -1; replies the
-- element, nil when out of range. At the ends a pop; within a few elements of an end those
-- elements are read, trimmed off and pushed back; elsewhere the element is marked and the
-- mark removed (LREM from the nearer end), O(len) walks inside Redis that copy nothing.
local index = integer(ARGV[1] or '-1')
if not index then
    return redis.error_reply(NOT_INTEGER)
elseif #ARGV > 1 then
    return redis.error_reply('ERR syntax error')
end
local len, wrong = length()
if not len then
    return wrong
end
if index < 0 then
    index = index + len
end
if index < 0 or index >= len then
    return false
elseif index == 0 then
    return redis.call('LPOP', key)
elseif index == len - 1 then
    return redis.call('RPOP', key)
end
local after = len - 1 - index
if index > SHORT and after > SHORT then
    -- LREM removes the first mark it meets: from the head, or with -1 from the tail.
    local head = index <= after
    local clear
    if head then
        clear = not redis.call('LPOS', key, MARK, 'MAXLEN', index)
    else
        clear = not redis.call('LPOS', key, MARK, 'RANK', -1, 'MAXLEN', after)
    end
    if clear then
        local item = redis.call('LINDEX', key, index)
        redis.call('LSET', key, index, MARK)
        redis.call('LREM', key, head and 1 or -1, MARK)
        return item
    end
end
if index <= after then
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
