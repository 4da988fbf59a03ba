-- An operator marks a form new or done, for every operator: the other
-- consoles hear of it through the inbox. The set of done forms lives as
-- long as the forms.
--
-- KEYS: forms, done, inbox. ARGV: the form's id, "new" or "done", the
-- operator, retention (ms). Returns 1.
local forms, done, inbox, id = KEYS[1], KEYS[2], KEYS[3], ARGV[1]
local e = redis.call('XRANGE', forms, id, id)[1]
if not e then
  return redis.error_reply('UNKNOWN form')
end
if ARGV[2] == 'done' then
  redis.call('ZADD', done, string.match(id, '^%d+'), id)
  redis.call('PEXPIRE', done, math.max(redis.call('PTTL', forms),
                                       tonumber(ARGV[4])))
else
  redis.call('ZREM', done, id)
end
local ok, f = pcall(cjson.decode, e[2][2])
local ev = {type = 'form_state', form = id, state = ARGV[2],
            operator = ARGV[3]}
if ok and type(f) == 'table' then ev.conversation = f.conversation end
event(inbox, tonumber(ARGV[4]), cjson.encode(ev))
return 1
