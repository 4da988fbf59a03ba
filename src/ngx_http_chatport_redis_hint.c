
/*
 * ChatPort: a hint about stream-node-max-bytes.
 *
 * Every conversation keeps its messages in a stream, and a stream's
 * first node takes up to stream-node-max-bytes (4096 by default) at
 * once: with the default, a three-message conversation costs about
 * 5 KB of Redis memory, with 1024 about 2 KB. Once per worker, on the
 * first command connection, the module asks for the setting and logs a
 * notice when it is above the recommended value. CONFIG may be renamed
 * or disabled (managed Redis services do that): an error or an odd
 * answer is ignored, the hint is only a hint.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_chatport_redis_hint.h"


static void ngx_http_chatport_redis_hint_reply(redisAsyncContext *ac,
    void *r, void *privdata);


static ngx_uint_t  ngx_http_chatport_redis_hint_asked;


void
ngx_http_chatport_redis_hint(redisAsyncContext *ac)
{
    if (ngx_http_chatport_redis_hint_asked) {
        return;
    }

    if (redisAsyncCommand(ac, ngx_http_chatport_redis_hint_reply, NULL,
                          "CONFIG GET stream-node-max-bytes")
        == REDIS_OK)
    {
        ngx_http_chatport_redis_hint_asked = 1;
    }
}


static void
ngx_http_chatport_redis_hint_reply(redisAsyncContext *ac, void *r,
    void *privdata)
{
    ngx_int_t    bytes;
    redisReply  *reply = r, *value;

    if (reply == NULL) {
        /* the connection went first: ask on the next one */
        ngx_http_chatport_redis_hint_asked = 0;
        return;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2
        || reply->element[1]->type != REDIS_REPLY_STRING)
    {
        return;
    }

    value = reply->element[1];
    bytes = ngx_atoi((u_char *) value->str, value->len);

    if (bytes > NGX_HTTP_CHATPORT_STREAM_NODE_BYTES) {
        ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                      "chatport: redis has stream-node-max-bytes %i: "
                      "\"CONFIG SET stream-node-max-bytes %d\" (and the "
                      "same in redis.conf) makes a short conversation "
                      "take about half the memory, see README, "
                      "\"Sizing Redis\"", bytes,
                      NGX_HTTP_CHATPORT_STREAM_NODE_BYTES);
    }
}
