
/*
 * ChatPort: conversations in Redis.
 *
 * Keys and channels of a site all carry the site as a Redis Cluster hash
 * tag, "chatport:{site}:...", and every key a script touches is passed in
 * KEYS, so the scripts run unchanged on a cluster.
 *
 *   chatport:{site}:conv:CID        hash: the conversation's metadata
 *   chatport:{site}:conv:CID:msgs   stream: its messages
 *   chatport:{site}:convs           sorted set: CIDs by last activity
 *   chatport:{site}:inbox           stream: events for the operators
 *   chatport:{site}:conv:CID:key:K  string: the id of the message posted
 *                                   with key K, for a retry window
 *   chatport:{site}:form-key:A:K    the same for a form from address A
 *                                   (a contact's key is a message's)
 *   chatport:{site}:chat-rate:A     counter: conversations opened from A
 *   chatport:{site}:chat-rate       counter: conversations opened
 *   chatport:{site}:mail-due        sorted set: mails by the time they
 *                                   are due, "form:ID", "owner:CID",
 *                                   "visitor:CID", "retry:ID"
 *   chatport:{site}:mail-pending    hash: what each of them is made of
 *   chatport:{site}:outbox          stream: mails to send, read by the
 *                                   senders' consumer group (outbox.c)
 *   chatport:{site}:outbox-swept    string: the group's idle consumers
 *                                   were removed less than an hour ago
 *
 * A message is published to the channel named like its conversation's
 * hash, an event to the channel named like the inbox, each as
 * "<stream id> <JSON>".
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_chatport_store.h"
#include "ngx_http_chatport_lua.h"


/* the longest key name: a form's key, with a client address */
#define NGX_HTTP_CHATPORT_KEY_MAX                                             \
    (sizeof("chatport:{}:form-key::") + NGX_HTTP_CHATPORT_SITE_MAX           \
     + NGX_SOCKADDR_STRLEN + NGX_HTTP_CHATPORT_POST_KEY_MAX)

#define NGX_HTTP_CHATPORT_ARGS_MAX  32

/* a post's key is remembered this long, at most for the retention */
#define NGX_HTTP_CHATPORT_KEY_WINDOW  (24 * 60 * 60 * 1000)


static ngx_int_t ngx_http_chatport_store_rate(ngx_pool_t *pool,
    ngx_http_chatport_rate_t *rate, ngx_str_t *args);


/* Lua shared by the scripts: a stream entry as a message's JSON */
#define NGX_HTTP_CHATPORT_LUA_MESSAGE                                         \
"local function message(e)\n"                                                 \
"  local f = {}\n"                                                            \
"  for j = 1, #e[2], 2 do f[e[2][j]] = e[2][j + 1] end\n"                     \
"  local m = {id = e[1], from = f.from, text = f.text,"                      \
" ts = tonumber(string.match(e[1], '^%d+'))}\n"                               \
"  if f.agent then m.agent = f.agent end\n"                                   \
"  return cjson.encode(m)\n"                                                  \
"end\n"

/* ... and whether stream id a is after b */
#define NGX_HTTP_CHATPORT_LUA_AFTER                                           \
"local function after_id(a, b)\n"                                             \
"  local am, as = string.match(a, '^(%d+)-(%d+)$')\n"                         \
"  local bm, bs = string.match(b, '^(%d+)-(%d+)$')\n"                         \
"  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)\n" \
"  return am > bm or (am == bm and as > bs)\n"                                \
"end\n"

/*
 * ... and a fixed-window rate limit: nil, or the ms until the counter
 * allows again. Refused attempts count too, but never extend the window.
 */
#define NGX_HTTP_CHATPORT_LUA_LIMITED                                         \
"local function limited(counter, max, window)\n"                              \
"  local n = redis.call('INCR', counter)\n"                                   \
"  if n == 1 then redis.call('PEXPIRE', counter, window) end\n"               \
"  if n <= tonumber(max) then return nil end\n"                               \
"  local ttl = redis.call('PTTL', counter)\n"                                 \
"  if ttl < 0 then\n"                                                         \
"    redis.call('PEXPIRE', counter, window); ttl = window\n"                  \
"  end\n"                                                                     \
"  return ttl\n"                                                              \
"end\n"

/*
 * ... and a post's key (idem, nil without one): a key seen before is
 * answered with the first post's id as a status reply, which tells the
 * caller that nothing was stored.
 */
#define NGX_HTTP_CHATPORT_LUA_KEY                                             \
"local function repeated(idem)\n"                                             \
"  local first = idem and redis.call('GET', idem)\n"                          \
"  if first then return redis.status_reply(first) end\n"                      \
"end\n"                                                                       \
"local function remember(idem, id, ttl)\n"                                    \
"  if idem then redis.call('SET', idem, id, 'PX', ttl) end\n"                 \
"end\n"


/*
 * KEYS: meta, msgs, convs, inbox, the client's and the site's counters of
 * new conversations, the mail schedule (due, pending), the presence
 * (status, conns), the post's key (optional). ARGV: create, cid, from,
 * agent, text, page, referrer, user agent, history, retention (ms), the
 * client's rate (count, window), the site's, the key's lifetime (ms), the
 * location's mail settings ("" for none), the console's link, "1" when
 * the business hours are open.
 */
