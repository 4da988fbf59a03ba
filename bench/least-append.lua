-- The least a message script can do, for bench/least-script.sh only: it
-- stands in for src/lua/append.lua (same KEYS and ARGV) in a copy of the
-- module, to measure how far any change of the script could take the
-- publish rate. It stores the message, points the conversation at it
-- (a poll's cursor is checked against "last") and tells the polls; it
-- has none of the rest a message needs (the rates, the conversation
-- list, the operators' inbox, the expiries, the search index, mail, retry
-- keys).
local meta, msgs = KEYS[1], KEYS[2]
local id = redis.call('XADD', msgs, 'MAXLEN', ARGV[9], '*',
                      'from', ARGV[3], 'text', ARGV[5])
redis.call('HSET', meta, 'cid', ARGV[2], 'status', 'open', 'last', id)
redis.call('PUBLISH', meta, id .. ' {"id":"' .. id .. '","from":"'
           .. ARGV[3] .. '","text":' .. cjson.encode(ARGV[5]) .. '}')
return id
