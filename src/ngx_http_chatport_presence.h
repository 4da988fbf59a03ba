
/*
 * ChatPort: operator presence. The chosen status is kept in Redis; the
 * operator polls held by this worker are recorded as connections; each
 * worker keeps the availability of the sites it serves in memory, updated
 * through pub/sub.
 */


#ifndef _NGX_HTTP_CHATPORT_PRESENCE_H_INCLUDED_
#define _NGX_HTTP_CHATPORT_PRESENCE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_chatport_json.h"
#include "ngx_http_chatport_redis.h"


typedef struct {
    ngx_str_t                     name;
    ngx_str_t                     status;      /* "online" or "away" */
    int64_t                       left;        /* ms still available */
    int64_t                       connected;   /* ms its polls still count */
    int64_t                       seen;        /* ms since the epoch, or 0 */
} ngx_http_chatport_operator_t;


void ngx_http_chatport_presence_init(void);
void ngx_http_chatport_presence_exit(void);
ngx_int_t ngx_http_chatport_presence_on_message(redisReply *reply);
void ngx_http_chatport_presence_on_sub_state(ngx_uint_t up);

ngx_int_t ngx_http_chatport_presence_cached(ngx_str_t *site,
    ngx_uint_t *available);
ngx_int_t ngx_http_chatport_presence_learn(ngx_str_t *site,
    redisReply *reply);
ngx_int_t ngx_http_chatport_presence_poll(ngx_http_request_t *r,
    ngx_str_t *site, ngx_str_t *operator, ngx_msec_t timeout,
    ngx_msec_t grace);

ngx_int_t ngx_http_chatport_presence_operator(redisReply *reply,
    ngx_uint_t i, ngx_http_chatport_operator_t *op);


#endif /* _NGX_HTTP_CHATPORT_PRESENCE_H_INCLUDED_ */
