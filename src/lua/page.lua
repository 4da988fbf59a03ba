-- The page a visitor's browser loaded once their conversation exists:
-- the conversation's current page, the newest entry of its page history
-- (the oldest entries dropped past the bound) and an event for the
-- operators. A report of the page the conversation was opened on, while
-- the history holds nothing else, completes that first entry with the
-- page's title instead of adding one; any later load, a reload of the
-- same page too, is an entry of its own. A page load is no activity of
-- the conversation: the history takes the meta's expiry, and the scripts
-- that extend the conversation extend it too.
--
-- KEYS: meta, pages, inbox, the post's key and the conversation's set
-- of keys (optional, both or neither).
-- ARGV: cid, url, title, the most entries kept, retention (ms), the
-- key's lifetime (ms). Returns 1.
local meta, pages, inbox, idem = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local cid, url, title = ARGV[1], ARGV[2], ARGV[3]
local first = repeated(idem)
if first then return first end
local opened = page_opened(meta, pages)
if opened == false then
  return redis.error_reply('UNKNOWN conversation')
end
local entry = {url = url, title = title, ts = now_ms()}
if opened and opened.url == url then
  entry.ts = opened.ts
elseif opened then
  redis.call('RPUSH', pages, cjson.encode(opened))
end
redis.call('RPUSH', pages, cjson.encode(entry))
redis.call('LTRIM', pages, -tonumber(ARGV[4]), -1)
local ttl = redis.call('PTTL', meta)
if ttl > 0 then redis.call('PEXPIRE', pages, ttl) end
redis.call('HSET', meta, 'page', url)
index_add(meta, cid, tonumber(redis.call('HGET', meta, 'expires')), false,
          index_url(url))
event(inbox, tonumber(ARGV[5]), cjson.encode({type = 'page',
      conversation = cid, url = url, title = title}))
remember(idem, '1', ARGV[6], KEYS[5])
return 1
