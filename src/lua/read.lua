-- A conversation's messages after a cursor.
--
-- KEYS: meta, msgs. ARGV: after ("" for all), count, "1" for an
-- operator's read (it marks the conversation read and the visitor's
-- messages seen), the status the visitor knows ("" for an operator's
-- read, "-" for none), the id up to which the visitor knows its messages
-- seen ("-" for none), the URL of the conversation's photos but their
-- id.
-- Returns {count, JSON}. A visitor's answer carries the status, the seen
-- id and events; a status or a seen id the visitor does not know yet
-- counts as news. Operators seeing the visitor's messages is told to the
-- visitor's poll as an event ("~"), and kept as seen_agent.
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
local entries = redis.call('XRANGE', msgs, start, '+', 'COUNT', count)
local items = {}
local cursor = after ~= '' and after or '0-0'
local visitor
for i, e in ipairs(entries) do
  local m = message(e, ARGV[6])
  items[i] = cjson.encode(m)
  if m.from == 'visitor' then visitor = e[1] end
  cursor = e[1]
end
local seen = redis.call('HGET', meta, 'seen_agent')
if ARGV[3] == '1' then
  redis.call('HSET', meta, 'unread', 0)
  -- only forward: an older cursor's read does not take it back
  if visitor and (not seen or after_id(visitor, seen)) then
    redis.call('HSET', meta, 'seen_agent', visitor)
    redis.call('PUBLISH', meta,
               '~ ' .. cjson.encode({type = 'seen', id = visitor}))
  end
end
local known, extra, events, news = ARGV[4], '', {}, 0
if known ~= '' then
  local st = redis.call('HGET', meta, 'status') or 'open'
  if known ~= '-' and known ~= st then
    news = 1
    if st == 'closed' then events[1] = '{"type":"closed"}' end
  end
  extra = ',"status":' .. cjson.encode(st)
  if seen then
    extra = extra .. ',"seen":' .. cjson.encode(seen)
    if ARGV[5] ~= '-' and after_id(seen, ARGV[5]) then
      news = 1
      events[#events + 1] = cjson.encode({type = 'seen', id = seen})
    end
  end
  extra = ',"events":[' .. table.concat(events, ',') .. ']' .. extra
end
return {#items + news, '{"messages":[' .. table.concat(items, ',')
        .. ']' .. extra .. ',"cursor":' .. cjson.encode(cursor) .. '}\n'}
