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
  for e in string.gmatch(text, '[%w%.%+_%-]+@[%w%-]+%.[%w%.%-]*%w') do
    add(e)
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

-- key expires at "at" (ms) unless it lives longer already
local function index_expire(key, at)
  local e = redis.call('PEXPIRETIME', key)
  if e < at then redis.call('PEXPIREAT', key, at) end
end

-- Indexes the texts (strings, "" skipped) of a conversation whose keys
-- expire at "at": only the terms it did not have cost a write.
local function index_add(meta, cid, at, ...)
  local terms, seen = {}, {}
  for i = 1, select('#', ...) do
    local text = select(i, ...)
    if type(text) == 'string' and text ~= '' then
      index_terms(text, terms, seen, INDEX_TEXT_TERMS)
    end
  end
  if #terms == 0 or not at then return end
  local set, idx = meta .. ':terms', index_prefix(meta)
  local have = redis.call('SMISMEMBER', set, unpack(terms))
  local new, room = {}, nil
  for i, t in ipairs(terms) do
    if have[i] == 0 and not room then
      room = INDEX_CONV_TERMS - redis.call('SCARD', set)
    end
    if have[i] == 0 and #new < room then
      redis.call('ZADD', idx .. t, at, cid)
      index_expire(idx .. t, at)
      new[#new + 1] = t
    end
  end
  if #new > 0 then
    redis.call('SADD', set, unpack(new))
    redis.call('PEXPIREAT', set, at)
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
    index_expire(idx .. t, at)
  end
  redis.call('PEXPIREAT', set, at)
end
