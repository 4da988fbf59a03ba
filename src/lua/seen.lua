-- The widget showed the operators' messages up to an id: stored on the
-- conversation (no mail of them is needed any more) and told to the
-- operators. KEYS: meta, inbox. ARGV: the id, cid, retention (ms).
local meta, inbox, id = KEYS[1], KEYS[2], ARGV[1]
local last = redis.call('HGET', meta, 'last')
if not last then
  return redis.error_reply('UNKNOWN conversation')
end
-- an id the conversation does not have yet was not seen
if after_id(id, last) then
  return 0
end
local seen = redis.call('HGET', meta, 'seen_visitor')
if seen and not after_id(id, seen) then
  return 0
end
redis.call('HSET', meta, 'seen_visitor', id)
event(inbox, tonumber(ARGV[3]), cjson.encode({type = 'seen',
      conversation = ARGV[2], id = id}))
return 1
