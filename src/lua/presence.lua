-- The operators' presence of a site: read, or changed by a status or a
-- console's poll.
--
-- KEYS: status (a hash: operator -> "online" or "away", kept until
-- changed), conns (a sorted set: "<poll id>:<operator>" -> the time, ms,
-- until which that poll counts as a connected console), seen (a hash:
-- operator -> the last start or end of a poll, ms).
-- ARGV: what ("read", "status" or "poll"), site, operator, the status or
-- the poll id, span (ms: the poll counts until now + span).
-- Returns {ms the site stays available (0: not available), Redis's now,
-- then per operator: name, status, ms it stays available, ms its
-- connections last, last seen}. A change is published to every worker
-- as "<ms available> <site>"; Redis's clock is the one every host shares.
local status, conns, seen = KEYS[1], KEYS[2], KEYS[3]
local what, site, op = ARGV[1], ARGV[2], ARGV[3]
local now = now_ms()
if what == 'status' then
  redis.call('HSET', status, op, ARGV[4])
elseif what == 'poll' then
  redis.call('ZREMRANGEBYSCORE', conns, '-inf', now)
  redis.call('ZADD', conns, now + tonumber(ARGV[5]), ARGV[4] .. ':' .. op)
  local last = redis.call('ZRANGE', conns, -1, -1, 'WITHSCORES')
  redis.call('PEXPIRE', conns, math.max(tonumber(last[2]) - now, 1))
  redis.call('HSET', seen, op, now)
end
local ops, names = {}, {}
local function get(name)
  if not ops[name] then
    ops[name] = { till = now, seen = 0, status = 'away' }
    names[#names + 1] = name
  end
  return ops[name]
end
-- a member is "<poll id>:<operator>", the poll id 16 hex digits
local c = redis.call('ZRANGEBYSCORE', conns, '(' .. now, '+inf',
                     'WITHSCORES')
for i = 1, #c, 2 do
  local o = get(string.sub(c[i], 18))
  o.till = math.max(o.till, tonumber(c[i + 1]))
end
local h = redis.call('HGETALL', status)
for i = 1, #h, 2 do get(h[i]).status = h[i + 1] end
h = redis.call('HGETALL', seen)
for i = 1, #h, 2 do get(h[i]).seen = tonumber(h[i + 1]) end
table.sort(names)
local out = { 0, now }
for _, name in ipairs(names) do
  local o, left = ops[name], 0
  if o.status == 'online' then left = o.till - now end
  out[1] = math.max(out[1], left)
  out[#out + 1] = name
  out[#out + 1] = o.status
  out[#out + 1] = left
  out[#out + 1] = o.till - now
  out[#out + 1] = o.seen
end
if what ~= 'read' then
  redis.call('PUBLISH', 'chatport:presence', out[1] .. ' ' .. site)
end
return out
