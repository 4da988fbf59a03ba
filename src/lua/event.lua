-- An event for the operators' inbox: stored without its id, published
-- with it and its site (from the inbox's name), as stream.lua reads it.
-- Used by the scripts that write a conversation. The inbox lives the
-- retention (ms) after it; "later": the caller extends an inbox that is
-- there with the conversation's keys (append.lua, one PEXPIRE less per
-- message), and only an inbox this event creates gets its expiry here.
local function event(inbox, retention, json, later)
  local id = later and redis.call('XADD', inbox, 'NOMKSTREAM', 'MAXLEN',
                                  '~', 1000, '*', 'json', json)
  if not id then
    id = redis.call('XADD', inbox, 'MAXLEN', '~', 1000, '*', 'json', json)
    redis.call('PEXPIRE', inbox, retention)
  end
  local ts = string.match(id, '^%d+')
  local site = cjson.encode(string.match(inbox, '^chatport:{(.-)}:'))
  redis.call('PUBLISH', inbox, id .. ' {"id":"' .. id .. '","ts":' .. ts
             .. ',"site":' .. site .. ',' .. string.sub(json, 2))
end
