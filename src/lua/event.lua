-- An event for the operators' inbox: stored without its id, published
-- with it and its site (from the inbox's name), as stream.lua reads it.
-- Used by the scripts that write a conversation.
local function event(inbox, retention, json)
  local id = redis.call('XADD', inbox, 'MAXLEN', '~', 1000, '*',
                        'json', json)
  redis.call('PEXPIRE', inbox, retention)
  local ts = string.match(id, '^%d+')
  local site = cjson.encode(string.match(inbox, '^chatport:{(.-)}:'))
  redis.call('PUBLISH', inbox, id .. ' {"id":"' .. id .. '","ts":' .. ts
             .. ',"site":' .. site .. ',' .. string.sub(json, 2))
end
