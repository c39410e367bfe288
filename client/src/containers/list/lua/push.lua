-- POTTERY.DEQUE.PUSH key LEFT|RIGHT maxlen value [value ...]: Python's extendleft (LEFT) or
-- extend (RIGHT) on a deque bounded by maxlen (-1: unbounded), trimming the other end; replies
-- the length. Values the trim would drop are never pushed: O(values + trimmed).
if #ARGV < 3 then
    return arity('pottery.deque.push')
end
local side = string.upper(ARGV[1])
if side ~= 'LEFT' and side ~= 'RIGHT' then
    return redis.error_reply('ERR syntax error')
end
local maxlen = integer(ARGV[2])
if not maxlen then
    return redis.error_reply(NOT_INTEGER)
elseif maxlen < -1 then
    return redis.error_reply('ERR maxlen: must be -1 or >= 0')
end
local len, wrong = length()
if not len then
    return wrong
end
if maxlen == 0 then
    if len > 0 then
        redis.call('DEL', key)
    end
    return 0
end
local first = 3
if maxlen > 0 and #ARGV - 2 > maxlen then
    first = #ARGV - maxlen + 1
end
local command = side == 'LEFT' and 'LPUSH' or 'RPUSH'
for i = first, #ARGV, BATCH do
    len = redis.call(command, key, unpack(ARGV, i, math.min(i + BATCH - 1, #ARGV)))
end
if maxlen > 0 and len > maxlen then
    if side == 'LEFT' then
        redis.call('LTRIM', key, 0, maxlen - 1)
    else
        redis.call('LTRIM', key, len - maxlen, -1)
    end
    len = maxlen
end
return len
