-- The entries of a stream of JSON entries (the inbox) after a
-- cursor. KEYS: the stream. ARGV: after, count, the answer's list name.
-- Every entry carries the site, from the stream's name: a console may
-- serve several sites.
-- Returns {count, JSON}. A cursor past the end is no error here: the
-- stream may have expired meanwhile.
local stream, after = KEYS[1], ARGV[1]
local entries = redis.call('XRANGE', stream, '(' .. after, '+', 'COUNT',
                           ARGV[2])
local items = {}
local cursor = after
local site = '"site":' .. cjson.encode(string.match(stream,
                                                  '^chatport:{(.-)}:'))
for i, e in ipairs(entries) do
  local rest = string.sub(e[2][2], 2)
  items[i] = '{"id":"' .. e[1] .. '","ts":' .. string.match(e[1], '^%d+')
             .. ',' .. site .. (rest == '}' and '' or ',') .. rest
  cursor = e[1]
end
return {#items, '{"' .. ARGV[3] .. '":[' .. table.concat(items, ',')
        .. '],"cursor":' .. cjson.encode(cursor) .. '}\n'}
