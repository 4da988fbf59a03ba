
/*
 * ChatPort: the operators' list of a site's conversations, paged by a
 * cursor, filtered and searched (GET A conversations).
 */


#ifndef _NGX_HTTP_CHATPORT_LIST_H_INCLUDED_
#define _NGX_HTTP_CHATPORT_LIST_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_chatport_call.h"


/* a request's arguments, the same for every site it lists */
typedef struct {
    ngx_int_t                  limit;
    ngx_str_t                  before;     /* a cursor, "" for the newest */
    ngx_str_t                  filter;     /* "" for none */
    ngx_str_t                  query;      /* unescaped, "" for none */
    ngx_str_t                  operator;   /* the login "mine" means */
} ngx_http_chatport_list_t;


void ngx_http_chatport_list_init(void);
ngx_int_t ngx_http_chatport_conversations(ngx_http_request_t *r,
    ngx_str_t *arg);
ngx_http_chatport_error_t *ngx_http_chatport_list_args(ngx_http_request_t *r,
    ngx_http_chatport_list_t *list);
ngx_int_t ngx_http_chatport_list_store(ngx_pool_t *pool, ngx_str_t *site,
    ngx_http_chatport_list_t *list, ngx_str_t *images,
    ngx_http_chatport_redis_pt handler, void *data,
    ngx_http_chatport_redis_cmd_t **cmdp);
void ngx_http_chatport_list_done(void *data, redisReply *reply,
    ngx_int_t rc);
ngx_int_t ngx_http_chatport_list_refused(ngx_http_request_t *r,
    redisReply *reply, ngx_int_t rc);


#endif /* _NGX_HTTP_CHATPORT_LIST_H_INCLUDED_ */
