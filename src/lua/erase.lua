-- A data request's erasure: the conversations found (data_find.lua) and
-- everything that names them, in one script.
--
-- Per conversation: its search-index entries (the site's index queue
-- flushed first; each idx:TERM of its terms set, the idx key deleted when
-- empty), its retry keys (the set kept by
-- post_key.lua), its keys (meta, msgs, images, pages, terms, keys), its
-- place in the index of conversations. In the site: the photos' entries
-- in the uploads index with their bytes off the counter, the forms (and
-- their state), the mails scheduled or in the outbox, the inbox events
-- naming them. The consoles and the visitor's widget hear of it through
-- pub/sub only ("~" and "*"): a stored event would name it again.
--
-- KEYS: convs, forms, forms-done, uploads, upload-bytes, mail-due,
-- mail-pending, outbox, inbox.
-- ARGV: the prefix of conversation keys, the prefix of the search index,
-- mode, value, the most conversations (data_find.lua).
-- Returns {conversations erased, 1 when more are left, cid, ...}.
local convs, forms, done, uploads = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local bytes, due, pending = KEYS[5], KEYS[6], KEYS[7]
local outbox, inbox = KEYS[8], KEYS[9]
local prefix, idx = ARGV[1], ARGV[2]
-- the messages waiting to be indexed get their entries, erased below
index_flush(index_queue_key(prefix))
local found = data_find(prefix, convs, forms, ARGV[3], ARGV[4],
                        tonumber(ARGV[5]))
if not found then
  return redis.error_reply('UNKNOWN ' .. ARGV[3])
end
local set = found.set
for _, cid in ipairs(found.cids) do
  local meta = prefix .. cid
  for _, term in ipairs(redis.call('SMEMBERS', meta .. ':terms')) do
    redis.call('ZREM', idx .. term, cid)
    if redis.call('ZCARD', idx .. term) == 0 then
      redis.call('DEL', idx .. term)
    end
  end
  for _, key in ipairs(redis.call('SMEMBERS', meta .. ':keys')) do
    redis.call('DEL', key)
  end
  redis.call('DEL', meta, meta .. ':msgs', meta .. ':images',
             meta .. ':pages', meta .. ':terms', meta .. ':keys')
  redis.call('ZREM', convs, cid)
  redis.call('PUBLISH', meta, '* erased')
  redis.call('PUBLISH', inbox, '~ ' .. cjson.encode({type = 'erased',
             conversation = cid}))
end
-- "CID ID SIZE"
for _, m in ipairs(redis.call('ZRANGE', uploads, 0, -1)) do
  local cid, n = string.match(m, '^(%S+) %S+ (%d+)$')
  if cid and set[cid] and redis.call('ZREM', uploads, m) == 1
     and redis.call('DECRBY', bytes, n) <= 0
  then
    redis.call('DEL', bytes)
  end
end
for _, e in ipairs(found.forms) do
  redis.call('XDEL', forms, e[1])
  redis.call('ZREM', done, e[1])
  redis.call('ZREM', due, 'form:' .. e[1])
  redis.call('HDEL', pending, 'form:' .. e[1])
end
-- mails: "owner:CID", "visitor:CID", and those whose content names it
for _, member in ipairs(redis.call('ZRANGE', due, 0, -1)) do
  if data_mentions(member, set) then
    redis.call('ZREM', due, member)
    redis.call('HDEL', pending, member)
  end
end
local p = redis.call('HGETALL', pending)
for i = 1, #p, 2 do
  if data_mentions(p[i + 1], set) then
    redis.call('ZREM', due, p[i])
    redis.call('HDEL', pending, p[i])
  end
end
for _, stream in ipairs({outbox, inbox}) do
  for _, e in ipairs(redis.call('XRANGE', stream, '-', '+')) do
    if data_mentions(table.concat(e[2], ' '), set) then
      if stream == outbox then
        -- taken by a sender: its claim goes too (no group: nothing to do)
        pcall(redis.call, 'XACK', outbox, 'senders', e[1])
      end
      redis.call('XDEL', stream, e[1])
    end
  end
end
local out = {#found.cids, found.more and 1 or 0}
for _, cid in ipairs(found.cids) do out[#out + 1] = cid end
return out
