-- A data request's export: everything stored about the conversations and
-- forms found (data_find.lua), as JSON. Photos are their operators' URLs.
--
-- KEYS: convs, forms, forms-done.
-- ARGV: the prefix of conversation keys, mode, value, the most
-- conversations, the prefix of the operators' photo URLs (before
-- "CID/images/ID").
-- Returns {conversations, JSON}.
local convs, forms, done = KEYS[1], KEYS[2], KEYS[3]
local prefix, mode, value = ARGV[1], ARGV[2], ARGV[3]
local found = data_find(prefix, convs, forms, mode, value, tonumber(ARGV[4]))
if not found then
  return redis.error_reply('UNKNOWN ' .. mode)
end
local out = {}
for _, cid in ipairs(found.cids) do
  local meta = prefix .. cid
  local h = redis.call('HGETALL', meta)
  local m = {}
  for j = 1, #h, 2 do m[h[j]] = h[j + 1] end
  local msgs = {}
  for i, e in ipairs(redis.call('XRANGE', meta .. ':msgs', '-', '+')) do
    msgs[i] = cjson.encode((message(e, ARGV[5] .. cid .. '/images/')))
  end
  -- the page history's entries are JSON already
  local pages = redis.call('LRANGE', meta .. ':pages', 0, -1)
  out[#out + 1] = '{"id":' .. cjson.encode(cid) .. ',"meta":'
                  .. cjson.encode(m) .. ',"messages":['
                  .. table.concat(msgs, ',') .. '],"pages":['
                  .. table.concat(pages, ',') .. ']}'
end
local items = {}
for i, e in ipairs(found.forms) do
  local state = redis.call('ZSCORE', done, e[1]) and 'done' or 'new'
  items[i] = '{"id":"' .. e[1] .. '","ts":' .. string.match(e[1], '^%d+')
             .. ',"state":"' .. state .. '",' .. string.sub(e[2][2], 2)
end
return {#found.cids, '{' .. cjson.encode(mode) .. ':' .. cjson.encode(value)
        .. ',"conversations":[' .. table.concat(out, ',') .. '],"forms":['
        .. table.concat(items, ',') .. '],"more":' .. tostring(found.more)
        .. '}\n'}