static ngx_http_chatport_redis_script_t  ngx_http_chatport_append_script = {
    ngx_string(
NGX_HTTP_CHATPORT_LUA_EVENT
NGX_HTTP_CHATPORT_LUA_LIMITED
NGX_HTTP_CHATPORT_LUA_KEY
NGX_HTTP_CHATPORT_LUA_MAIL_SCHEDULE
"local meta, msgs, convs, inbox = KEYS[1], KEYS[2], KEYS[3], KEYS[4]\n"
"local due, pending, idem = KEYS[7], KEYS[8], KEYS[11]\n"
"local create, cid, from, agent, text = ARGV[1], ARGV[2], ARGV[3],"
" ARGV[4], ARGV[5]\n"
"local page, referrer, ua = ARGV[6], ARGV[7], ARGV[8]\n"
"local history, retention = ARGV[9], tonumber(ARGV[10])\n"
"local first = repeated(idem)\n"
"if first then return first end\n"
"local exists = redis.call('EXISTS', meta) == 1\n"
"if not exists and create ~= '1' then\n"
"  return redis.error_reply('UNKNOWN conversation')\n"
"end\n"
"if not exists then\n"
"  local ttl = limited(KEYS[5], ARGV[11], ARGV[12])"
" or limited(KEYS[6], ARGV[13], ARGV[14])\n"
"  if ttl then return redis.error_reply('RATE ' .. ttl) end\n"
"end\n"
"local fields = {'from', from, 'text', text}\n"
"if agent ~= '' then fields[5] = 'agent'; fields[6] = agent end\n"
"local id = redis.call('XADD', msgs, 'MAXLEN', history, '*',"
" unpack(fields))\n"
"local ts = tonumber(string.match(id, '^%d+'))\n"
"if not exists then\n"
"  redis.call('HSET', meta, 'cid', cid, 'created', ts, 'referrer',"
" referrer, 'user_agent', ua, 'first_page', page, 'unread', 0)\n"
"end\n"
"redis.call('HSET', meta, 'status', 'open', 'updated', ts, 'last', id)\n"
"if page ~= '' then redis.call('HSET', meta, 'page', page) end\n"
"if from == 'visitor' then redis.call('HINCRBY', meta, 'unread', 1)\n"
"else redis.call('HSET', meta, 'unread', 0) end\n"
"redis.call('PEXPIRE', meta, retention)\n"
"redis.call('PEXPIRE', msgs, retention)\n"
"redis.call('ZADD', convs, ts, cid)\n"
"redis.call('ZREMRANGEBYSCORE', convs, '-inf', '(' .. (ts - retention))\n"
"redis.call('PEXPIRE', convs, retention)\n"
"local msg = {id = id, from = from, text = text, ts = ts}\n"
"if agent ~= '' then msg.agent = agent end\n"
"redis.call('PUBLISH', meta, id .. ' ' .. cjson.encode(msg))\n"
"local ev = {type = exists and 'message' or 'conversation',"
" conversation = cid, message = msg}\n"
"if page ~= '' then ev.page = page end\n"
"event(inbox, retention, cjson.encode(ev))\n"
"if from == 'agent' then redis.call('HSET', meta, 'last_agent', id) end\n"
"local mail = ARGV[16]\n"
"if mail ~= '' then\n"
"  local s = cjson.decode(mail)\n"
"  if from == 'visitor' and s.to[1] then\n"
"    local avail = ARGV[18] == '1' and available(KEYS[9], KEYS[10], ts)\n"
"    mail_schedule(due, pending, 'owner:' .. cid,"
" ts + (avail and s.wait or s.delay), mail_base(mail, cid, 'owner',"
" avail and 'unanswered' or 'offline', ARGV[17]), s.site, ts)\n"
"  elseif from == 'agent' then\n"
"    mail_cancel(due, pending, 'owner:' .. cid)\n"
"    if s.mail_visitor and redis.call('HEXISTS', meta, 'email') == 1 then\n"
"      mail_schedule(due, pending, 'visitor:' .. cid, ts + s.delay,"
" mail_base(mail, cid, 'visitor', '', ''), s.site, ts)\n"
"    end\n"
"  end\n"
"end\n"
"remember(idem, id, ARGV[15])\n"
"return id\n"),
    { 0 }
};


/*
 * KEYS: meta, msgs. ARGV: after ("" for all), count, "1" to mark the
 * conversation read, the status the visitor knows ("" for an operator's
 * read, "-" for none). Returns {count, JSON}; a visitor's answer carries
 * the status, and a status the visitor does not know yet counts as news.
 */
static ngx_http_chatport_redis_script_t  ngx_http_chatport_read_script = {
    ngx_string(
NGX_HTTP_CHATPORT_LUA_MESSAGE
NGX_HTTP_CHATPORT_LUA_AFTER
"local meta, msgs, after, count = KEYS[1], KEYS[2], ARGV[1], ARGV[2]\n"
"local last = redis.call('HGET', meta, 'last')\n"
"if not last then return redis.error_reply('UNKNOWN conversation') end\n"
"local start = '-'\n"
"if after ~= '' then\n"
"  if after_id(after, last) then\n"
"    return redis.error_reply('CURSOR is ahead of the conversation')\n"
"  end\n"
"  start = '(' .. after\n"
"end\n"
"if ARGV[3] == '1' then redis.call('HSET', meta, 'unread', 0) end\n"
"local entries = redis.call('XRANGE', msgs, start, '+', 'COUNT', count)\n"
"local items = {}\n"
"local cursor = after ~= '' and after or '0-0'\n"
"for i, e in ipairs(entries) do\n"
"  items[i] = message(e)\n"
"  cursor = e[1]\n"
"end\n"
"local known, status, extra = ARGV[4], '', 0\n"
"if known ~= '' then\n"
"  local st = redis.call('HGET', meta, 'status') or 'open'\n"
"  status = ',\"status\":' .. cjson.encode(st)\n"
"  if known ~= '-' and known ~= st then extra = 1 end\n"
"end\n"
"return {#items + extra, '{\"messages\":[' .. table.concat(items, ',') .."
" '],\"cursor\":' .. cjson.encode(cursor) .. status .. '}\\n'}\n"),
    { 0 }
};


