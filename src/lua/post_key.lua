-- A post's key (idem, nil without one): a key seen before is answered
-- with the first post's id as a status reply, which tells the caller
-- that nothing was stored. It is written again, unchanged: a connection's
-- WAIT (chatport_redis_wait) then covers the first post's write too.
local function repeated(idem)
  local first = idem and redis.call('GET', idem)
  if first then
    redis.call('SET', idem, first, 'KEEPTTL')
    return redis.status_reply(first)
  end
end

-- keys: the conversation's set of its keys' names ("...:conv:CID:keys",
-- given in KEYS right after the key), for the erasure (erase.lua): the
-- names come from the clients, and a script could not find them
-- otherwise. Every key lives ttl, so the set outlives them by living ttl
-- after the last one.
local function remember(idem, id, ttl, keys)
  if idem then
    redis.call('SET', idem, id, 'PX', ttl)
    redis.call('SADD', keys, idem)
    redis.call('PEXPIRE', keys, ttl)
  end
end
