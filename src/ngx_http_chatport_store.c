
/*
 * ChatPort: conversations in Redis.
 *
 * Keys and channels of a site all carry the site as a Redis Cluster hash
 * tag, "chatport:{site}:...", and every key a script touches is passed in
 * KEYS, so the scripts run unchanged on a cluster.
 *
 *   chatport:{site}:conv:CID        hash: the conversation's metadata
 *   chatport:{site}:conv:CID:msgs   stream: its messages
 *   chatport:{site}:conv:CID:images hash: its photos' bytes by message id
 *                                   (expiring with the conversation)
 *   chatport:{site}:uploads         sorted set: "CID ID SIZE" of each
 *                                   photo, by when it expires
 *   chatport:{site}:upload-bytes    counter: the sum of their sizes
 *   chatport:{site}:convs           sorted set: CIDs by last activity
 *   chatport:{site}:inbox           stream: events for the operators
 *   chatport:{site}:conv:CID:key:K  string: the id of the message posted
 *                                   with key K, for a retry window
 *   chatport:{site}:form-key:A:K    the same for a form from address A
 *                                   (a contact's key is a message's)
 *   chatport:{site}:conv:CID:keys   set: the names of those keys of the
 *                                   conversation, for the erasure
 *   chatport:{site}:forms           stream: the contact forms
 *   chatport:{site}:forms-done      sorted set: the forms marked done
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

#include "ngx_http_chatport_index.h"
#include "ngx_http_chatport_store.h"
#include "ngx_http_chatport_lua.h"


/* the longest key name: a form's key, with a client address */
#define NGX_HTTP_CHATPORT_KEY_MAX                                             \
    (sizeof("chatport:{}:form-key::") + NGX_HTTP_CHATPORT_SITE_MAX           \
     + NGX_SOCKADDR_STRLEN + NGX_HTTP_CHATPORT_POST_KEY_MAX)

#define NGX_HTTP_CHATPORT_ARGS_MAX  40


static ngx_int_t ngx_http_chatport_store_rate(ngx_pool_t *pool,
    ngx_http_chatport_rate_t *rate, ngx_str_t *args);


/*
 * The scripts, put together from src/lua/ (their KEYS and ARGV are
 * described there): the pieces they share come first. Those answered
 * 201 wait for the replicas under chatport_redis_wait.
 */

static ngx_http_chatport_redis_script_t  ngx_http_chatport_append_script =
    { ngx_string(NGX_HTTP_CHATPORT_LUA_EVENT
                 NGX_HTTP_CHATPORT_LUA_MESSAGE
                 NGX_HTTP_CHATPORT_LUA_NOW_MS
                 NGX_HTTP_CHATPORT_LUA_UPLOAD
                 NGX_HTTP_CHATPORT_LUA_LIMITED
                 NGX_HTTP_CHATPORT_LUA_POST_KEY
                 NGX_HTTP_CHATPORT_LUA_MAIL_SCHEDULE
                 NGX_HTTP_CHATPORT_LUA_INDEX
                 NGX_HTTP_CHATPORT_LUA_EXTEND
                 NGX_HTTP_CHATPORT_LUA_APPEND), { 0 }, 1 };

static ngx_http_chatport_redis_script_t  ngx_http_chatport_read_script =
    { ngx_string(NGX_HTTP_CHATPORT_LUA_MESSAGE
                 NGX_HTTP_CHATPORT_LUA_AFTER_ID
                 NGX_HTTP_CHATPORT_LUA_READ), { 0 }, 0 };

static ngx_http_chatport_redis_script_t  ngx_http_chatport_close_script =
    { ngx_string(NGX_HTTP_CHATPORT_LUA_EVENT
                 NGX_HTTP_CHATPORT_LUA_CLOSE), { 0 }, 0 };

static ngx_http_chatport_redis_script_t  ngx_http_chatport_stream_script =
    { ngx_string(NGX_HTTP_CHATPORT_LUA_STREAM), { 0 }, 0 };