/*
 * KEYS: convs. ARGV: the prefix of conversation keys, count. The
 * conversations' keys share the index's hash slot through the site's tag.
 */
static ngx_http_chatport_redis_script_t  ngx_http_chatport_list_script = {
    ngx_string(
NGX_HTTP_CHATPORT_LUA_MESSAGE
"local convs, prefix = KEYS[1], ARGV[1]\n"
"local ids = redis.call('ZREVRANGE', convs, 0, tonumber(ARGV[2]) - 1)\n"
"local out = {}\n"
"for _, cid in ipairs(ids) do\n"
"  local h = redis.call('HGETALL', prefix .. cid)\n"
"  if #h == 0 then\n"
"    redis.call('ZREM', convs, cid)\n"
"  else\n"
"    local f = {}\n"
"    for j = 1, #h, 2 do f[h[j]] = h[j + 1] end\n"
"    local c = {id = cid, status = f.status,"
" created = tonumber(f.created), updated = tonumber(f.updated),"
" unread = tonumber(f.unread) or 0, page = f.page or f.first_page or '',"
" first_page = f.first_page or '', referrer = f.referrer or '',"
" user_agent = f.user_agent or '', email = f.email or '',"
" name = f.name or '', seen = f.seen_visitor or ''}\n"
"    if f.mail_failed then c.mail_failed = cjson.decode(f.mail_failed) end\n"
"    local c_json = cjson.encode(c)\n"
"    local last = redis.call('XREVRANGE', prefix .. cid .. ':msgs', '+',"
" '-', 'COUNT', 1)\n"
"    if last[1] then\n"
"      c_json = string.sub(c_json, 1, -2) .. ',\"last\":' .."
" message(last[1]) .. '}'\n"
"    end\n"
"    out[#out + 1] = c_json\n"
"  end\n"
"end\n"
"return '{\"conversations\":[' .. table.concat(out, ',') .. ']}\\n'\n"),
    { 0 }
};


/*
 * KEYS: meta, inbox. ARGV: cid, retention (ms). "*" on the conversation's
 * channel has its polls read again: they answer with the new status.
 */
static ngx_http_chatport_redis_script_t  ngx_http_chatport_close_script = {
    ngx_string(
NGX_HTTP_CHATPORT_LUA_EVENT
"local meta, inbox = KEYS[1], KEYS[2]\n"
"if redis.call('EXISTS', meta) == 0 then\n"
"  return redis.error_reply('UNKNOWN conversation')\n"
"end\n"
"redis.call('HSET', meta, 'status', 'closed')\n"
"redis.call('PUBLISH', meta, '* closed')\n"
"event(inbox, tonumber(ARGV[2]),"
" cjson.encode({type = 'closed', conversation = ARGV[1]}))\n"
"return 1\n"),
    { 0 }
};


/*
 * KEYS: a stream of JSON entries (the inbox, the forms). ARGV: after,
 * count, the answer's list name. Returns {count, JSON}. A cursor past the
 * end is no error here: the stream may have expired meanwhile.
 */
static ngx_http_chatport_redis_script_t  ngx_http_chatport_stream_script = {
    ngx_string(
"local stream, after = KEYS[1], ARGV[1]\n"
"local entries = redis.call('XRANGE', stream, '(' .. after, '+', 'COUNT',"
" ARGV[2])\n"
"local items = {}\n"
"local cursor = after\n"
"for i, e in ipairs(entries) do\n"
"  items[i] = '{\"id\":\"' .. e[1] .. '\",\"ts\":' .."
" string.match(e[1], '^%d+') .. ',' .. string.sub(e[2][2], 2)\n"
"  cursor = e[1]\n"
"end\n"
"return {#items, '{\"' .. ARGV[3] .. '\":[' .. table.concat(items, ',') .."
" '],\"cursor\":' .. cjson.encode(cursor) .. '}\\n'}\n"),
    { 0 }
};


/*
 * KEYS: forms, inbox, the client's rate counter, the conversation's meta,
 * msgs, the site's convs, the mail schedule (due, pending), the post's key
 * (optional). ARGV: the submission's JSON without its closing brace, the
 * most submissions in a window, the window (ms), retention (ms), the
 * key's lifetime (ms), cid, create, the submission as a message's text,
 * history, the location's mail settings ("" for none), the console's
 * link. A repeated post does not count against the rate. The submission
 * is also the visitor's message in their conversation, which it opens
 * when there is none; its mail to the owners is due at once.
 */
