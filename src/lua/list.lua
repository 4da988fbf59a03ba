-- The latest conversations of a site, each with its last message.
--
-- KEYS: convs. ARGV: the prefix of conversation keys, count, the
-- prefix of the operators' photo URLs (before "CID/images/ID"). The
-- conversations' keys share the index's hash slot through the site's
-- tag. Returns the JSON answer.
local convs, prefix = KEYS[1], ARGV[1]
local ids = redis.call('ZREVRANGE', convs, 0, tonumber(ARGV[2]) - 1)
local out = {}
for _, cid in ipairs(ids) do
  local h = redis.call('HGETALL', prefix .. cid)
  if #h == 0 then
    redis.call('ZREM', convs, cid)
  else
    local f = {}
    for j = 1, #h, 2 do f[h[j]] = h[j + 1] end
    local c = {id = cid, status = f.status,
               created = tonumber(f.created), updated = tonumber(f.updated),
               unread = tonumber(f.unread) or 0,
               page = f.page or f.first_page or '',
               first_page = f.first_page or '', referrer = f.referrer or '',
               user_agent = f.user_agent or '', email = f.email or '',
               name = f.name or '', seen = f.seen_visitor or ''}
    if f.mail_failed then c.mail_failed = cjson.decode(f.mail_failed) end
    local c_json = cjson.encode(c)
    local last = redis.call('XREVRANGE', prefix .. cid .. ':msgs', '+', '-',
                            'COUNT', 1)
    if last[1] then
      local m = message(last[1], ARGV[3] .. cid .. '/images/')
      c_json = string.sub(c_json, 1, -2) .. ',"last":' .. cjson.encode(m)
               .. '}'
    end
    out[#out + 1] = c_json
  end
end
return '{"conversations":[' .. table.concat(out, ',') .. ']}\n'
