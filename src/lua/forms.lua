-- The contact forms after a cursor, each with its state: "done" once an
-- operator marked it so (its id in the sorted set done, scored by its
-- time), else "new"; and how many of all the kept forms are new. Ids of
-- forms trimmed from the stream are let go here, and the set of done
-- forms lives as long as the forms.
--
-- KEYS: forms, done. ARGV: after, count.
-- Returns {count, JSON}.
local forms, done, after = KEYS[1], KEYS[2], ARGV[1]
local first = redis.call('XRANGE', forms, '-', '+', 'COUNT', 1)[1]
if first then
  redis.call('ZREMRANGEBYSCORE', done, '-inf',
             '(' .. string.match(first[1], '^%d+'))
else
  redis.call('DEL', done)
end
-- the forms' expiry moves with each new form: the states follow it
local ttl = redis.call('PTTL', forms)
if ttl > 0 and redis.call('EXISTS', done) == 1 then
  redis.call('PEXPIRE', done, ttl)
end
local entries = redis.call('XRANGE', forms, '(' .. after, '+', 'COUNT',
                           ARGV[2])
local items = {}
local cursor = after
-- every form carries its site (a console may serve several)
local site = cjson.encode(string.match(forms, '^chatport:{(.-)}:'))
for i, e in ipairs(entries) do
  local state = redis.call('ZSCORE', done, e[1]) and 'done' or 'new'
  items[i] = '{"id":"' .. e[1] .. '","ts":' .. string.match(e[1], '^%d+')
             .. ',"site":' .. site .. ',"state":"' .. state .. '",'
             .. string.sub(e[2][2], 2)
  cursor = e[1]
end
local new = redis.call('XLEN', forms) - redis.call('ZCARD', done)
return {#items, '{"forms":[' .. table.concat(items, ',') .. '],"cursor":'
        .. cjson.encode(cursor) .. ',"new":' .. math.max(new, 0) .. '}\n'}
