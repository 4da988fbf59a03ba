-- A canned reply deleted. KEYS: canned, inbox. ARGV: id.
-- Returns 1, or 0 when there is no such reply. The consoles hear
-- "~ {"type": "canned", "site"}", as for a save.
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('PUBLISH', KEYS[2], '~ ' .. cjson.encode({type = 'canned',
           site = string.match(KEYS[2], '^chatport:{(.-)}:')}))
return 1
