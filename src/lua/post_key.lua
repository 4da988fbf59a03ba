-- A post's key (idem, nil without one): a key seen before is answered
-- with the first post's id as a status reply, which tells the caller
-- that nothing was stored.
local function repeated(idem)
  local first = idem and redis.call('GET', idem)
  if first then return redis.status_reply(first) end
end

local function remember(idem, id, ttl)
  if idem then redis.call('SET', idem, id, 'PX', ttl) end
end
