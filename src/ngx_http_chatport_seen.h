
/*
 * ChatPort: POST P seen {"id"}: the widget has shown the operators'
 * messages up to that id.
 */


#ifndef _NGX_HTTP_CHATPORT_SEEN_H_INCLUDED_
#define _NGX_HTTP_CHATPORT_SEEN_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


ngx_int_t ngx_http_chatport_seen(ngx_http_request_t *r, ngx_str_t *arg);


#endif /* _NGX_HTTP_CHATPORT_SEEN_H_INCLUDED_ */
