-- A canned reply deleted. KEYS: canned, inbox. ARGV: id.
-- Returns 1, or 0 when there is no such reply.
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('PUBLISH', KEYS[2], '~ {"type":"canned"}')
return 1
