
/*
 * ChatPort: conversations in Redis. Every write is one Lua script, so a
 * message, its conversation's metadata, the site's index and inbox, the
 * expiry and the PUBLISH happen together or not at all.
 */


#ifndef _NGX_HTTP_CHATPORT_STORE_H_INCLUDED_
#define _NGX_HTTP_CHATPORT_STORE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_chatport_redis.h"


/* the hex digits of a conversation id */
#define NGX_HTTP_CHATPORT_CID_LEN       32

/* a post's key is remembered this long (ms), at most for the retention */
#define NGX_HTTP_CHATPORT_KEY_WINDOW    (24 * 60 * 60 * 1000)

typedef struct {
    ngx_str_t                 site;
    ngx_str_t                 cid;
    ngx_uint_t                create;      /* may open the conversation */
    ngx_str_t                 from;        /* "visitor" or "agent" */
    ngx_str_t                 agent;
    ngx_str_t                 name;        /* the agent's display name */
    ngx_str_t                 text;
    ngx_str_t                 page;
    ngx_str_t                 referrer;
    ngx_str_t                 user_agent;
    ngx_int_t                 history;
    time_t                    retention;
    ngx_str_t                 key;         /* the client's, may be empty */
    ngx_str_t                 client;      /* address, for the rates */
    ngx_http_chatport_rate_t *rate;        /* new conversations from it */
    ngx_http_chatport_rate_t *site_rate;   /* ... in the site */
    ngx_str_t                 mail;        /* settings, "" for no mail */
    ngx_str_t                 link;        /* the console's, may be "" */
    ngx_uint_t                open;        /* business hours are open */
    ngx_str_t                 image;       /* a photo's JSON, or "" */
    ngx_str_t                 image_bytes;
    size_t                    upload_quota;
    ngx_str_t                 image_base;  /* "A conversations/", or "" */
} ngx_http_chatport_message_t;


/* a contact-form submission, also a message in the visitor's conversation */
typedef struct {
    ngx_str_t                 site;
    ngx_str_t                 cid;
    ngx_uint_t                create;      /* may open the conversation */
    ngx_str_t                 json;        /* the submission, open-ended */
    ngx_str_t                 text;        /* ... as the message's text */
    ngx_str_t                 key;         /* the client's, may be empty */
    ngx_str_t                 client;      /* address, for the rate */
    ngx_http_chatport_rate_t *rate;
    ngx_int_t                 history;
    time_t                    retention;
    ngx_str_t                 mail;        /* settings, "" for no mail */
    ngx_str_t                 link;        /* the console's, may be "" */
} ngx_http_chatport_form_entry_t;


typedef enum {
    NGX_HTTP_CHATPORT_STORE_OK = 0,
    NGX_HTTP_CHATPORT_STORE_REPEAT,        /* a key seen: the first id */
    NGX_HTTP_CHATPORT_STORE_UNKNOWN,       /* no such conversation */
    NGX_HTTP_CHATPORT_STORE_CURSOR,        /* cursor ahead of the stream */
    NGX_HTTP_CHATPORT_STORE_RATE,          /* "RATE <ms left>" */
    NGX_HTTP_CHATPORT_STORE_UNSAFE,        /* stored, too few replicas */
    NGX_HTTP_CHATPORT_STORE_QUOTA,         /* the site's photos are full */
    NGX_HTTP_CHATPORT_STORE_UNAVAILABLE    /* Redis down, loading, ... */
} ngx_http_chatport_store_status_e;


void ngx_http_chatport_store_init(void);
ngx_int_t ngx_http_chatport_store_channel(ngx_pool_t *pool, ngx_str_t *site,
    ngx_str_t *cid, ngx_str_t *channel);
ngx_int_t ngx_http_chatport_store_inbox_channel(ngx_pool_t *pool,
    ngx_str_t *site, ngx_str_t *channel);
ngx_int_t ngx_http_chatport_store_append(ngx_pool_t *pool,
    ngx_http_chatport_message_t *m, ngx_http_chatport_redis_pt handler,
    void *data, ngx_http_chatport_redis_cmd_t **cmdp);
ngx_int_t ngx_http_chatport_store_read(ngx_pool_t *pool, ngx_str_t *site,
    ngx_str_t *cid, ngx_str_t *after, ngx_int_t count, ngx_uint_t mark_read,
    char *known, ngx_str_t *seen, ngx_str_t *images,
    ngx_http_chatport_redis_pt handler, void *data,
    ngx_http_chatport_redis_cmd_t **cmdp);
ngx_int_t ngx_http_chatport_store_close(ngx_pool_t *pool, ngx_str_t *site,
    ngx_str_t *cid, time_t retention, ngx_http_chatport_redis_pt handler,
    void *data, ngx_http_chatport_redis_cmd_t **cmdp);
ngx_int_t ngx_http_chatport_store_stream(ngx_pool_t *pool, ngx_str_t *site,
    char *name, ngx_str_t *after, ngx_int_t count,
    ngx_http_chatport_redis_pt handler, void *data,
    ngx_http_chatport_redis_cmd_t **cmdp);
ngx_int_t ngx_http_chatport_store_form(ngx_pool_t *pool,
    ngx_http_chatport_form_entry_t *e, ngx_http_chatport_redis_pt handler,
    void *data, ngx_http_chatport_redis_cmd_t **cmdp);
ngx_int_t ngx_http_chatport_store_contact(ngx_pool_t *pool, ngx_str_t *site,
    ngx_str_t *cid, ngx_str_t *email, ngx_str_t *name, ngx_str_t *key,
    time_t retention, ngx_http_chatport_redis_pt handler, void *data,
    ngx_http_chatport_redis_cmd_t **cmdp);
ngx_int_t ngx_http_chatport_store_presence(ngx_pool_t *pool, ngx_str_t *site,
    char *what, ngx_str_t *operator, ngx_str_t *value, ngx_msec_t span,
    ngx_http_chatport_redis_pt handler, void *data,
    ngx_http_chatport_redis_cmd_t **cmdp);
ngx_int_t ngx_http_chatport_store_seen(ngx_pool_t *pool, ngx_str_t *site,
    ngx_str_t *cid, ngx_str_t *id, time_t retention,
    ngx_http_chatport_redis_pt handler, void *data,
    ngx_http_chatport_redis_cmd_t **cmdp);
ngx_int_t ngx_http_chatport_store_mail_keys(ngx_pool_t *pool,
    ngx_str_t *site, ngx_str_t *keys);
/* a key's name from fmt, whose only conversions are %V and %s */
ngx_int_t ngx_http_chatport_store_key(ngx_pool_t *pool, ngx_str_t *key,
    const char *fmt, ...);
ngx_int_t ngx_http_chatport_store_number(ngx_pool_t *pool, ngx_str_t *s,
    int64_t n);
ngx_int_t ngx_http_chatport_store_call(ngx_pool_t *pool,
    ngx_http_chatport_redis_script_t *script, ngx_str_t *args,
    ngx_uint_t nkeys, ngx_uint_t n, ngx_http_chatport_redis_pt handler,
    void *data, ngx_http_chatport_redis_cmd_t **cmdp);
ngx_http_chatport_store_status_e ngx_http_chatport_store_status(
    redisReply *reply, ngx_int_t rc, ngx_log_t *log);


#endif /* _NGX_HTTP_CHATPORT_STORE_H_INCLUDED_ */
