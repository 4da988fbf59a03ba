-- A mail that failed for good: out of the stream, recorded on its
-- conversation and told to the operators.
-- KEYS: outbox, the conversation's meta, inbox. ARGV: the entry's id,
-- the failure as JSON ({"to", "error", "ts"}), the cid, retention (ms).
local n = redis.call('XACK', KEYS[1], 'senders', ARGV[1])
if n == 0 then
  return 0
end
redis.call('XDEL', KEYS[1], ARGV[1])
if redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('HSET', KEYS[2], 'mail_failed', ARGV[2])
  event(KEYS[3], tonumber(ARGV[4]), '{"type":"mail_failed","conversation":'
        .. cjson.encode(ARGV[3]) .. ',"mail":' .. ARGV[2] .. '}')
end
return 1
