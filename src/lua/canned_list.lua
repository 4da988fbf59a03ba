-- A site's canned replies, oldest first. KEYS: the canned hash (id:
-- the reply's JSON). Returns the JSON answer.
local h = redis.call('HGETALL', KEYS[1])
local all = {}
for i = 1, #h, 2 do all[#all + 1] = {tonumber(h[i]), h[i + 1]} end
table.sort(all, function (a, b) return a[1] < b[1] end)
local out = {}
for i, e in ipairs(all) do out[i] = e[2] end
return '{"canned":[' .. table.concat(out, ',') .. ']}\n'
