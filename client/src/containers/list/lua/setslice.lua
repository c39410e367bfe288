-- POTTERY.LIST.SETSLICE key start stop [value ...]: Python's l[start:stop] = values (stop
-- exclusive; no values deletes the slice); replies the length. A few values replacing as many
-- elements are set in place; otherwise the cheaper side is rebuilt: O(min(stop, len - start)
-- + values) element moves.
if #ARGV < 2 then
    return arity('pottery.list.setslice')
end
local len, bounds = read(2)
if not len then
    return bounds
end
local start = clamp(bounds[1], len)
local stop = math.max(clamp(bounds[2], len), start)
local values = #ARGV - 2
local final = len - (stop - start) + values
if stop == start and values == 0 then
    return len
elseif final == 0 then
    redis.call('DEL', key)
elseif values == stop - start and values <= SHORT then
    -- As many values as the slice has elements: overwritten in place.
    for i = 1, values do
        redis.call('LSET', key, start + i - 1, ARGV[i + 2])
    end
elseif stop < len and start + stop < len then
    -- l[stop:] stays; l[:start] and the values go back in front of it.
    local head = {}
    if start > 0 then
        head = redis.call('LRANGE', key, 0, start - 1)
    end
    redis.call('LTRIM', key, stop, -1)
    prepend(ARGV, 3)
    prepend(head, 1)
elseif start > 0 then
    -- l[:start] stays; the values and l[stop:] go back after it.
    local tail = {}
    if stop < len then
        tail = redis.call('LRANGE', key, stop, -1)
    end
    redis.call('LTRIM', key, 0, start - 1)
    append(ARGV, 3)
    append(tail, 1)
else
    -- The whole list is replaced (and values are given): push them, then drop the old ones.
    append(ARGV, 3)
    if len > 0 then
        redis.call('LTRIM', key, len, -1)
    end
end
return final
