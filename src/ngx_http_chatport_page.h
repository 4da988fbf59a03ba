
/*
 * ChatPort: the page the visitor is on, reported by the widget once a
 * conversation exists (POST P page), and its history for the operators
 * (GET A conversations/CID/pages).
 */


#ifndef _NGX_HTTP_CHATPORT_PAGE_H_INCLUDED_
#define _NGX_HTTP_CHATPORT_PAGE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


void ngx_http_chatport_page_init(void);
ngx_int_t ngx_http_chatport_page(ngx_http_request_t *r, ngx_str_t *arg);
ngx_int_t ngx_http_chatport_pages(ngx_http_request_t *r, ngx_str_t *arg);


#endif /* _NGX_HTTP_CHATPORT_PAGE_H_INCLUDED_ */
