-- A visitor's contact details, kept on their conversation.
-- KEYS: meta, inbox, the post's key and the conversation's set of
-- keys (optional, both or neither). ARGV: cid, email, name
-- (kept when empty), retention (ms), the key's lifetime (ms).
local meta, inbox, idem = KEYS[1], KEYS[2], KEYS[3]
local first = repeated(idem)
if first then return first end
if redis.call('EXISTS', meta) == 0 then
  return redis.error_reply('UNKNOWN conversation')
end
redis.call('HSET', meta, 'email', ARGV[2])
if ARGV[3] ~= '' then redis.call('HSET', meta, 'name', ARGV[3]) end
index_add(meta, ARGV[1], tonumber(redis.call('HGET', meta, 'expires')), false,
          ARGV[2], ARGV[3])
event(inbox, tonumber(ARGV[4]), cjson.encode({type = 'contact',
      conversation = ARGV[1], email = ARGV[2],
      name = redis.call('HGET', meta, 'name') or ''}))
remember(idem, '1', ARGV[5], KEYS[4])
return 1
