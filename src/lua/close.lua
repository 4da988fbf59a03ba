-- A conversation closed. KEYS: meta, inbox. ARGV: cid, retention (ms).
-- "*" on the conversation's channel has its polls read again: they
-- answer with the new status.
local meta, inbox = KEYS[1], KEYS[2]
if redis.call('EXISTS', meta) == 0 then
  return redis.error_reply('UNKNOWN conversation')
end
redis.call('HSET', meta, 'status', 'closed')
redis.call('PUBLISH', meta, '* closed')
event(inbox, tonumber(ARGV[2]),
      cjson.encode({type = 'closed', conversation = ARGV[1]}))
return 1
