-- A conversation claimed by an operator, assigned to one, or released:
-- the meta's "claimed" is the login of the operator who has it (absent:
-- nobody). Another operator's hold stands unless the request forces it:
-- the script runs alone, so of two operators claiming at once exactly
-- one gets it. A change is an inbox event, {"type": "claimed",
-- "conversation", "operator": LOGIN or null, "name", "by"}.
-- KEYS: meta, inbox. ARGV: cid, the requesting operator, the operator
-- to hold it ("" to release), "1" to take it from another, the new
-- holder's display name ("" for none), retention (ms).
-- Returns "" when done, or the login of the operator who holds it.
local meta, inbox = KEYS[1], KEYS[2]
local cid, me, target = ARGV[1], ARGV[2], ARGV[3]
if redis.call('EXISTS', meta) == 0 then
  return redis.error_reply('UNKNOWN conversation')
end
local holder = redis.call('HGET', meta, 'claimed')
if holder and holder ~= me and holder ~= target and ARGV[4] ~= '1' then
  return holder
end
if (holder or '') == target then return '' end
if target == '' then
  redis.call('HDEL', meta, 'claimed')
else
  redis.call('HSET', meta, 'claimed', target)
end
event(inbox, tonumber(ARGV[6]), '{"type":"claimed","conversation":"' .. cid
      .. '","operator":' .. (target == '' and 'null' or cjson.encode(target))
      .. (ARGV[5] ~= '' and ',"name":' .. cjson.encode(ARGV[5]) or '')
      .. ',"by":' .. cjson.encode(me) .. '}')
return ''
