
/*
 * ChatPort: the widget injection filter.
 */


#ifndef _NGX_HTTP_CHATPORT_FILTER_H_INCLUDED_
#define _NGX_HTTP_CHATPORT_FILTER_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


ngx_int_t ngx_http_chatport_filter_init(ngx_conf_t *cf);


#endif /* _NGX_HTTP_CHATPORT_FILTER_H_INCLUDED_ */
