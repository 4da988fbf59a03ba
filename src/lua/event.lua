-- An event for the operators' inbox: stored without its id, published
-- with it. Used by the scripts that write a conversation.
local function event(inbox, retention, json)
  local id = redis.call('XADD', inbox, 'MAXLEN', '~', 1000, '*',
                        'json', json)
  redis.call('PEXPIRE', inbox, retention)
  local ts = string.match(id, '^%d+')
  redis.call('PUBLISH', inbox, id .. ' {"id":"' .. id .. '","ts":' .. ts
             .. ',' .. string.sub(json, 2))
end
