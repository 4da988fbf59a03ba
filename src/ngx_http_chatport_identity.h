
/*
 * ChatPort: who a visitor's request is from and what it points at.
 */


#ifndef _NGX_HTTP_CHATPORT_IDENTITY_H_INCLUDED_
#define _NGX_HTTP_CHATPORT_IDENTITY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>


ngx_int_t ngx_http_chatport_visitor_cookie(ngx_http_request_t *r,
    ngx_str_t *vid);
ngx_int_t ngx_http_chatport_new_visitor(ngx_pool_t *pool, ngx_str_t *vid);
ngx_int_t ngx_http_chatport_set_cookie(ngx_http_request_t *r, ngx_str_t *vid);
ngx_int_t ngx_http_chatport_visitor_cid(ngx_pool_t *pool, ngx_str_t *vid,
    ngx_str_t *cid);
ngx_int_t ngx_http_chatport_cursor(ngx_http_request_t *r, ngx_str_t *cursor);
ngx_uint_t ngx_http_chatport_url(ngx_str_t *url);
void ngx_http_chatport_referrer(ngx_http_request_t *r, json_t *root,
    ngx_str_t *page, ngx_str_t *referrer);
void ngx_http_chatport_header_text(ngx_table_elt_t *h, size_t max,
    ngx_str_t *text);
ngx_uint_t ngx_http_chatport_post_key(ngx_str_t *key);
ngx_int_t ngx_http_chatport_json_key(ngx_http_request_t *r, json_t *root,
    ngx_str_t *key);


#endif /* _NGX_HTTP_CHATPORT_IDENTITY_H_INCLUDED_ */
