
/*
 * ChatPort: photos sent in a conversation, by the visitor (POST P images)
 * and the operators (POST A conversations/CID/images), and served back
 * to them only.
 */


#ifndef _NGX_HTTP_CHATPORT_UPLOAD_H_INCLUDED_
#define _NGX_HTTP_CHATPORT_UPLOAD_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


ngx_int_t ngx_http_chatport_upload_visitor(ngx_http_request_t *r,
    ngx_str_t *arg);
ngx_int_t ngx_http_chatport_upload_visitor_get(ngx_http_request_t *r,
    ngx_str_t *arg);
ngx_int_t ngx_http_chatport_upload_agent(ngx_http_request_t *r,
    ngx_str_t *arg);
ngx_int_t ngx_http_chatport_upload_agent_get(ngx_http_request_t *r,
    ngx_str_t *arg);
ngx_int_t ngx_http_chatport_upload_url(ngx_pool_t *pool, ngx_str_t *prefix,
    char *path, ngx_str_t *cid, ngx_str_t *url);


#endif /* _NGX_HTTP_CHATPORT_UPLOAD_H_INCLUDED_ */
