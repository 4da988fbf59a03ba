-- A form submitted. The submission is also the visitor's message in
-- their conversation, which it opens when there is none; its mail to the
-- owners is due at once. A repeated post does not count against the
-- rate.
--
-- KEYS: forms, inbox, the client's rate counter, the conversation's
-- meta, msgs, the site's convs, the mail schedule (due, pending), the
-- conversation's images, the post's key and the conversation's set
-- of keys (optional, both or neither).
-- ARGV: the submission's JSON without its closing brace, the most
-- submissions in a window, the window (ms), retention (ms), the key's
-- lifetime (ms), cid, create, the submission as a message's text,
-- history, the location's mail settings ("" for none), the console's
-- link. Returns the submission's id.
local forms, inbox, rate, meta = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local msgs, convs, images, idem = KEYS[5], KEYS[6], KEYS[9], KEYS[10]
local retention, cid = tonumber(ARGV[4]), ARGV[6]
local first = repeated(idem)
if first then return first end
-- the meta is there with its cid, or the conversation is not
local known = redis.call('HMGET', meta, 'cid', 'expires')
local exists = known[1] ~= false
if not exists and ARGV[7] ~= '1' then
  return redis.error_reply('UNKNOWN conversation')
end
local ttl = limited(rate, ARGV[2], ARGV[3])
if ttl then return redis.error_reply('RATE ' .. ttl) end
local json = ARGV[1] .. ',"conversation":"' .. cid .. '"}'
local id = redis.call('XADD', forms, 'MAXLEN', '~', 10000, '*', 'json', json)
redis.call('PEXPIRE', forms, retention)
local f = cjson.decode(json)
local mid = redis.call('XADD', msgs, 'MAXLEN', ARGV[9], '*',
                       'from', 'visitor', 'text', ARGV[8], 'form', id)
local ts = tonumber(string.match(mid, '^%d+'))
if not exists then
  redis.call('HSET', meta, 'cid', cid, 'created', ts, 'referrer',
             f.referrer, 'user_agent', f.user_agent, 'first_page', f.page,
             'unread', 0)
end
redis.call('HSET', meta, 'status', 'open', 'updated', ts, 'last', mid)
if f.page ~= '' then redis.call('HSET', meta, 'page', f.page) end
if f.fields.email then redis.call('HSET', meta, 'email', f.fields.email) end
if f.fields.name then redis.call('HSET', meta, 'name', f.fields.name) end
redis.call('HINCRBY', meta, 'unread', 1)
redis.call('ZADD', convs, ts, cid)
local expiry = extend(meta, msgs, images, convs, ts, retention, known[2])
index_add(meta, cid, expiry, true, ARGV[8], f.fields.email, f.fields.name,
          index_url(f.page))
local msg = {id = mid, from = 'visitor', text = ARGV[8], ts = ts}
redis.call('PUBLISH', meta, mid .. ' ' .. cjson.encode(msg))
local item = '{"id":"' .. id .. '","ts":' .. string.match(id, '^%d+')
             .. ',' .. string.sub(json, 2)
event(inbox, retention, '{"type":"form","conversation":"' .. cid
      .. '","new":' .. tostring(not exists) .. ',"message":'
      .. cjson.encode(msg) .. ',"form":' .. item .. '}')
if ARGV[10] ~= '' then
  local s = cjson.decode(ARGV[10])
  if s.to[1] then
    mail_schedule(KEYS[7], KEYS[8], 'form:' .. id, ts,
                  mail_base(ARGV[10], cid, 'form', '', ARGV[11]) .. '\n'
                  .. item, s.site, ts)
  end
end
remember(idem, id, ARGV[5], KEYS[11])
return id