static ngx_http_chatport_redis_script_t  ngx_http_chatport_form_script = {
    ngx_string(
NGX_HTTP_CHATPORT_LUA_EVENT
NGX_HTTP_CHATPORT_LUA_LIMITED
NGX_HTTP_CHATPORT_LUA_KEY
NGX_HTTP_CHATPORT_LUA_MAIL_SCHEDULE
"local forms, inbox, rate, meta = KEYS[1], KEYS[2], KEYS[3], KEYS[4]\n"
"local msgs, convs, idem = KEYS[5], KEYS[6], KEYS[9]\n"
"local retention, cid = tonumber(ARGV[4]), ARGV[6]\n"
"local first = repeated(idem)\n"
"if first then return first end\n"
"local exists = redis.call('EXISTS', meta) == 1\n"
"if not exists and ARGV[7] ~= '1' then\n"
"  return redis.error_reply('UNKNOWN conversation')\n"
"end\n"
"local ttl = limited(rate, ARGV[2], ARGV[3])\n"
"if ttl then return redis.error_reply('RATE ' .. ttl) end\n"
"local json = ARGV[1] .. ',\"conversation\":\"' .. cid .. '\"}'\n"
"local id = redis.call('XADD', forms, 'MAXLEN', '~', 10000, '*',"
" 'json', json)\n"
"redis.call('PEXPIRE', forms, retention)\n"
"local f = cjson.decode(json)\n"
"local mid = redis.call('XADD', msgs, 'MAXLEN', ARGV[9], '*',"
" 'from', 'visitor', 'text', ARGV[8], 'form', id)\n"
"local ts = tonumber(string.match(mid, '^%d+'))\n"
"if not exists then\n"
"  redis.call('HSET', meta, 'cid', cid, 'created', ts, 'referrer',"
" f.referrer, 'user_agent', f.user_agent, 'first_page', f.page,"
" 'unread', 0)\n"
"end\n"
"redis.call('HSET', meta, 'status', 'open', 'updated', ts, 'last', mid)\n"
"if f.page ~= '' then redis.call('HSET', meta, 'page', f.page) end\n"
"if f.fields.email then redis.call('HSET', meta, 'email', f.fields.email)"
" end\n"
"if f.fields.name then redis.call('HSET', meta, 'name', f.fields.name)"
" end\n"
"redis.call('HINCRBY', meta, 'unread', 1)\n"
"redis.call('PEXPIRE', meta, retention)\n"
"redis.call('PEXPIRE', msgs, retention)\n"
"redis.call('ZADD', convs, ts, cid)\n"
"redis.call('ZREMRANGEBYSCORE', convs, '-inf', '(' .. (ts - retention))\n"
"redis.call('PEXPIRE', convs, retention)\n"
"local msg = {id = mid, from = 'visitor', text = ARGV[8], ts = ts}\n"
"redis.call('PUBLISH', meta, mid .. ' ' .. cjson.encode(msg))\n"
"local item = '{\"id\":\"' .. id .. '\",\"ts\":' .. string.match(id, '^%d+')"
" .. ',' .. string.sub(json, 2)\n"
"event(inbox, retention, '{\"type\":\"form\",\"conversation\":\"' .. cid"
" .. '\",\"new\":' .. tostring(not exists) .. ',\"message\":' .."
" cjson.encode(msg) .. ',\"form\":' .. item .. '}')\n"
"if ARGV[10] ~= '' then\n"
"  local s = cjson.decode(ARGV[10])\n"
"  if s.to[1] then\n"
"    mail_schedule(KEYS[7], KEYS[8], 'form:' .. id, ts, mail_base(ARGV[10],"
" cid, 'form', '', ARGV[11]) .. '\\n' .. item, s.site, ts)\n"
"  end\n"
"end\n"
"remember(idem, id, ARGV[5])\n"
"return id\n"),
    { 0 }
};


/*
 * KEYS: meta, inbox, the post's key (optional). ARGV: cid, email, name
 * (kept when empty), retention (ms), the key's lifetime (ms).
 */
static ngx_http_chatport_redis_script_t  ngx_http_chatport_contact_script = {
    ngx_string(
NGX_HTTP_CHATPORT_LUA_EVENT
NGX_HTTP_CHATPORT_LUA_KEY
"local meta, inbox, idem = KEYS[1], KEYS[2], KEYS[3]\n"
"local first = repeated(idem)\n"
"if first then return first end\n"
"if redis.call('EXISTS', meta) == 0 then\n"
"  return redis.error_reply('UNKNOWN conversation')\n"
"end\n"
"redis.call('HSET', meta, 'email', ARGV[2])\n"
"if ARGV[3] ~= '' then redis.call('HSET', meta, 'name', ARGV[3]) end\n"
"event(inbox, tonumber(ARGV[4]), cjson.encode({type = 'contact',"
" conversation = ARGV[1], email = ARGV[2],"
" name = redis.call('HGET', meta, 'name') or ''}))\n"
"remember(idem, '1', ARGV[5])\n"
"return 1\n"),
    { 0 }
};


/*
 * KEYS: status (a hash: operator -> "online" or "away", kept until
 * changed), conns (a sorted set: "<poll id>:<operator>" -> the time, ms,
 * until which that poll counts as a connected console), seen (a hash:
 * operator -> the last start or end of a poll, ms).
 * ARGV: what ("read", "status" or "poll"), site, operator, the status or
 * the poll id, span (ms: the poll counts until now + span).
 * Returns {ms the site stays available (0: not available), Redis's now,
 * then per operator: name, status, ms it stays available, ms its
 * connections last, last seen}. A change is published to every worker
 * as "<ms available> <site>"; Redis's clock is the one every host shares.
 */
