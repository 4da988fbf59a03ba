-- A sender's turn at a site's outbox: the mails due are made from the
-- schedule and added to the outbox stream, then this sender takes what a
-- dead sender left (pending longer than the claim time) and new entries,
-- through the stream's consumer group "senders": each entry goes to one
-- sender.
--
-- KEYS: due, pending, outbox, swept (a marker). ARGV: the prefix of
-- conversation keys, the consumer, the claim time (ms), the most entries
-- to take.
-- Returns {ms until the next mail is due (-1: none), id, JSON, ...}.
local due, pending, outbox, swept = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local prefix, consumer = ARGV[1], ARGV[2]
local claim, count = ARGV[3], tonumber(ARGV[4])
local now = now_ms()

local function latest(a, b)
  if after_id(a, b) then return a end
  return b
end

-- the mail's number in its conversation, and the first one its side got:
-- the owners' and the visitor's mails thread separately
local function number(meta, side)
  if redis.call('EXISTS', meta) == 0 then
    return 1, 1
  end
  local seq = redis.call('HINCRBY', meta, 'mail_seq', 1)
  local root = redis.call('HGET', meta, 'mail_root_' .. side)
  if not root then
    redis.call('HSET', meta, 'mail_root_' .. side, seq)
    root = seq
  end
  return seq, tonumber(root)
end

-- the messages after a cursor written by one side, at most 50, and the
-- last id read; the form's own message is in the form's mail
local function news(meta, cursor, from)
  local list, last = {}, nil
  local entries = redis.call('XRANGE', meta .. ':msgs', '(' .. cursor, '+',
                             'COUNT', 200)
  for _, e in ipairs(entries) do
    local m, f = message(e)
    if f.from == from and not f.form and #list < 50 then
      list[#list + 1] = m
    end
    last = e[1]
  end
  return list, last
end

local function build(member, value)
  local kind = string.match(member, '^(%a+):')
  if kind == 'retry' then
    return value
  end

  local base, form = value, nil
  if kind == 'form' then
    base, form = string.match(value, '^([^\n]*)\n(.*)$')
  end
  local ok, e = pcall(cjson.decode, base or '')
  if not ok or type(e) ~= 'table' or type(e.cid) ~= 'string' then
    return nil
  end

  local meta = prefix .. e.cid
  local h = redis.call('HMGET', meta, 'email', 'name', 'page', 'referrer',
                       'mailed_owner', 'last_agent', 'mailed_visitor',
                       'seen_visitor')
  e.visitor = {email = h[1] or '', name = h[2] or ''}
  e.page, e.referrer = h[3] or '', h[4] or ''

  if kind == 'form' then
    e.reply_to = h[1] or ''
    e.seq, e.root = number(meta, 'owner')

  elseif kind == 'owner' then
    -- what an operator answered needs no mail
    local list, last = news(meta, latest(h[5] or '0-0', h[6] or '0-0'),
                            'visitor')
    if last then redis.call('HSET', meta, 'mailed_owner', last) end
    if #list == 0 then return nil end
    e.messages = list
    e.reply_to = h[1] or ''
    e.seq, e.root = number(meta, 'owner')

  elseif kind == 'visitor' then
    -- what the widget showed needs no mail
    if not h[1] then return nil end
    local list, last = news(meta, latest(h[7] or '0-0', h[8] or '0-0'),
                            'agent')
    if last then redis.call('HSET', meta, 'mailed_visitor', last) end
    if #list == 0 then return nil end
    e.messages = list
    local before = redis.call('XREVRANGE', meta .. ':msgs',
                              '(' .. list[1].id, '-', 'COUNT', 10)
    if #before > 0 then
      e.thread = {}
      for i = #before, 1, -1 do
        e.thread[#e.thread + 1] = message(before[i])
      end
    end
    e.reply_to = e.to[1] or ''
    e.to = {h[1]}
    e.link = e.page
    e.seq, e.root = number(meta, 'visitor')

  else
    return nil
  end

  e.ts = now
  local json = cjson.encode(e)
  if form then
    json = string.sub(json, 1, -2) .. ',"form":' .. form .. '}'
  end
  return json
end

if redis.call('EXISTS', outbox) == 0 then
  redis.pcall('XGROUP', 'CREATE', outbox, 'senders', '0', 'MKSTREAM')
end

local items = redis.call('ZRANGEBYSCORE', due, '-inf', now, 'LIMIT', 0, 100)
for _, member in ipairs(items) do
  local value = redis.call('HGET', pending, member)
  redis.call('ZREM', due, member)
  redis.call('HDEL', pending, member)
  local json = value and build(member, value)
  if json then
    redis.call('XADD', outbox, '*', 'mail', json)
  end
end

-- every worker start makes a consumer: once an hour the ones idle for an
-- hour with nothing pending (their entries were claimed) are removed
if redis.call('SET', swept, '1', 'NX', 'EX', 3600) then
  for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', outbox, 'senders')) do
    local f = {}
    for j = 1, #c, 2 do f[c[j]] = c[j + 1] end
    if f.pending == 0 and f.idle > 3600000 and f.name ~= consumer then
      redis.call('XGROUP', 'DELCONSUMER', outbox, 'senders', f.name)
    end
  end
end

local out = {-1}

local function take(entries)
  for _, e in ipairs(entries) do
    if e[2] then
      out[#out + 1] = e[1]
      out[#out + 1] = e[2][2] or ''
    end
  end
end

take(redis.call('XAUTOCLAIM', outbox, 'senders', consumer, claim, '0-0',
                'COUNT', count)[2])

local left = count - (#out - 1) / 2
if left > 0 then
  local new = redis.call('XREADGROUP', 'GROUP', 'senders', consumer,
                         'COUNT', left, 'STREAMS', outbox, '>')
  if new then take(new[1][2]) end
end

local first = redis.call('ZRANGE', due, 0, 0, 'WITHSCORES')
if first[2] then
  out[1] = math.max(tonumber(first[2]) - now, 0)
end

return out