static ngx_http_chatport_redis_script_t  ngx_http_chatport_form_script =
    { ngx_string(NGX_HTTP_CHATPORT_LUA_EVENT
                 NGX_HTTP_CHATPORT_LUA_LIMITED
                 NGX_HTTP_CHATPORT_LUA_POST_KEY
                 NGX_HTTP_CHATPORT_LUA_MAIL_SCHEDULE
                 NGX_HTTP_CHATPORT_LUA_INDEX
                 NGX_HTTP_CHATPORT_LUA_EXTEND
                 NGX_HTTP_CHATPORT_LUA_FORM), { 0 }, 1 };

static ngx_http_chatport_redis_script_t  ngx_http_chatport_contact_script =
    { ngx_string(NGX_HTTP_CHATPORT_LUA_EVENT
                 NGX_HTTP_CHATPORT_LUA_POST_KEY
                 NGX_HTTP_CHATPORT_LUA_INDEX
                 NGX_HTTP_CHATPORT_LUA_CONTACT), { 0 }, 1 };

static ngx_http_chatport_redis_script_t  ngx_http_chatport_presence_script =
    { ngx_string(NGX_HTTP_CHATPORT_LUA_NOW_MS
                 NGX_HTTP_CHATPORT_LUA_PRESENCE), { 0 }, 0 };

static ngx_http_chatport_redis_script_t  ngx_http_chatport_seen_script =
    { ngx_string(NGX_HTTP_CHATPORT_LUA_EVENT
                 NGX_HTTP_CHATPORT_LUA_AFTER_ID
                 NGX_HTTP_CHATPORT_LUA_SEEN), { 0 }, 0 };


void
ngx_http_chatport_store_init(void)
{
    ngx_http_chatport_redis_script_init(&ngx_http_chatport_append_script);
    ngx_http_chatport_redis_script_init(&ngx_http_chatport_read_script);
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
    u_char      *p, *start, *last;
    size_t       n;
    va_list      args;
    ngx_str_t   *v;
    const char  *s;

    p = ngx_pnalloc(pool, NGX_HTTP_CHATPORT_KEY_MAX);
    if (p == NULL) {
        return NGX_ERROR;
    }

    start = p;
    last = p + NGX_HTTP_CHATPORT_KEY_MAX;

    /*
     * only %V and %s: some fifteen keys a message, where ngx_vslprintf()
     * took a tenth of the worker's instructions
     */

    va_start(args, fmt);

    while (*fmt && p < last) {

        if (fmt[0] == '%' && fmt[1] == 'V') {
            v = va_arg(args, ngx_str_t *);
            n = ngx_min((size_t) (last - p), v->len);
            p = ngx_cpymem(p, v->data, n);
            fmt += 2;

        } else if (fmt[0] == '%' && fmt[1] == 's') {
            s = va_arg(args, const char *);
            n = ngx_min((size_t) (last - p), ngx_strlen(s));
            p = ngx_cpymem(p, s, n);
            fmt += 2;

        } else {
            /* the text up to the next conversion */
            s = strchr(fmt + 1, '%');
            n = s ? (size_t) (s - fmt) : ngx_strlen(fmt);
            n = ngx_min((size_t) (last - p), n);
            p = ngx_cpymem(p, fmt, n);
            fmt += n;
        }
    }

    va_end(args);

    /* key may be one of the arguments: it is set last */
    key->data = start;
    key->len = p - start;

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
    ngx_int_t   rc;
    ngx_str_t   a[15 + 24], *argv;
    ngx_uint_t  nkeys;

    /*
     * the key and the conversation's set of keys are the last of KEYS,
     * and only there when the post has one
     */
    nkeys = m->key.len ? 15 : 13;
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
        || ngx_http_chatport_store_key(pool, &a[10], "%V:images", &a[0])
           != NGX_OK
        || ngx_http_chatport_store_key(pool, &a[11], "chatport:{%V}:uploads",
                                       &m->site)
           != NGX_OK
        || ngx_http_chatport_store_key(pool, &a[12],
                                       "chatport:{%V}:upload-bytes", &m->site)
           != NGX_OK
        || (m->key.len
            && (ngx_http_chatport_store_key(pool, &a[13], "%V:key:%V", &a[0],
                                            &m->key)
                != NGX_OK
                || ngx_http_chatport_store_key(pool, &a[14], "%V:keys",
                                               &a[0])
                   != NGX_OK))
        || ngx_http_chatport_store_number(pool, &argv[20], m->upload_quota)
           != NGX_OK
        || ngx_http_chatport_store_key(pool, &argv[21], "chatport:{%V}:conv:",
                                       &m->site)
           != NGX_OK
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

    argv[18] = m->image;
    argv[19] = m->image_bytes;
    argv[22] = m->image_base;
    argv[23] = m->name;

    rc = ngx_http_chatport_store_call(pool, &ngx_http_chatport_append_script,
                                      a, nkeys, nkeys + 24, handler, data,
                                      cmdp);

    /* the script queues the text for the index: a flush follows */
    if (rc == NGX_OK && (m->text.len || m->page.len)) {
        ngx_http_chatport_index_note(&m->site);
    }

    return rc;
}


