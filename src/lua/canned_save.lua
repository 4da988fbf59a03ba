-- A canned reply created (id "") or edited, kept without expiry in the
-- site's canned hash as {"id", "title", "text", "by", "updated"}. Its id
-- is the time it was created (ms), so that ids sort by creation. The
-- operators' consoles hear of it through "~ {"type": "canned", "site"}"
-- (the site from the inbox's name).
-- KEYS: canned, inbox. ARGV: id, title, text, the operator, the site's
-- most canned replies.
-- Returns the id; 0: no such reply to edit, -1: the site has the most.
local canned, inbox = KEYS[1], KEYS[2]
local id = ARGV[1]
local now = now_ms()
if id == '' then
  if redis.call('HLEN', canned) >= tonumber(ARGV[5]) then return -1 end
  local n = now
  while redis.call('HEXISTS', canned, string.format('%.0f', n)) == 1 do
    n = n + 1
  end
  id = string.format('%.0f', n)
elseif redis.call('HEXISTS', canned, id) == 0 then
  return 0
end
redis.call('HSET', canned, id, cjson.encode({id = id, title = ARGV[2],
           text = ARGV[3], by = ARGV[4], updated = now}))
redis.call('PUBLISH', inbox, '~ ' .. cjson.encode({type = 'canned',
           site = string.match(inbox, '^chatport:{(.-)}:')}))
return id
