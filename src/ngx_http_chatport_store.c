
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
 *
 * A message is published to the channel named like its conversation's
 * hash, an event to the channel named like the inbox, each as
 * "<stream id> <JSON>".
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_chatport_store.h"


static ngx_http_chatport_redis_script_t  ngx_http_chatport_append_script = {
    ngx_string(
"local meta, msgs, convs, inbox = KEYS[1], KEYS[2], KEYS[3], KEYS[4]\n"
"local create, cid, from, agent, text = ARGV[1], ARGV[2], ARGV[3],"
" ARGV[4], ARGV[5]\n"
"local page, referrer, ua = ARGV[6], ARGV[7], ARGV[8]\n"
"local history, retention = ARGV[9], tonumber(ARGV[10])\n"
"local exists = redis.call('EXISTS', meta) == 1\n"
"if not exists and create ~= '1' then\n"
"  return redis.error_reply('UNKNOWN conversation')\n"
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
"local json = cjson.encode(msg)\n"
"local kind = exists and 'message' or 'conversation'\n"
"local evid = redis.call('XADD', inbox, 'MAXLEN', '~', 1000, '*',"
" 'type', kind, 'conversation', cid, 'message', id)\n"
"redis.call('PEXPIRE', inbox, retention)\n"
"local ev = {id = evid, type = kind, conversation = cid, message = msg}\n"
"if page ~= '' then ev.page = page end\n"
"redis.call('PUBLISH', meta, id .. ' ' .. json)\n"
"redis.call('PUBLISH', inbox, evid .. ' ' .. cjson.encode(ev))\n"
"return id\n"),
    { 0 }
};


static ngx_http_chatport_redis_script_t  ngx_http_chatport_read_script = {
    ngx_string(
"local meta, msgs, after, count = KEYS[1], KEYS[2], ARGV[1], ARGV[2]\n"
"local last = redis.call('HGET', meta, 'last')\n"
"if not last then return redis.error_reply('UNKNOWN conversation') end\n"
"local start = '-'\n"
"if after ~= '' then\n"
"  local am, as = string.match(after, '^(%d+)-(%d+)$')\n"
"  local lm, ls = string.match(last, '^(%d+)-(%d+)$')\n"
"  am, as, lm, ls = tonumber(am), tonumber(as), tonumber(lm), tonumber(ls)\n"
"  if am > lm or (am == lm and as > ls) then\n"
"    return redis.error_reply('CURSOR is ahead of the conversation')\n"
"  end\n"
"  start = '(' .. after\n"
"end\n"
"local entries = redis.call('XRANGE', msgs, start, '+', 'COUNT', count)\n"
"local items = {}\n"
"local cursor = after ~= '' and after or '0-0'\n"
"for i, e in ipairs(entries) do\n"
"  local f = {}\n"
"  for j = 1, #e[2], 2 do f[e[2][j]] = e[2][j + 1] end\n"
"  local m = {id = e[1], from = f.from, text = f.text,"
" ts = tonumber(string.match(e[1], '^%d+'))}\n"
"  if f.agent then m.agent = f.agent end\n"
"  items[i] = cjson.encode(m)\n"
"  cursor = e[1]\n"
"end\n"
"return {#items, '{\"messages\":[' .. table.concat(items, ',') .."
" '],\"cursor\":' .. cjson.encode(cursor) .. '}'}\n"),
    { 0 }
};


void
ngx_http_chatport_store_init(void)
{
    ngx_http_chatport_redis_script_init(&ngx_http_chatport_append_script);
    ngx_http_chatport_redis_script_init(&ngx_http_chatport_read_script);
}


ngx_int_t
ngx_http_chatport_store_channel(ngx_pool_t *pool, ngx_str_t *site,
    ngx_str_t *cid, ngx_str_t *channel)
{
    channel->data = ngx_pnalloc(pool, sizeof("chatport:{}:conv:") - 1
                                      + site->len + cid->len);
    if (channel->data == NULL) {
        return NGX_ERROR;
    }

    channel->len = ngx_sprintf(channel->data, "chatport:{%V}:conv:%V",
                               site, cid)
                   - channel->data;

    return NGX_OK;
}


/* KEYS: the conversation's hash and stream, the site's index and inbox */

