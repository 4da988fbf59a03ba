-- Someone types in a conversation, or stopped: told to the other side's
-- polls through pub/sub as "~ <event>", and stored nowhere. A visitor's
-- typing goes to the operators' inbox channel; an operator's to the
-- visitor's channel and to the inbox (the other operators).
-- KEYS: meta (its name is the visitor's channel), inbox. ARGV: cid,
-- "visitor" or "agent", the operator's login, "1" typing or "0" stopped,
-- the operator's display name ("" for none). The inbox's events carry the
-- site, from the inbox's name.
local meta, inbox = KEYS[1], KEYS[2]
if redis.call('EXISTS', meta) == 0 then
  return redis.error_reply('UNKNOWN conversation')
end
local ev = {type = 'typing', from = ARGV[2], typing = ARGV[4] == '1'}
if ARGV[2] == 'agent' then
  ev.agent = ARGV[3]
  if ARGV[5] ~= '' then ev.name = ARGV[5] end
  redis.call('PUBLISH', meta, '~ ' .. cjson.encode(ev))
end
ev.conversation = ARGV[1]
ev.site = string.match(inbox, '^chatport:{(.-)}:')
redis.call('PUBLISH', inbox, '~ ' .. cjson.encode(ev))
return 1
