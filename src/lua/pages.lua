-- A conversation's page history, oldest first (see page_opened.lua).
-- KEYS: meta, pages. Returns the JSON answer.
local meta, pages = KEYS[1], KEYS[2]
local opened = page_opened(meta, pages)
if opened == false then
  return redis.error_reply('UNKNOWN conversation')
end
local items = redis.call('LRANGE', pages, 0, -1)
if opened then items[1] = cjson.encode(opened) end
return '{"pages":[' .. table.concat(items, ',') .. ']}\n'
