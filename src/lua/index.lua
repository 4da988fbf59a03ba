-- The site's search index: chatport:{site}:idx:TERM is a sorted set of
-- the CIDs whose conversation holds TERM, each scored with when its
-- conversation's keys expire; chatport:{site}:conv:CID:terms is the set
-- of the TERMs whose idx key holds CID (erasing a conversation follows
-- it). Used by the scripts that store a message, a form, a contact and a
-- page, by extend() and by the list.
--
-- Normalising, the same for what is stored and what is searched: ASCII
-- letters and digits lower-cased (full-width ones folded to ASCII), words
-- of two characters or more; an email address whole and its words; runs
-- of Japanese, Chinese or Korean characters (no spaces between words) as
-- character bigrams, so 東京 is found in 東京都の配送について. A single
-- letter or a lone CJK character is no term.

-- the longest term (bytes), the terms taken from one text (the first
-- ones), the terms kept for one conversation
local INDEX_TERM_BYTES, INDEX_TEXT_TERMS, INDEX_CONV_TERMS = 64, 100, 1000

-- "chatport:{site}:" .. "idx:", from a conversation's key or its prefix
local function index_prefix(meta)
  return string.match(meta, '^(.*:)conv:') .. 'idx:'
end

-- a CJK character: kana (not ・), CJK ideographs, hangul syllables,
-- half-width katakana, ideographs beyond the BMP
local function index_cjk(ch)
  local b1, b2, b3 = string.byte(ch, 1, 3)
  if #ch == 4 then return b1 == 240 and b2 >= 160 and b2 <= 175 end
  if #ch ~= 3 then return false end
  local cp = (b1 - 224) * 4096 + (b2 - 128) * 64 + (b3 - 128)
  return (cp >= 0x3041 and cp <= 0x30FF and cp ~= 0x30FB and cp ~= 0x30A0)
    or cp == 0x3005 or (cp >= 0x3400 and cp <= 0x9FFF)
    or (cp >= 0xF900 and cp <= 0xFAFF) or (cp >= 0xAC00 and cp <= 0xD7AF)
    or (cp >= 0xFF66 and cp <= 0xFF9F)
end