static ngx_http_chatport_redis_script_t  ngx_http_chatport_presence_script = {
    ngx_string(
"local status, conns, seen = KEYS[1], KEYS[2], KEYS[3]\n"
"local what, site, op = ARGV[1], ARGV[2], ARGV[3]\n"
"local t = redis.call('TIME')\n"
"local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
"if what == 'status' then\n"
"  redis.call('HSET', status, op, ARGV[4])\n"
"elseif what == 'poll' then\n"
"  redis.call('ZREMRANGEBYSCORE', conns, '-inf', now)\n"
"  redis.call('ZADD', conns, now + tonumber(ARGV[5]), ARGV[4] .. ':' .. op)\n"
"  local last = redis.call('ZRANGE', conns, -1, -1, 'WITHSCORES')\n"
"  redis.call('PEXPIRE', conns, math.max(tonumber(last[2]) - now, 1))\n"
"  redis.call('HSET', seen, op, now)\n"
"end\n"
"local ops, names = {}, {}\n"
"local function get(name)\n"
"  if not ops[name] then\n"
"    ops[name] = { till = now, seen = 0, status = 'away' }\n"
"    names[#names + 1] = name\n"
"  end\n"
"  return ops[name]\n"
"end\n"
"local c = redis.call('ZRANGEBYSCORE', conns, '(' .. now, '+inf',"
" 'WITHSCORES')\n"
"for i = 1, #c, 2 do\n"
"  local o = get(string.sub(c[i], 18))\n"
"  o.till = math.max(o.till, tonumber(c[i + 1]))\n"
"end\n"
"local h = redis.call('HGETALL', status)\n"
"for i = 1, #h, 2 do get(h[i]).status = h[i + 1] end\n"
"h = redis.call('HGETALL', seen)\n"
"for i = 1, #h, 2 do get(h[i]).seen = tonumber(h[i + 1]) end\n"
"table.sort(names)\n"
"local out = { 0, now }\n"
"for _, name in ipairs(names) do\n"
"  local o, left = ops[name], 0\n"
"  if o.status == 'online' then left = o.till - now end\n"
"  out[1] = math.max(out[1], left)\n"
"  out[#out + 1] = name\n"
"  out[#out + 1] = o.status\n"
"  out[#out + 1] = left\n"
"  out[#out + 1] = o.till - now\n"
"  out[#out + 1] = o.seen\n"
"end\n"
"if what ~= 'read' then\n"
"  redis.call('PUBLISH', 'chatport:presence', out[1] .. ' ' .. site)\n"
"end\n"
"return out\n"),
    { 0 }
};


/* KEYS: meta, inbox. ARGV: the id, cid, retention (ms). */
static ngx_http_chatport_redis_script_t  ngx_http_chatport_seen_script = {
    ngx_string(NGX_HTTP_CHATPORT_LUA_EVENT NGX_HTTP_CHATPORT_LUA_SEEN),
    { 0 }
};


void
ngx_http_chatport_store_init(void)
{
    ngx_http_chatport_redis_script_init(&ngx_http_chatport_append_script);
    ngx_http_chatport_redis_script_init(&ngx_http_chatport_read_script);
    ngx_http_chatport_redis_script_init(&ngx_http_chatport_list_script);
    ngx_http_chatport_redis_script_init(&ngx_http_chatport_close_script);
    ngx_http_chatport_redis_script_init(&ngx_http_chatport_stream_script);
    ngx_http_chatport_redis_script_init(&ngx_http_chatport_form_script);
    ngx_http_chatport_redis_script_init(&ngx_http_chatport_contact_script);
    ngx_http_chatport_redis_script_init(&ngx_http_chatport_presence_script);
    ngx_http_chatport_redis_script_init(&ngx_http_chatport_seen_script);
}


ngx_int_t
ngx_http_chatport_store_channel(ngx_pool_t *pool, ngx_str_t *site,
    ngx_str_t *cid, ngx_str_t *channel)
{
    return ngx_http_chatport_store_key(pool, channel, "chatport:{%V}:conv:%V",
                                       site, cid);
}


ngx_int_t
ngx_http_chatport_store_inbox_channel(ngx_pool_t *pool, ngx_str_t *site,
    ngx_str_t *channel)
{
    return ngx_http_chatport_store_key(pool, channel, "chatport:{%V}:inbox",
                                       site);
}


/* the mail schedule of a site: keys[0] due, keys[1] pending */

