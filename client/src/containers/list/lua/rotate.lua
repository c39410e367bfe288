-- POTTERY.DEQUE.ROTATE key n: Python's deque.rotate(n); replies the length. k = n mod len
-- (floor modulo, computed from n's digits so that every i64 is exact); the min(k, len - k)
-- elements of one end move to the other, one by one when they are few, else read, trimmed
-- off and pushed in batches: O(min(k, len - k)).
if #ARGV ~= 1 then
    return arity('pottery.deque.rotate')
end
local len, wrong = read(1)
if not len then
    return wrong
end
if len == 0 then
    return 0
end
local negative, digits = string.match(ARGV[1], '^(%-?)(%d+)$')
local right = 0
for i = 1, #digits do
    -- right * 10 + 9 < 10 * len, far below 2^53: every step is exact in a double.
    right = (right * 10 + string.byte(digits, i) - 48) % len
end
if negative == '-' and right ~= 0 then
    right = len - right
end
if right == 0 then
    return len
elseif right <= SHORT then
    for _ = 1, right do
        redis.call('RPOPLPUSH', key, key)
    end
elseif len - right <= SHORT then
    for _ = 1, len - right do
        redis.call('RPUSH', key, redis.call('LPOP', key))
    end
elseif right <= len - right then
    local tail = redis.call('LRANGE', key, len - right, -1)
    redis.call('LTRIM', key, 0, len - right - 1)
    prepend(tail, 1)
else
    local head = redis.call('LRANGE', key, 0, len - right - 1)
    redis.call('LTRIM', key, len - right, -1)
    append(head, 1)
end
return len
