-- A mail the server accepted. KEYS: outbox. ARGV: the entry's id.
-- Returns 0 when the entry was no longer this sender's: another one
-- claimed it meanwhile and may send it again.
local n = redis.call('XACK', KEYS[1], 'senders', ARGV[1])
redis.call('XDEL', KEYS[1], ARGV[1])
return n
