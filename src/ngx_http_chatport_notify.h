
/*
 * ChatPort: notifications, as POST subrequests to chatport_notify.
 */


#ifndef _NGX_HTTP_CHATPORT_NOTIFY_H_INCLUDED_
#define _NGX_HTTP_CHATPORT_NOTIFY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


ngx_int_t ngx_http_chatport_notify(ngx_http_request_t *r, ngx_str_t *event);
ngx_int_t ngx_http_chatport_console_link(ngx_http_request_t *r,
    ngx_str_t *cid, ngx_str_t *link);


#endif /* _NGX_HTTP_CHATPORT_NOTIFY_H_INCLUDED_ */