static ngx_int_t
ngx_http_chatport_store_keys(ngx_pool_t *pool, ngx_str_t *site,
    ngx_str_t *cid, ngx_str_t *keys, ngx_uint_t n)
{
    u_char  *p;

    if (ngx_http_chatport_store_channel(pool, site, cid, &keys[0]) != NGX_OK)
    {
        return NGX_ERROR;
    }

    p = ngx_pnalloc(pool, keys[0].len + sizeof(":msgs") - 1
                          + 2 * (sizeof("chatport:{}:inbox") + site->len));
    if (p == NULL) {
        return NGX_ERROR;
    }

    keys[1].data = p;
    p = ngx_sprintf(p, "%V:msgs", &keys[0]);
    keys[1].len = p - keys[1].data;

    if (n == 2) {
        return NGX_OK;
    }

    keys[2].data = p;
    p = ngx_sprintf(p, "chatport:{%V}:convs", site);
    keys[2].len = p - keys[2].data;

    keys[3].data = p;
    p = ngx_sprintf(p, "chatport:{%V}:inbox", site);
    keys[3].len = p - keys[3].data;

    return NGX_OK;
}


/*
 * The arguments stay in the request's pool while the command is under
 * way: a NOSCRIPT retry sends them again.
 */

ngx_int_t
ngx_http_chatport_store_append(ngx_pool_t *pool,
    ngx_http_chatport_message_t *m, ngx_http_chatport_redis_pt handler,
    void *data, ngx_http_chatport_redis_cmd_t **cmdp)
{
    u_char      *p;
    size_t       lens[15];
    ngx_str_t    keys[4];
    ngx_uint_t   i;
    const char  *argv[15];

    if (ngx_http_chatport_store_keys(pool, &m->site, &m->cid, keys, 4)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    p = ngx_pnalloc(pool, 2 * NGX_INT64_LEN + 2);
    if (p == NULL) {
        return NGX_ERROR;
    }

    argv[0] = "4";
    lens[0] = 1;

    for (i = 0; i < 4; i++) {
        argv[1 + i] = (const char *) keys[i].data;
        lens[1 + i] = keys[i].len;
    }

    argv[5] = m->create ? "1" : "0";
    lens[5] = 1;

#define ngx_http_chatport_arg(n, s)                                           \
    argv[n] = (const char *) (s).data; lens[n] = (s).len

    ngx_http_chatport_arg(6, m->cid);
    ngx_http_chatport_arg(7, m->from);
    ngx_http_chatport_arg(8, m->agent);
    ngx_http_chatport_arg(9, m->text);
    ngx_http_chatport_arg(10, m->page);
    ngx_http_chatport_arg(11, m->referrer);
    ngx_http_chatport_arg(12, m->user_agent);

#undef ngx_http_chatport_arg

    argv[13] = (const char *) p;
    p = ngx_sprintf(p, "%i", m->history);
    lens[13] = (u_char *) p - (u_char *) argv[13];

    argv[14] = (const char *) p;
    p = ngx_sprintf(p, "%T", m->retention * 1000);
    lens[14] = (u_char *) p - (u_char *) argv[14];

    return ngx_http_chatport_redis_eval(&ngx_http_chatport_append_script,
                                        handler, data, cmdp, 15, argv, lens);
}


ngx_int_t
ngx_http_chatport_store_read(ngx_pool_t *pool, ngx_str_t *site,
    ngx_str_t *cid, ngx_str_t *after, ngx_int_t count,
    ngx_http_chatport_redis_pt handler, void *data,
    ngx_http_chatport_redis_cmd_t **cmdp)
{
    u_char      *p;
    size_t       lens[5];
    ngx_str_t    keys[2];
    const char  *argv[5];

    if (ngx_http_chatport_store_keys(pool, site, cid, keys, 2) != NGX_OK) {
        return NGX_ERROR;
    }

    p = ngx_pnalloc(pool, NGX_INT_T_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    argv[0] = "2";
    lens[0] = 1;
    argv[1] = (const char *) keys[0].data;
    lens[1] = keys[0].len;
    argv[2] = (const char *) keys[1].data;
    lens[2] = keys[1].len;
    argv[3] = after->len ? (const char *) after->data : "";
    lens[3] = after->len;
    argv[4] = (const char *) p;
    lens[4] = ngx_sprintf(p, "%i", count) - p;

    return ngx_http_chatport_redis_eval(&ngx_http_chatport_read_script,
                                        handler, data, cmdp, 5, argv, lens);
}


ngx_http_chatport_store_status_e
ngx_http_chatport_store_status(redisReply *reply, ngx_int_t rc,
    ngx_log_t *log)
{
    if (rc != NGX_OK || reply == NULL) {
        return NGX_HTTP_CHATPORT_STORE_UNAVAILABLE;
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

    /* LOADING after a restart, OOM, READONLY replica, ... */
    ngx_log_error(NGX_LOG_ERR, log, 0, "chatport: redis error: %*s",
                  (size_t) reply->len, reply->str);

    return NGX_HTTP_CHATPORT_STORE_UNAVAILABLE;
}