ngx_int_t
ngx_http_chatport_store_mail_keys(ngx_pool_t *pool, ngx_str_t *site,
    ngx_str_t *keys)
{
    if (ngx_http_chatport_store_key(pool, &keys[0], "chatport:{%V}:mail-due",
                                    site)
        != NGX_OK
        || ngx_http_chatport_store_key(pool, &keys[1],
                                       "chatport:{%V}:mail-pending", site)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_chatport_store_key(ngx_pool_t *pool, ngx_str_t *key,
    const char *fmt, ...)
{
    u_char   *p;
    va_list   args;

    p = ngx_pnalloc(pool, NGX_HTTP_CHATPORT_KEY_MAX);
    if (p == NULL) {
        return NGX_ERROR;
    }

    va_start(args, fmt);
    key->len = ngx_vslprintf(p, p + NGX_HTTP_CHATPORT_KEY_MAX, fmt, args) - p;
    va_end(args);

    key->data = p;

    return NGX_OK;
}


ngx_int_t
ngx_http_chatport_store_number(ngx_pool_t *pool, ngx_str_t *s, int64_t n)
{
    s->data = ngx_pnalloc(pool, NGX_INT64_LEN);
    if (s->data == NULL) {
        return NGX_ERROR;
    }

    s->len = ngx_sprintf(s->data, "%L", n) - s->data;

    return NGX_OK;
}


/* a rate as two arguments: the count and the window (ms) */

static ngx_int_t
ngx_http_chatport_store_rate(ngx_pool_t *pool, ngx_http_chatport_rate_t *rate,
    ngx_str_t *args)
{
    if (ngx_http_chatport_store_number(pool, &args[0], rate->count) != NGX_OK
        || ngx_http_chatport_store_number(pool, &args[1], rate->window)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Runs a script with nkeys keys followed by the other arguments. They
 * stay in the caller's pool while the command is under way: a NOSCRIPT
 * retry sends them again.
 */

ngx_int_t
ngx_http_chatport_store_call(ngx_pool_t *pool,
    ngx_http_chatport_redis_script_t *script, ngx_str_t *args,
    ngx_uint_t nkeys, ngx_uint_t n,
    ngx_http_chatport_redis_pt handler, void *data,
    ngx_http_chatport_redis_cmd_t **cmdp)
{
    size_t      lens[NGX_HTTP_CHATPORT_ARGS_MAX + 1];
    ngx_str_t   numkeys;
    ngx_uint_t  i;
    const char *argv[NGX_HTTP_CHATPORT_ARGS_MAX + 1];

    /* not on the stack: a NOSCRIPT retry sends the arguments again */
    if (ngx_http_chatport_store_number(pool, &numkeys, nkeys) != NGX_OK) {
        return NGX_ERROR;
    }

    argv[0] = (const char *) numkeys.data;
    lens[0] = numkeys.len;

    for (i = 0; i < n; i++) {
        argv[i + 1] = args[i].len ? (const char *) args[i].data : "";
        lens[i + 1] = args[i].len;
    }

    return ngx_http_chatport_redis_eval(script, handler, data, cmdp, n + 1,
                                        argv, lens);
}


ngx_int_t
ngx_http_chatport_store_append(ngx_pool_t *pool,
    ngx_http_chatport_message_t *m, ngx_http_chatport_redis_pt handler,
    void *data, ngx_http_chatport_redis_cmd_t **cmdp)
{
    ngx_str_t   a[29], *argv;
    ngx_uint_t  nkeys;

    /* the key is the last of KEYS, and only there when the post has one */
    nkeys = m->key.len ? 11 : 10;
    argv = &a[nkeys];

    if (ngx_http_chatport_store_channel(pool, &m->site, &m->cid, &a[0])
        != NGX_OK
        || ngx_http_chatport_store_key(pool, &a[1], "%V:msgs", &a[0])
           != NGX_OK
        || ngx_http_chatport_store_key(pool, &a[2], "chatport:{%V}:convs",
                                       &m->site)
           != NGX_OK
        || ngx_http_chatport_store_inbox_channel(pool, &m->site, &a[3])
           != NGX_OK
        || ngx_http_chatport_store_key(pool, &a[4],
                                       "chatport:{%V}:chat-rate:%V",
                                       &m->site, &m->client)
           != NGX_OK
        || ngx_http_chatport_store_key(pool, &a[5], "chatport:{%V}:chat-rate",
                                       &m->site)
           != NGX_OK
        || ngx_http_chatport_store_mail_keys(pool, &m->site, &a[6])
           != NGX_OK
        || ngx_http_chatport_store_key(pool, &a[8], "chatport:{%V}:status",
                                       &m->site)
           != NGX_OK
        || ngx_http_chatport_store_key(pool, &a[9], "chatport:{%V}:conns",
                                       &m->site)
           != NGX_OK
        || (m->key.len
            && ngx_http_chatport_store_key(pool, &a[10], "%V:key:%V", &a[0],
                                           &m->key)
               != NGX_OK)
        || ngx_http_chatport_store_number(pool, &argv[8], m->history)
           != NGX_OK
        || ngx_http_chatport_store_number(pool, &argv[9],
                                          (int64_t) m->retention * 1000)
           != NGX_OK
        || ngx_http_chatport_store_rate(pool, m->rate, &argv[10]) != NGX_OK
        || ngx_http_chatport_store_rate(pool, m->site_rate, &argv[12])
           != NGX_OK
        || ngx_http_chatport_store_number(pool, &argv[14],
                                          ngx_min((int64_t) m->retention
                                                  * 1000,
                                                  NGX_HTTP_CHATPORT_KEY_WINDOW))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (m->create) {
        ngx_str_set(&argv[0], "1");

    } else {
        ngx_str_set(&argv[0], "0");
    }

    argv[1] = m->cid;
    argv[2] = m->from;
    argv[3] = m->agent;
    argv[4] = m->text;
    argv[5] = m->page;
    argv[6] = m->referrer;
    argv[7] = m->user_agent;
    argv[15] = m->mail;
    argv[16] = m->link;

    if (m->open) {
        ngx_str_set(&argv[17], "1");

    } else {
        ngx_str_set(&argv[17], "0");
    }

    return ngx_http_chatport_store_call(pool, &ngx_http_chatport_append_script,
                                        a, nkeys, nkeys + 18, handler, data,
                                        cmdp);
}


/* known: the status the visitor knows, "-" for none; NULL for operators */

ngx_int_t
ngx_http_chatport_store_read(ngx_pool_t *pool, ngx_str_t *site,
    ngx_str_t *cid, ngx_str_t *after, ngx_int_t count, ngx_uint_t mark_read,
    char *known, ngx_http_chatport_redis_pt handler, void *data,
    ngx_http_chatport_redis_cmd_t **cmdp)
{
    ngx_str_t  a[6];

    if (ngx_http_chatport_store_channel(pool, site, cid, &a[0]) != NGX_OK
        || ngx_http_chatport_store_key(pool, &a[1], "%V:msgs", &a[0])
           != NGX_OK
        || ngx_http_chatport_store_number(pool, &a[3], count) != NGX_OK)
    {
        return NGX_ERROR;
    }

    a[2] = *after;

    if (mark_read) {
        ngx_str_set(&a[4], "1");

    } else {
        ngx_str_set(&a[4], "0");
    }

    if (known) {
        a[5].data = (u_char *) known;
        a[5].len = ngx_strlen(known);

    } else {
        ngx_str_null(&a[5]);
    }

    return ngx_http_chatport_store_call(pool, &ngx_http_chatport_read_script,
                                        a, 2, 6, handler, data, cmdp);
}


ngx_int_t
ngx_http_chatport_store_list(ngx_pool_t *pool, ngx_str_t *site,
    ngx_int_t count, ngx_http_chatport_redis_pt handler, void *data,
    ngx_http_chatport_redis_cmd_t **cmdp)
{
    ngx_str_t  a[3];

    if (ngx_http_chatport_store_key(pool, &a[0], "chatport:{%V}:convs", site)
        != NGX_OK
        || ngx_http_chatport_store_key(pool, &a[1], "chatport:{%V}:conv:",
                                       site)
           != NGX_OK
        || ngx_http_chatport_store_number(pool, &a[2], count) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_chatport_store_call(pool, &ngx_http_chatport_list_script,
                                        a, 1, 3, handler, data, cmdp);
}


ngx_int_t
ngx_http_chatport_store_close(ngx_pool_t *pool, ngx_str_t *site,
    ngx_str_t *cid, time_t retention, ngx_http_chatport_redis_pt handler,
    void *data, ngx_http_chatport_redis_cmd_t **cmdp)
{
    ngx_str_t  a[4];

    if (ngx_http_chatport_store_channel(pool, site, cid, &a[0]) != NGX_OK
        || ngx_http_chatport_store_inbox_channel(pool, site, &a[1]) != NGX_OK
        || ngx_http_chatport_store_number(pool, &a[3],
                                          (int64_t) retention * 1000)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    a[2] = *cid;

    return ngx_http_chatport_store_call(pool, &ngx_http_chatport_close_script,
                                        a, 2, 4, handler, data, cmdp);
}


/* name: "inbox" (answered as "events") or "forms" */

ngx_int_t
ngx_http_chatport_store_stream(ngx_pool_t *pool, ngx_str_t *site,
    char *name, ngx_str_t *after, ngx_int_t count,
    ngx_http_chatport_redis_pt handler, void *data,
    ngx_http_chatport_redis_cmd_t **cmdp)
{
    ngx_str_t  a[4];

    if (ngx_http_chatport_store_key(pool, &a[0], "chatport:{%V}:%s", site,
                                    name)
        != NGX_OK
        || ngx_http_chatport_store_number(pool, &a[2], count) != NGX_OK)
    {
        return NGX_ERROR;
    }

    a[1] = *after;

    if (ngx_strcmp(name, "inbox") == 0) {
        ngx_str_set(&a[3], "events");

    } else {
        a[3].data = (u_char *) name;
        a[3].len = ngx_strlen(name);
    }

    return ngx_http_chatport_store_call(pool, &ngx_http_chatport_stream_script,
                                        a, 1, 4, handler, data, cmdp);
}


ngx_int_t
ngx_http_chatport_store_form(ngx_pool_t *pool,
    ngx_http_chatport_form_entry_t *e, ngx_http_chatport_redis_pt handler,
    void *data, ngx_http_chatport_redis_cmd_t **cmdp)
{
    ngx_str_t   a[20], *argv;
    ngx_uint_t  nkeys;

    nkeys = e->key.len ? 9 : 8;
    argv = &a[nkeys];

    if (ngx_http_chatport_store_key(pool, &a[0], "chatport:{%V}:forms",
                                    &e->site)
        != NGX_OK
        || ngx_http_chatport_store_inbox_channel(pool, &e->site, &a[1])
           != NGX_OK
        || ngx_http_chatport_store_key(pool, &a[2], "chatport:{%V}:rate:%V",
                                       &e->site, &e->client)
           != NGX_OK
        || ngx_http_chatport_store_channel(pool, &e->site, &e->cid, &a[3])
           != NGX_OK
        || ngx_http_chatport_store_key(pool, &a[4], "%V:msgs", &a[3])
           != NGX_OK
        || ngx_http_chatport_store_key(pool, &a[5], "chatport:{%V}:convs",
                                       &e->site)
           != NGX_OK
        || ngx_http_chatport_store_mail_keys(pool, &e->site, &a[6])
           != NGX_OK
        || (e->key.len
            && ngx_http_chatport_store_key(pool, &a[8],
                                           "chatport:{%V}:form-key:%V:%V",
                                           &e->site, &e->client, &e->key)
               != NGX_OK)
        || ngx_http_chatport_store_rate(pool, e->rate, &argv[1]) != NGX_OK
        || ngx_http_chatport_store_number(pool, &argv[3],
                                          (int64_t) e->retention * 1000)
           != NGX_OK
        || ngx_http_chatport_store_number(pool, &argv[4],
                                          ngx_min((int64_t) e->retention
                                                  * 1000,
                                                  NGX_HTTP_CHATPORT_KEY_WINDOW))
           != NGX_OK
        || ngx_http_chatport_store_number(pool, &argv[8], e->history)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    argv[0] = e->json;
    argv[5] = e->cid;

    if (e->create) {
        ngx_str_set(&argv[6], "1");

    } else {
        ngx_str_set(&argv[6], "0");
    }

    argv[7] = e->text;
    argv[9] = e->mail;
    argv[10] = e->link;

    return ngx_http_chatport_store_call(pool, &ngx_http_chatport_form_script,
                                        a, nkeys, nkeys + 11, handler, data,
                                        cmdp);
}


ngx_int_t
ngx_http_chatport_store_contact(ngx_pool_t *pool, ngx_str_t *site,
    ngx_str_t *cid, ngx_str_t *email, ngx_str_t *name, ngx_str_t *key,
    time_t retention, ngx_http_chatport_redis_pt handler, void *data,
    ngx_http_chatport_redis_cmd_t **cmdp)
{
    ngx_str_t   a[8], *argv;
    ngx_uint_t  nkeys;

    nkeys = key->len ? 3 : 2;
    argv = &a[nkeys];

    if (ngx_http_chatport_store_channel(pool, site, cid, &a[0]) != NGX_OK
        || ngx_http_chatport_store_inbox_channel(pool, site, &a[1]) != NGX_OK
        || (key->len
            && ngx_http_chatport_store_key(pool, &a[2], "%V:key:%V", &a[0],
                                           key)
               != NGX_OK)
        || ngx_http_chatport_store_number(pool, &argv[3],
                                          (int64_t) retention * 1000)
           != NGX_OK
        || ngx_http_chatport_store_number(pool, &argv[4],
                                          ngx_min((int64_t) retention * 1000,
                                                  NGX_HTTP_CHATPORT_KEY_WINDOW))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    argv[0] = *cid;
    argv[1] = *email;
    argv[2] = *name;

    return ngx_http_chatport_store_call(pool,
                                        &ngx_http_chatport_contact_script,
                                        a, nkeys, nkeys + 5, handler, data,
                                        cmdp);
}


/* id: a message id the visitor's widget has shown */

ngx_int_t
ngx_http_chatport_store_seen(ngx_pool_t *pool, ngx_str_t *site,
    ngx_str_t *cid, ngx_str_t *id, time_t retention,
    ngx_http_chatport_redis_pt handler, void *data,
    ngx_http_chatport_redis_cmd_t **cmdp)
{
    ngx_str_t  a[5];

    if (ngx_http_chatport_store_channel(pool, site, cid, &a[0]) != NGX_OK
        || ngx_http_chatport_store_inbox_channel(pool, site, &a[1]) != NGX_OK
        || ngx_http_chatport_store_number(pool, &a[4],
                                          (int64_t) retention * 1000)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    a[2] = *id;
    a[3] = *cid;

    return ngx_http_chatport_store_call(pool, &ngx_http_chatport_seen_script,
                                        a, 2, 5, handler, data, cmdp);
}


/*
 * what: "read" (operator and value may be empty), "status" (value:
 * "online" or "away") or "poll" (value: the poll's id).
 */

ngx_int_t
ngx_http_chatport_store_presence(ngx_pool_t *pool, ngx_str_t *site,
    char *what, ngx_str_t *operator, ngx_str_t *value, ngx_msec_t span,
    ngx_http_chatport_redis_pt handler, void *data,
    ngx_http_chatport_redis_cmd_t **cmdp)
{
    ngx_str_t  a[8];

    if (ngx_http_chatport_store_key(pool, &a[0], "chatport:{%V}:status",
                                    site)
        != NGX_OK
        || ngx_http_chatport_store_key(pool, &a[1], "chatport:{%V}:conns",
                                       site)
           != NGX_OK
        || ngx_http_chatport_store_key(pool, &a[2], "chatport:{%V}:seen",
                                       site)
           != NGX_OK
        || ngx_http_chatport_store_number(pool, &a[7], span) != NGX_OK)
    {
        return NGX_ERROR;
    }

    a[3].data = (u_char *) what;
    a[3].len = ngx_strlen(what);
    a[4] = *site;

    if (operator) {
        a[5] = *operator;
        a[6] = *value;

    } else {
        ngx_str_null(&a[5]);
        ngx_str_null(&a[6]);
    }

    return ngx_http_chatport_store_call(pool,
                                        &ngx_http_chatport_presence_script,
                                        a, 3, 8, handler, data, cmdp);
}


ngx_http_chatport_store_status_e
ngx_http_chatport_store_status(redisReply *reply, ngx_int_t rc,
    ngx_log_t *log)
{
    if (rc != NGX_OK || reply == NULL) {
        return NGX_HTTP_CHATPORT_STORE_UNAVAILABLE;
    }

    if (reply->type == REDIS_REPLY_STATUS) {
        return NGX_HTTP_CHATPORT_STORE_REPEAT;
    }

    if (reply->type != REDIS_REPLY_ERROR) {
        return NGX_HTTP_CHATPORT_STORE_OK;
    }

    if (ngx_strncmp(reply->str, "UNKNOWN", 7) == 0) {
        return NGX_HTTP_CHATPORT_STORE_UNKNOWN;
    }

    if (ngx_strncmp(reply->str, "CURSOR", 6) == 0) {
        return NGX_HTTP_CHATPORT_STORE_CURSOR;
    }

    if (ngx_strncmp(reply->str, "RATE", 4) == 0) {
        return NGX_HTTP_CHATPORT_STORE_RATE;
    }

    /* LOADING after a restart, OOM, READONLY replica, ... */
    ngx_log_error(NGX_LOG_ERR, log, 0, "chatport: redis error: %*s",
                  (size_t) reply->len, reply->str);

    return NGX_HTTP_CHATPORT_STORE_UNAVAILABLE;
}
