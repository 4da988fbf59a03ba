-- The site's photos and its quota. uploads: a sorted set of
-- "CID ID SIZE", each scored by when its conversation expires, as last
-- known; bytes: the sum of their sizes. A conversation expires without
-- a script running, and each message pushes its expiry back: an entry
-- past its score is looked at again, scored anew while its
-- conversation's images live, let go (with its bytes) once they are gone.
local function upload_room(uploads, bytes, prefix, now, size, quota)
  local due = redis.call('ZRANGEBYSCORE', uploads, '-inf', now,
                         'LIMIT', 0, 1000)
  for _, e in ipairs(due) do
    local cid, n = string.match(e, '^(%S+) %S+ (%d+)$')
    local ttl = redis.call('PTTL', prefix .. cid .. ':images')
    if ttl > 0 then
      redis.call('ZADD', uploads, now + ttl, e)
    else
      redis.call('ZREM', uploads, e)
      if redis.call('DECRBY', bytes, n) <= 0 then
        redis.call('DEL', bytes)
      end
    end
  end
  return (tonumber(redis.call('GET', bytes)) or 0) + size <= tonumber(quota)
end
-- A photo stored with its conversation (the message's id is its own).
local function upload_store(images, uploads, bytes, cid, id, data, expiry)
  redis.call('HSET', images, id, data)
  redis.call('ZADD', uploads, expiry, cid .. ' ' .. id .. ' ' .. #data)
  redis.call('INCRBY', bytes, #data)
end
