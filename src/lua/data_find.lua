-- What a data request (erase.lua, export.lua) is about. mode
-- "conversation": the conversation value; "email": every conversation
-- whose contact email is value (lower case, compared so) and every form
-- sent with it, with the forms' conversations. At most limit
-- conversations are taken; more tells that others are left.
--
-- The conversations' keys are reached from the site's prefix: they carry
-- the site's hash tag, so they are in the slot of the keys passed.
--
-- Returns nil when nothing is stored about it, else {cids = {...},
-- set = {cid = true}, forms = {stream entries}, more = boolean}.
local function data_find(prefix, convs, forms, mode, value, limit)
  local found = {cids = {}, set = {}, forms = {}, more = false}
  local function take(cid)
    if type(cid) ~= 'string' or found.set[cid] then return end
    if #found.cids >= limit then
      found.more = true
      return
    end
    found.set[cid] = true
    found.cids[#found.cids + 1] = cid
  end
  local function sent_with(f)
    return mode == 'email' and type(f.fields) == 'table'
           and type(f.fields.email) == 'string'
           and string.lower(f.fields.email) == value
  end
  if mode == 'conversation' then
    if redis.call('EXISTS', prefix .. value) == 1 then take(value) end
  else
    for _, cid in ipairs(redis.call('ZRANGE', convs, 0, -1)) do
      local email = redis.call('HGET', prefix .. cid, 'email')
      if email and string.lower(email) == value then take(cid) end
    end
  end
  -- the forms: a cheap look for the value before decoding each
  local candidates = {}
  for _, e in ipairs(redis.call('XRANGE', forms, '-', '+')) do
    local json = e[2][2]
    if string.find(string.lower(json), value, 1, true) then
      local ok, f = pcall(cjson.decode, json)
      if ok and type(f) == 'table' then
        candidates[#candidates + 1] = {e = e, f = f}
        if sent_with(f) then take(f.conversation) end
      end
    end
  end
  for _, c in ipairs(candidates) do
    if sent_with(c.f) or found.set[c.f.conversation] then
      found.forms[#found.forms + 1] = c.e
    end
  end
  if #found.cids == 0 and #found.forms == 0 then return nil end
  return found
end

-- whether a text names one of the conversations (a CID is 32 hex digits)
local function data_mentions(text, set)
  for h in string.gmatch(text, '%x+') do
    if set[h] then return true end
  end
  return false
end
