-- A mail to try again later: out of the stream, back in the schedule.
-- KEYS: outbox, due, pending. ARGV: the entry's id, the delay (ms), the
-- entry as it goes on (with its attempts counted).
local n = redis.call('XACK', KEYS[1], 'senders', ARGV[1])
if n == 0 then
  return 0
end
redis.call('XDEL', KEYS[1], ARGV[1])
local now = now_ms()
local member = 'retry:' .. ARGV[1]
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), member)
redis.call('HSET', KEYS[3], member, ARGV[3])
return 1
