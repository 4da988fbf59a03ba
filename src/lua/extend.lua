-- A conversation's keys (meta, msgs, images, the page history) live at
-- least the retention after its last activity, and the site's index of
-- conversations as long as any of them; its search terms (index.lua)
-- too. Setting five expiries on every message cost more than storing it,
-- so they are set a little further, by the slack (a hundredth of the
-- retention, at most an hour), and that
-- time is kept in the meta's "expires": a message within the slack finds
-- them far enough already and sets none. Every script that extends a
-- conversation does it here, so "expires" is never later than the keys'
-- expiry; a key created after the keys were extended (the first photo)
-- takes the time from its creator. Called once the meta and the index
-- are written.
--
-- expires: the meta's "expires" as read before. Returns the keys' expiry
-- (ms).
local function extend(meta, msgs, images, convs, ts, retention, expires)
  expires = tonumber(expires)
  if expires and expires >= ts + retention then
    return expires
  end
  local at = ts + retention + math.min(math.floor(retention / 100), 3600000)
  redis.call('HSET', meta, 'expires', at)
  redis.call('PEXPIREAT', meta, at)
  redis.call('PEXPIREAT', msgs, at)
  redis.call('PEXPIREAT', images, at)
  -- the page history (page.lua), in the meta's slot
  redis.call('PEXPIREAT', meta .. ':pages', at)
  redis.call('PEXPIREAT', convs, at)
  redis.call('ZREMRANGEBYSCORE', convs, '-inf', '(' .. (ts - retention))
  index_extend(meta, ts, at)
  return at
end
