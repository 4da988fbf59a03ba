-- Scheduling a mail, in the script that stores what implies it. A mail
-- of the outbox is due at a time (the schedule: a sorted set of members
-- "KIND:ID") with what it is made of kept beside it (a hash: member ->
-- the location's mail settings as JSON, completed here). The senders
-- learn of it through the channel "chatport:mail" ("<ms> <site>").
--
-- The settings, made once per location at configuration: {"site",
-- "title", "lang", "from", "to": [...], "mail_visitor", "delay" (ms),
-- "wait" (ms)}.

-- the settings with this mail's own fields added
local function mail_base(settings, cid, kind, reason, link)
  return string.sub(settings, 1, -2) .. ',"cid":' .. cjson.encode(cid)
         .. ',"kind":"' .. kind .. '","reason":"' .. reason .. '","link":'
         .. cjson.encode(link) .. '}'
end

-- a mail already due stays due then: later news goes in the same mail
local function mail_schedule(due, pending, member, at, value, site, now)
  if redis.call('ZSCORE', due, member) then
    return
  end
  redis.call('ZADD', due, at, member)
  redis.call('HSET', pending, member, value)
  redis.call('PUBLISH', 'chatport:mail', math.max(at - now, 0) .. ' ' .. site)
end

local function mail_cancel(due, pending, member)
  redis.call('ZREM', due, member)
  redis.call('HDEL', pending, member)
end

-- whether an operator of the site is available (presence's rule: online
-- and a console connected, or within the grace)
local function available(status, conns, now)
  local c = redis.call('ZRANGEBYSCORE', conns, '(' .. now, '+inf')
  for _, member in ipairs(c) do
    if redis.call('HGET', status, string.sub(member, 18)) == 'online' then
      return true
    end
  end
  return false
end
