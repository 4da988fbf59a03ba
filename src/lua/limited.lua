-- A fixed-window rate limit: nil, or the ms until the counter allows
-- again. Refused attempts count too, but never extend the window.
local function limited(counter, max, window)
  local n = redis.call('INCR', counter)
  if n == 1 then redis.call('PEXPIRE', counter, window) end
  if n <= tonumber(max) then return nil end
  local ttl = redis.call('PTTL', counter)
  if ttl < 0 then
    redis.call('PEXPIRE', counter, window); ttl = window
  end
  return ttl
end
