-- A conversation's messages after a cursor.
--
-- KEYS: meta, msgs. ARGV: after ("" for all), count, "1" to mark the
-- conversation read, the status the visitor knows ("" for an operator's
-- read, "-" for none), the URL of the conversation's photos but their id.
-- Returns {count, JSON}; a visitor's answer carries the status, and a
-- status the visitor does not know yet counts as news.
local meta, msgs, after, count = KEYS[1], KEYS[2], ARGV[1], ARGV[2]
local last = redis.call('HGET', meta, 'last')
if not last then return redis.error_reply('UNKNOWN conversation') end
local start = '-'
if after ~= '' then
  if after_id(after, last) then
    return redis.error_reply('CURSOR is ahead of the conversation')
  end
  start = '(' .. after
end
if ARGV[3] == '1' then redis.call('HSET', meta, 'unread', 0) end
local entries = redis.call('XRANGE', msgs, start, '+', 'COUNT', count)
local items = {}
local cursor = after ~= '' and after or '0-0'
for i, e in ipairs(entries) do
  items[i] = cjson.encode((message(e, ARGV[5])))
  cursor = e[1]
end
local known, status, extra = ARGV[4], '', 0
if known ~= '' then
  local st = redis.call('HGET', meta, 'status') or 'open'
  status = ',"status":' .. cjson.encode(st)
  if known ~= '-' and known ~= st then extra = 1 end
end
return {#items + extra, '{"messages":[' .. table.concat(items, ',')
        .. '],"cursor":' .. cjson.encode(cursor) .. status .. '}\n'}