-- adds the terms of text to the list terms (seen: those already there),
-- up to max in all
local function index_terms(text, terms, seen, max)
  local function add(t)
    if #terms < max and #t <= INDEX_TERM_BYTES and not seen[t] then
      seen[t] = true
      terms[#terms + 1] = t
    end
  end
  if string.find(text, '\239[\188\189]') then
    text = string.gsub(text, '\239\188([\144-\153\161-\186])',
      function (c) return string.char(string.byte(c) - 96) end)
    text = string.gsub(text, '\239\189([\129-\154])',
      function (c) return string.char(string.byte(c) - 32) end)
  end
  text = string.lower(text)
  -- the address pattern backtracks at every word: most texts have none
  if string.find(text, '@', 1, true) then
    for e in string.gmatch(text, '[%w%.%+_%-]+@[%w%-]+%.[%w%.%-]*%w') do
      add(e)
    end
  end
  for w in string.gmatch(text, '%w%w+') do add(w) end
  for run in string.gmatch(text, '[\128-\255]+') do
    local prev
    for ch in string.gmatch(run, '[\192-\255][\128-\191]*') do
      if index_cjk(ch) then
        if prev then add(prev .. ch) end
        prev = ch
      else
        prev = nil
      end
    end
  end
end

-- a page's URL as its words: its path and query (the host is the
-- site's), %XX decoded (Japanese paths)
local function index_url(url)
  return (string.gsub(string.gsub(url, '^%a+://[^/?#]*', ''), '%%(%x%x)',
    function (h) return string.char(tonumber(h, 16)) end))
end

-- A conversation's keys expire at most extend()'s slack (an hour at
-- most) past the retention after its last write.
local INDEX_SLACK = 3600000

-- key expires no earlier than "at" (ms). A fresh "at" is one extend() has
-- just given (now + the retention at least): every entry of the key
-- expires before at + the slack, so one PEXPIREAT sets it. Otherwise the
-- key keeps a later expiry: GT sets a later one, and NX one for a key just
-- created, tried first for a rare term (likely new).
local function index_expire(key, at, fresh, rare)
  if fresh then
    redis.call('PEXPIREAT', key, at + INDEX_SLACK)
    return
  end
  local first, second = 'GT', 'NX'
  if rare then first, second = 'NX', 'GT' end
  if redis.call('PEXPIREAT', key, at, first) == 0 then
    redis.call('PEXPIREAT', key, at, second)
  end
end

-- Of a conversation's terms (a list), those its terms set did not hold,
-- now added to it (up to INDEX_CONV_TERMS in all). at: when its keys
-- expire.
local function index_new(meta, at, terms)
  local set, new = meta .. ':terms', {}
  if #terms == 0 then return new end
  local have = redis.call('SMISMEMBER', set, unpack(terms))
  local room, known = nil, false
  for i, t in ipairs(terms) do
    if have[i] == 0 and not room then
      room = INDEX_CONV_TERMS - redis.call('SCARD', set)
    end
    if have[i] == 0 and #new < room then
      new[#new + 1] = t
    elseif have[i] == 1 then
      known = true
    end
  end
  if #new > 0 then
    redis.call('SADD', set, unpack(new))
    -- a set that was there already expires with the conversation's keys
    if not known and room == INDEX_CONV_TERMS then
      redis.call('PEXPIREAT', set, at)
    end
  end
  return new
end

-- Indexes the texts (strings, "" skipped) of a conversation whose keys
-- expire at "at" (fresh: see index_expire) at once: only the terms it did
-- not have cost a write.
local function index_add(meta, cid, at, fresh, ...)
  local terms, seen = {}, {}
  for i = 1, select('#', ...) do
    local text = select(i, ...)
    if type(text) == 'string' and text ~= '' then
      index_terms(text, terms, seen, INDEX_TEXT_TERMS)
    end
  end
  if not at then return end
  local idx = index_prefix(meta)
  for _, t in ipairs(index_new(meta, at, terms)) do
    redis.call('ZADD', idx .. t, at, cid)
    index_expire(idx .. t, at, fresh)
  end
end

-- A message's text (and the page its visitor is on now, "" for none) is
-- not indexed by the script that stores it: it waits in the site's queue
-- chatport:{site}:index-queue, as "CID AT <bytes of page> PAGE TEXT" (AT:
-- when the conversation's keys expire), until index_flush() indexes it
-- with the messages queued beside it. A worker that stored a message
-- flushes its site's queue a second later, INDEX_FLUSH_MAX messages per
-- script so that none holds Redis long (src/ngx_http_chatport_index.c);
-- a search and an erasure flush it whole first; a message that finds
-- INDEX_QUEUE_MAX waiting flushes INDEX_FLUSH_MAX of them itself. Terms
-- that the messages of a flush share are written once for all of them.
local INDEX_QUEUE_MAX, INDEX_FLUSH_MAX = 10000, 500

-- the members given to one ZADD (pairs): unpack() has a bound
local INDEX_ZADD_MAX = 1000

-- the queue of the site of a conversation's key or of its prefix
local function index_queue_key(meta)
  return string.match(meta, '^(.*:)conv:') .. 'index-queue'
end

-- Indexes the oldest max messages of the queue (nil: all of them);
-- returns how many are left.
local function index_flush(queue, max)
  local entries = redis.call('LRANGE', queue, 0, (max or 0) - 1)
  if #entries == 0 then return 0 end
  local left = 0
  if max and #entries == max then
    redis.call('LTRIM', queue, max, -1)
    left = redis.call('LLEN', queue)
  else
    redis.call('DEL', queue)
  end
  local base = string.match(queue, '^(.*:)index%-queue$')
  local convs, order = {}, {}
  for _, e in ipairs(entries) do
    local cid, at, n = string.match(e, '^(%x+) (%d+) (%d+) ')
    if cid then
      local from = #cid + #at + #n + 4
      local page = string.sub(e, from, from + n - 1)
      local c = convs[cid]
      if not c then
        c = {terms = {}, seen = {}, at = 0}
        convs[cid] = c
        order[#order + 1] = cid
      end
      -- a later message may have extended the conversation
      c.at = math.max(c.at, tonumber(at))
      local most = math.min(#c.terms + INDEX_TEXT_TERMS, INDEX_CONV_TERMS)
      index_terms(string.sub(e, from + n), c.terms, c.seen, most)
      if page ~= '' then
        index_terms(index_url(page), c.terms, c.seen, most)
      end
    end
  end
  -- per term: its new members ({at, cid, ...}) and the latest expiry
  local members, last = {}, {}
  for _, cid in ipairs(order) do
    local at = convs[cid].at
    for _, t in ipairs(index_new(base .. 'conv:' .. cid, at,
                                 convs[cid].terms)) do
      local m = members[t]
      if not m then
        m = {}
        members[t] = m
      end
      m[#m + 1] = at
      m[#m + 1] = cid
      last[t] = math.max(last[t] or 0, at)
    end
  end
  local idx = base .. 'idx:'
  for t, m in pairs(members) do
    for i = 1, #m, 2 * INDEX_ZADD_MAX do
      redis.call('ZADD', idx .. t,
                 unpack(m, i, math.min(i + 2 * INDEX_ZADD_MAX - 1, #m)))
    end
    index_expire(idx .. t, last[t], false, #m == 2)
  end
  return left
end

-- Queues a message's text and page (strings, "" for none) of the
-- conversation meta, whose keys expire at "at"; the queue lives the
-- retention (ms) at most.
local function index_queue(meta, cid, at, text, page, retention)
  if text == '' and page == '' then return end
  local queue = index_queue_key(meta)
  local n = redis.call('RPUSH', queue, cid .. ' ' .. at .. ' ' .. #page
                                       .. ' ' .. page .. text)
  if n == 1 then
    redis.call('PEXPIRE', queue, retention)
  elseif n >= INDEX_QUEUE_MAX then
    index_flush(queue, INDEX_FLUSH_MAX)
  end
end

-- The conversation's keys now expire at "at": its terms and their
-- entries too; the entries of conversations expired before ts go (every
-- idx key still alive holds a conversation that is, so none grows).
local function index_extend(meta, ts, at)
  local set = meta .. ':terms'
  local terms = redis.call('SMEMBERS', set)
  if #terms == 0 then return end
  local idx, cid = index_prefix(meta), string.match(meta, '[^:]*$')
  for _, t in ipairs(terms) do
    redis.call('ZADD', idx .. t, 'GT', at, cid)
    redis.call('ZREMRANGEBYSCORE', idx .. t, '-inf', '(' .. ts)
    index_expire(idx .. t, at, true)
  end
  redis.call('PEXPIREAT', set, at)
end
