-- A message posted to a conversation, which a visitor's first message
-- opens (within the rates of new conversations); its mail is scheduled.
--
-- KEYS: meta, msgs, convs, inbox, the client's and the site's counters
-- of new conversations, the mail schedule (due, pending), the presence
-- (status, conns), the conversation's images, the site's uploads and
-- their bytes, the post's key and the conversation's set of keys
-- (optional, both or neither).
-- ARGV: create, cid, from, agent, text, page, referrer, user agent,
-- history, retention (ms), the client's rate (count, window), the
-- site's, the key's lifetime (ms), the location's mail settings ("" for
-- none), the console's link, "1" when the business hours are open; for
-- a photo: its JSON ({"width", "height"}, "" for none), its bytes, the
-- site's upload quota, the prefix of conversation keys and of the
-- operators' image URLs; the operator's display name ("" for none).
-- Returns the message's id.
local meta, msgs, convs, inbox = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local due, pending, images, idem = KEYS[7], KEYS[8], KEYS[11], KEYS[14]
local image = ARGV[19] or ''
local create, cid, from, agent, text = ARGV[1], ARGV[2], ARGV[3],
  ARGV[4], ARGV[5]
local page, referrer, ua = ARGV[6], ARGV[7], ARGV[8]
local history, retention = ARGV[9], tonumber(ARGV[10])
local first = repeated(idem)
if first then return first end
-- the meta is there with its cid, or the conversation is not
local known = redis.call('HMGET', meta, 'cid', 'expires', 'unread', 'page')
local exists = known[1] ~= false
if not exists and create ~= '1' then
  return redis.error_reply('UNKNOWN conversation')
end
if not exists then
  local ttl = limited(KEYS[5], ARGV[11], ARGV[12])
              or limited(KEYS[6], ARGV[13], ARGV[14])
  if ttl then return redis.error_reply('RATE ' .. ttl) end
end
if image ~= '' and not upload_room(KEYS[12], KEYS[13], ARGV[22],
                                   now_ms(), #ARGV[20], ARGV[21]) then
  return redis.error_reply('QUOTA the site\'s photos fill its quota')
end
local fields = {'from', from, 'text', text}
if agent ~= '' then fields[5] = 'agent'; fields[6] = agent end
if ARGV[24] ~= '' then
  fields[#fields + 1] = 'name'
  fields[#fields + 1] = ARGV[24]
end
if image ~= '' then
  fields[#fields + 1] = 'image'
  fields[#fields + 1] = image
end
local id = redis.call('XADD', msgs, 'MAXLEN', history, '*',
                      unpack(fields))
-- the time as a string too: numbers passed to Redis are formatted first
local tss = string.match(id, '^%d+')
local ts = tonumber(tss)
-- the meta's fields, in one HSET
local set = {'status', 'open', 'updated', tss, 'last', id}
if not exists then
  for _, v in ipairs({'cid', cid, 'created', tss, 'referrer', referrer,
                      'user_agent', ua, 'first_page', page}) do
    set[#set + 1] = v
  end
end
if page ~= '' then set[#set + 1] = 'page'; set[#set + 1] = page end
set[#set + 1] = 'unread'
set[#set + 1] = from == 'visitor' and (tonumber(known[3]) or 0) + 1 or '0'
if from == 'agent' then set[#set + 1] = 'last_agent'; set[#set + 1] = id end
redis.call('HSET', meta, unpack(set))
redis.call('ZADD', convs, tss, cid)
local expiry = extend(meta, msgs, images, convs, ts, retention, known[2])
-- the words of the text, and of the page once the visitor is on another
index_queue(meta, cid, expiry, text, page ~= known[4] and page or '',
            retention)
if image ~= '' then
  upload_store(images, KEYS[12], KEYS[13], cid, id, ARGV[20], expiry)
  redis.call('PEXPIREAT', images, expiry)
end
local msg = cjson.encode((message({id, fields}, ARGV[23] ~= ''
                                  and ARGV[23] .. cid .. '/images/'
                                  or nil)))
-- a photo's URL differs for the visitor: "*" has each poll read it
if image ~= '' then redis.call('PUBLISH', meta, '* image')
else redis.call('PUBLISH', meta, id .. ' ' .. msg) end
-- the message's JSON once, in the event too (a cid is hex)
event(inbox, retention, '{"type":"' .. (exists and 'message'
      or 'conversation') .. '","conversation":"' .. cid .. '","message":'
      .. msg .. (page ~= '' and ',"page":' .. cjson.encode(page) or '')
      .. '}', true)
-- the inbox lives as long as the conversations, extended with their keys
if expiry ~= tonumber(known[2]) then
  redis.call('PEXPIREAT', inbox, expiry)
end
local mail = ARGV[16]
if mail ~= '' then
  local s = cjson.decode(mail)
  if from == 'visitor' and s.to[1] then
    local avail = ARGV[18] == '1' and available(KEYS[9], KEYS[10], ts)
    mail_schedule(due, pending, 'owner:' .. cid,
                  ts + (avail and s.wait or s.delay),
                  mail_base(mail, cid, 'owner',
                            avail and 'unanswered' or 'offline', ARGV[17]),
                  s.site, ts)
  elseif from == 'agent' then
    mail_cancel(due, pending, 'owner:' .. cid)
    if s.mail_visitor and redis.call('HEXISTS', meta, 'email') == 1 then
      mail_schedule(due, pending, 'visitor:' .. cid, ts + s.delay,
                    mail_base(mail, cid, 'visitor', '', ''), s.site, ts)
    end
  end
end
remember(idem, id, ARGV[15], KEYS[15])
return id
