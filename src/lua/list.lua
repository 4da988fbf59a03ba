-- A page of a site's conversations, newest activity first, each with its
-- last message. The order is strict: by the last activity (ms, the score
-- in convs), then by CID, both descending; a cursor "MS-CID" is a place
-- in it, and a page holds what comes after it, so paging neither misses
-- nor repeats a conversation while others arrive (they come before).
-- A conversation written to while paging moves before the cursor: the
-- operators' events bring it.
--
-- With a query, the conversations holding all its terms (index.lua): the
-- rarest term's idx key is read whole and sorted when that costs less
-- than walking convs and testing each (size² < limit × conversations).
-- At most "budget" conversations are examined; a page that stops there
-- has fewer (even none) and a cursor to go on from.
--
-- KEYS: convs. ARGV: the prefix of conversation keys, limit, the prefix
-- of the operators' photo URLs (before "CID/images/ID"), cursor ("" for
-- the newest), filter ("", open, closed, unanswered or mine), the
-- operator, the query ("" for none), budget, the most terms in a query.
-- The conversations' keys and the idx keys share the index's hash slot
-- through the site's tag. Returns the JSON answer.
local convs, prefix, limit = KEYS[1], ARGV[1], tonumber(ARGV[2])
-- every conversation carries its site (a console may serve several)
local site = string.match(prefix, '^chatport:{(.-)}:')
local filter, operator, budget = ARGV[5], ARGV[6], tonumber(ARGV[8])
local cms, ccid = math.huge, ''
if ARGV[4] ~= '' then
  cms, ccid = string.match(ARGV[4], '^(%d+)-(%x+)$')
  if not cms then return redis.error_reply('QUERY invalid cursor') end
  cms = tonumber(cms)
end
local terms = {}
if ARGV[7] ~= '' then
  index_terms(ARGV[7], terms, {}, tonumber(ARGV[9]) + 1)
  if #terms == 0 then
    return redis.error_reply('QUERY no word of two characters or more')
  end
  if #terms > tonumber(ARGV[9]) then
    return redis.error_reply('QUERY more than ' .. ARGV[9] .. ' terms')
  end
  -- the messages stored until now are found
  index_flush(index_queue_key(prefix))
end
local idx = index_prefix(prefix)

-- after the cursor: older, or as old with a lower CID
local function after(s, cid)
  return s < cms or (s == cms and cid < ccid)
end

-- the conversation's answer if it has every term but the one given and
-- passes the filter; nil otherwise (expired ones leave convs)
local function entry(cid, skip)
  for i, t in ipairs(terms) do
    if i ~= skip and not redis.call('ZSCORE', idx .. t, cid) then
      return nil
    end
  end
  -- the filter's fields first: most of those a filter examines fail it
  if filter ~= '' then
    local m = redis.call('HMGET', prefix .. cid, 'status', 'last',
                         'last_agent', 'claimed')
    if (filter == 'open' and m[1] ~= 'open')
       or (filter == 'closed' and m[1] ~= 'closed')
       or (filter == 'unanswered' and (m[1] ~= 'open' or m[2] == m[3]))
       or (filter == 'mine' and m[4] ~= operator)
    then
      if not m[1] then redis.call('ZREM', convs, cid) end
      return nil
    end
  end
  local h = redis.call('HGETALL', prefix .. cid)
  if #h == 0 then
    redis.call('ZREM', convs, cid)
    return nil
  end
  local f = {}
  for j = 1, #h, 2 do f[h[j]] = h[j + 1] end
  local c = {id = cid, status = f.status,
             created = tonumber(f.created), updated = tonumber(f.updated),
             unread = tonumber(f.unread) or 0,
             page = f.page or f.first_page or '',
             first_page = f.first_page or '', referrer = f.referrer or '',
             user_agent = f.user_agent or '', email = f.email or '',
             name = f.name or '', seen = f.seen_visitor or '',
             claimed = f.claimed, site = site}
  if f.mail_failed then c.mail_failed = cjson.decode(f.mail_failed) end
  local c_json = cjson.encode(c)
  local last = redis.call('XREVRANGE', prefix .. cid .. ':msgs', '+', '-',
                          'COUNT', 1)
  if last[1] then
    local m = message(last[1], ARGV[3] .. cid .. '/images/')
    c_json = string.sub(c_json, 1, -2) .. ',"last":' .. cjson.encode(m)
             .. '}'
  end
  return c_json
end

local out, examined, cursor = {}, 0, nil

-- takes the candidates in order (a list of {score, CID}) until the page
-- is full or the budget spent; true when it stopped there
local function take(list, skip)
  for _, p in ipairs(list) do
    if #out == limit or examined == budget then return true end
    examined = examined + 1
    cursor = p
    out[#out + 1] = entry(p[2], skip)
  end
  return false
end

local rare, size = nil, math.huge
if #terms > 0 then
  local now = now_ms()
  for i, t in ipairs(terms) do
    redis.call('ZREMRANGEBYSCORE', idx .. t, '-inf', '(' .. now)
    local n = redis.call('ZCARD', idx .. t)
    if n < size then rare, size = i, n end
  end
end

-- none when no conversation holds the rarest term
local stopped = false
if size == 0 then
  stopped = false
elseif rare and size * size <= limit * redis.call('ZCARD', convs) then
  -- the rarest term's conversations, sorted; those no longer listed go
  local key, list = idx .. terms[rare], {}
  for _, cid in ipairs(redis.call('ZRANGE', key, 0, -1)) do
    local s = redis.call('ZSCORE', convs, cid)
    if not s then
      redis.call('ZREM', key, cid)
    elseif after(tonumber(s), cid) then
      list[#list + 1] = {tonumber(s), cid}
    end
  end
  table.sort(list, function (a, b)
    return a[1] > b[1] or (a[1] == b[1] and a[2] > b[2])
  end)
  stopped = take(list, rare)
else
  -- convs from the cursor on, a batch at a time
  local batch, max, offset = math.max(limit, 100), cms, 0
  while not stopped do
    local r = redis.call('ZRANGE', convs, max == math.huge and '+inf' or max,
                         '-inf', 'BYSCORE', 'REV', 'LIMIT', offset, batch,
                         'WITHSCORES')
    local list = {}
    for i = 1, #r, 2 do
      local s = tonumber(r[i + 1])
      if after(s, r[i]) then list[#list + 1] = {s, r[i]} end
    end
    stopped = take(list)
    if #r < 2 * batch then break end
    -- the next batch: from the last one's score, skipping what was seen
    local last = tonumber(r[#r])
    if last == max then
      offset = offset + batch
    else
      max, offset = last, 0
      cms, ccid = last, r[#r - 1]
    end
  end
end

local c = 'null'
if stopped and cursor then
  c = '"' .. string.format('%d', cursor[1]) .. '-' .. cursor[2] .. '"'
end
return '{"conversations":[' .. table.concat(out, ',') .. '],"cursor":' .. c
       .. '}\n'
