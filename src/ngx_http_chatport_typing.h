
/*
 * ChatPort: POST P typing, POST A conversations/CID/typing: someone types
 * in a conversation; the other side's polls hear it, nothing is stored.
 */


#ifndef _NGX_HTTP_CHATPORT_TYPING_H_INCLUDED_
#define _NGX_HTTP_CHATPORT_TYPING_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


void ngx_http_chatport_typing_init(void);
ngx_int_t ngx_http_chatport_typing(ngx_http_request_t *r, ngx_str_t *arg);
ngx_int_t ngx_http_chatport_typing_agent(ngx_http_request_t *r,
    ngx_str_t *cid, ngx_str_t *operator);


#endif /* _NGX_HTTP_CHATPORT_TYPING_H_INCLUDED_ */
