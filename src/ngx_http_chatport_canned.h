
/*
 * ChatPort: GET A canned, POST A canned, DELETE A canned/ID: the site's
 * canned replies.
 */


#ifndef _NGX_HTTP_CHATPORT_CANNED_H_INCLUDED_
#define _NGX_HTTP_CHATPORT_CANNED_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


#define NGX_HTTP_CHATPORT_CANNED_MAX        200     /* per site */
#define NGX_HTTP_CHATPORT_CANNED_TITLE_MAX  100     /* characters */
#define NGX_HTTP_CHATPORT_CANNED_ID_MAX     20      /* digits */


void ngx_http_chatport_canned_init(void);
ngx_int_t ngx_http_chatport_canned(ngx_http_request_t *r, ngx_str_t *arg);
ngx_int_t ngx_http_chatport_canned_delete(ngx_http_request_t *r,
    ngx_str_t *arg);


#endif /* _NGX_HTTP_CHATPORT_CANNED_H_INCLUDED_ */
