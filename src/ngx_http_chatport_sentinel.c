
/*
 * ChatPort: the Redis master, as the sentinels see it.
 *
 * The Redis link code keeps one connection to a sentinel per worker
 * (ngx_http_chatport_redis.c: the "sentinel" link, which tries the
 * configured sentinels in turn). Once it is up, it asks where the master
 * is and subscribes to "+switch-master" on the same connection: the
 * question goes first, as a subscribed connection takes no other command.
 * A switch between the answer and the subscription is not lost for long:
 * the old master then fails or answers as a replica, and the link code
 * asks again.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_chatport_redis.h"
#include "ngx_http_chatport_sentinel.h"


static void ngx_http_chatport_sentinel_master(redisAsyncContext *ac,
    void *r, void *privdata);
static void ngx_http_chatport_sentinel_switch(redisAsyncContext *ac,
    void *r, void *privdata);


static ngx_http_chatport_main_conf_t  *ngx_http_chatport_sentinel_conf;
static ngx_uint_t                      ngx_http_chatport_sentinel_index;


void
ngx_http_chatport_sentinel_init(ngx_http_chatport_main_conf_t *cmcf)
{
    ngx_http_chatport_sentinel_conf = cmcf;

    /* the workers start at different sentinels */
    ngx_http_chatport_sentinel_index = ngx_random();
}


/* the sentinel to try next, round robin */

ngx_http_chatport_addr_t *
ngx_http_chatport_sentinel_next(void)
{
    ngx_array_t               *a;
    ngx_http_chatport_addr_t  *addr;

    a = ngx_http_chatport_sentinel_conf->sentinels;
    addr = a->elts;

    return &addr[ngx_http_chatport_sentinel_index++ % a->nelts];
}


void
ngx_http_chatport_sentinel_ready(redisAsyncContext *ac)
{
    ngx_str_t  *name;

    name = &ngx_http_chatport_sentinel_conf->sentinel_name;

    (void) redisAsyncCommand(ac, ngx_http_chatport_sentinel_master, NULL,
                             "SENTINEL get-master-addr-by-name %b",
                             name->data, name->len);

    (void) redisAsyncCommand(ac, ngx_http_chatport_sentinel_switch, NULL,
                             "SUBSCRIBE +switch-master");
}


static void
ngx_http_chatport_sentinel_master(redisAsyncContext *ac, void *r,
    void *privdata)
{
    redisReply  *reply = r;

    ngx_int_t  port;

    if (reply == NULL) {
        return;
    }

    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2
        && reply->element[0]->type == REDIS_REPLY_STRING
        && reply->element[1]->type == REDIS_REPLY_STRING)
    {
        port = ngx_atoi((u_char *) reply->element[1]->str,
                        reply->element[1]->len);

        ngx_http_chatport_redis_set_master((u_char *) reply->element[0]->str,
                                           reply->element[0]->len, port);
        return;
    }

    ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                  "chatport: sentinel %s:%d does not name a master \"%V\"%s"
                  "%*s", ac->c.tcp.host ? ac->c.tcp.host : "", ac->c.tcp.port,
                  &ngx_http_chatport_sentinel_conf->sentinel_name,
                  reply->type == REDIS_REPLY_ERROR ? ": " : "",
                  reply->type == REDIS_REPLY_ERROR ? (size_t) reply->len : 0,
                  reply->type == REDIS_REPLY_ERROR ? reply->str : "");

    /* the next sentinel may know it; safe in a callback, hiredis defers */
    redisAsyncDisconnect(ac);
}


/* "+switch-master": "<name> <old ip> <old port> <new ip> <new port>" */

static void
ngx_http_chatport_sentinel_switch(redisAsyncContext *ac, void *r,
    void *privdata)
{
    redisReply  *reply = r;

    u_char      *p, *last, *field[5];
    size_t       len[5];
    ngx_str_t   *name;
    ngx_uint_t   n;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || reply->elements != 3
        || reply->element[0]->type != REDIS_REPLY_STRING
        || reply->element[0]->len != 7
        || ngx_strncmp(reply->element[0]->str, "message", 7) != 0
        || reply->element[2]->type != REDIS_REPLY_STRING)
    {
        return;
    }

    p = (u_char *) reply->element[2]->str;
    last = p + reply->element[2]->len;

    for (n = 0; n < 5 && p < last; n++) {
        field[n] = p;

        while (p < last && *p != ' ') {
            p++;
        }

        len[n] = p - field[n];
        p++;
    }

    name = &ngx_http_chatport_sentinel_conf->sentinel_name;

    if (n < 5 || len[0] != name->len
        || ngx_strncmp(field[0], name->data, name->len) != 0)
    {
        return;
    }

    ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                  "chatport: sentinel: master \"%V\" switched from %*s:%*s "
                  "to %*s:%*s", name, len[1], field[1], len[2], field[2],
                  len[3], field[3], len[4], field[4]);

    ngx_http_chatport_redis_set_master(field[3], len[3],
                                       ngx_atoi(field[4], len[4]));
}
