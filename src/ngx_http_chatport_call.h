
/*
 * ChatPort: a request waiting for Redis, and turning the store's replies
 * into answers.
 */


#ifndef _NGX_HTTP_CHATPORT_CALL_H_INCLUDED_
#define _NGX_HTTP_CHATPORT_CALL_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_chatport_store.h"


typedef struct {
    ngx_http_request_t               *request;
    ngx_http_chatport_redis_cmd_t    *cmd;        /* the command under way */
    char                             *unknown;    /* error code, e.g. for */
                                                  /* an unknown conversation */
} ngx_http_chatport_call_t;


typedef struct {
    ngx_uint_t                        status;
    char                             *code;
    char                             *message;
} ngx_http_chatport_error_t;


void *ngx_http_chatport_call_create(ngx_http_request_t *r, size_t size,
    char *unknown);
void *ngx_http_chatport_visitor_call(ngx_http_request_t *r, size_t size,
    ngx_str_t *cid);
ngx_int_t ngx_http_chatport_call_started(ngx_http_chatport_call_t *call,
    ngx_int_t rc);
void ngx_http_chatport_call_posted(ngx_http_chatport_call_t *call,
    ngx_int_t rc);
void ngx_http_chatport_call_done(ngx_http_chatport_call_t *call,
    ngx_int_t rc);
void ngx_http_chatport_call_failed(ngx_http_chatport_call_t *call,
    ngx_http_chatport_store_status_e status);
void ngx_http_chatport_call_json(void *data, redisReply *reply,
    ngx_int_t rc);
void ngx_http_chatport_call_empty(void *data, redisReply *reply,
    ngx_int_t rc);

ngx_int_t ngx_http_chatport_send_created(ngx_http_request_t *r,
    redisReply *reply);
ngx_int_t ngx_http_chatport_send_rate_limited(ngx_http_request_t *r,
    redisReply *reply, char *message);
ngx_http_chatport_store_status_e ngx_http_chatport_reply_json(
    redisReply *reply, ngx_int_t rc, ngx_http_request_t *r,
    ngx_uint_t found_only, ngx_int_t *count, ngx_str_t *body);
void ngx_http_chatport_store_error(ngx_http_chatport_store_status_e status,
    char *unknown, ngx_http_chatport_error_t *err);


#endif /* _NGX_HTTP_CHATPORT_CALL_H_INCLUDED_ */