/*
 * known: the status the visitor knows, "-" for none; NULL for operators;
 * seen: the id up to which the visitor knows its messages seen, or NULL;
 * images: the URL of the conversation's photos up to their id.
 */

ngx_int_t
ngx_http_chatport_store_read(ngx_pool_t *pool, ngx_str_t *site,
    ngx_str_t *cid, ngx_str_t *after, ngx_int_t count, ngx_uint_t mark_read,
    char *known, ngx_str_t *seen, ngx_str_t *images,
    ngx_http_chatport_redis_pt handler, void *data,
    ngx_http_chatport_redis_cmd_t **cmdp)
{
    ngx_str_t  a[8];

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

    if (seen) {
        a[6] = *seen;

    } else {
        ngx_str_set(&a[6], "-");
    }

    a[7] = *images;

    return ngx_http_chatport_store_call(pool, &ngx_http_chatport_read_script,
                                        a, 2, 8, handler, data, cmdp);
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
    ngx_str_t   a[22], *argv;
    ngx_uint_t  nkeys;

    nkeys = e->key.len ? 11 : 9;
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
        || ngx_http_chatport_store_key(pool, &a[8], "%V:images", &a[3])
           != NGX_OK
        || (e->key.len
            && (ngx_http_chatport_store_key(pool, &a[9],
                                            "chatport:{%V}:form-key:%V:%V",
                                            &e->site, &e->client, &e->key)
                != NGX_OK
                || ngx_http_chatport_store_key(pool, &a[10], "%V:keys",
                                               &a[3])
                   != NGX_OK))
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
    ngx_str_t   a[9], *argv;
    ngx_uint_t  nkeys;

    nkeys = key->len ? 4 : 2;
    argv = &a[nkeys];

    if (ngx_http_chatport_store_channel(pool, site, cid, &a[0]) != NGX_OK
        || ngx_http_chatport_store_inbox_channel(pool, site, &a[1]) != NGX_OK
        || (key->len
            && (ngx_http_chatport_store_key(pool, &a[2], "%V:key:%V", &a[0],
                                            key)
                != NGX_OK
                || ngx_http_chatport_store_key(pool, &a[3], "%V:keys", &a[0])
                   != NGX_OK))
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
    if (rc == NGX_BUSY && reply) {
        return NGX_HTTP_CHATPORT_STORE_UNSAFE;
    }

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

    if (ngx_strncmp(reply->str, "QUOTA", 5) == 0) {
        return NGX_HTTP_CHATPORT_STORE_QUOTA;
    }

    /* LOADING after a restart, OOM, READONLY replica, ... */
    ngx_log_error(NGX_LOG_ERR, log, 0, "chatport: redis error: %*s",
                  (size_t) reply->len, reply->str);

    return NGX_HTTP_CHATPORT_STORE_UNAVAILABLE;
}
