
/*
 * ChatPort: POST A conversations/CID/claim and .../release: which
 * operator has a conversation.
 */


#ifndef _NGX_HTTP_CHATPORT_CLAIM_H_INCLUDED_
#define _NGX_HTTP_CHATPORT_CLAIM_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


void ngx_http_chatport_claim_init(void);
ngx_int_t ngx_http_chatport_claim(ngx_http_request_t *r, ngx_str_t *arg);
ngx_int_t ngx_http_chatport_release(ngx_http_request_t *r, ngx_str_t *arg);


#endif /* _NGX_HTTP_CHATPORT_CLAIM_H_INCLUDED_ */
