-- The start of every pottery list script: KEYS[1] is the list, ARGV the arguments the module
-- command takes after its key. Each script does what its POTTERY.* command does, with the same
-- replies and errors, in plain list commands; none of them leaves the key empty midway (so a
-- TTL survives, as with the module) and any that leaves the list empty deletes the key.
-- Errors are returned, never raised, so every Redis version replies their text unchanged.
local key = KEYS[1]
local BATCH = 1000 -- elements per LPUSH/RPUSH, well below unpack's limit
local NOT_INTEGER = 'ERR value is not an integer or out of range'

local function arity(command)
    return redis.error_reply("ERR wrong number of arguments for '" .. command .. "' command")
end

-- Up to this many elements are moved one by one (or read and pushed back) rather than found
-- by a mark.
local SHORT = 8
-- What insert and pop put at a position to find it again with LINSERT or LREM, which look for
-- values, not positions. Any value works: where the same value comes earlier in the list, the
-- scripts notice it (LPOS) and move elements instead.
local MARK = '\0pottery:list:mark\0'

-- The list's length, or nil and the WRONGTYPE error reply (pcall keeps Redis's own text).
local function length()
    local len = redis.pcall('LLEN', key)
    if type(len) == 'table' then
        return nil, len
    end
    return len
end

-- A decimal i64 exactly as Redis reads integers (no '+', no leading zero, no '-0'), or nil.
-- Lua numbers are doubles: the value is exact up to 2^53, and beyond that far outside any
-- list's range, which is all the index rules need (rotate reads the digits itself).
local function integer(text)
    if text == '0' then
        return 0
    end
    local sign, digits = string.match(text, '^(%-?)([1-9]%d*)$')
    if not digits or #digits > 19 then
        return nil
    end
    if #digits == 19 and digits > (sign == '-' and '9223372036854775808' or '9223372036854775807') then
        return nil
    end
    return tonumber(text)
end

-- ARGV[1..count] as integers, then the list's length: the length and the integers, or nil and
-- the error reply, in the module's order (a bad integer before a key that holds no list).
local function read(count)
    local values = {}
    for i = 1, count do
        values[i] = integer(ARGV[i])
        if not values[i] then
            return nil, redis.error_reply(NOT_INTEGER)
        end
    end
    local len, wrong = length()
    return len, len and values or wrong
end

-- Python's slice-bound rule on len elements: negative counts from the end, then clamp to 0..len.
local function clamp(index, len)
    if index < 0 then
        index = index + len
    end
    if index < 0 then
        return 0
    elseif index > len then
        return len
    end
    return index
end

-- Puts items[first..] at the tail, in their order; returns the length (nil if none).
local function append(items, first)
    local size
    for i = first, #items, BATCH do
        size = redis.call('RPUSH', key, unpack(items, i, math.min(i + BATCH - 1, #items)))
    end
    return size
end

-- Puts items[first..] at the head, in their order (LPUSH reverses its arguments); returns the
-- length (nil if none).
local function prepend(items, first)
    local size
    for last = #items, first, -BATCH do
        local batch = {}
        for i = last, math.max(first, last - BATCH + 1), -1 do
            batch[#batch + 1] = items[i]
        end
        size = redis.call('LPUSH', key, unpack(batch))
    end
    return size
end
