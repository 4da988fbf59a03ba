
/*
 * ChatPort: nginx's own error pages below a ChatPort location, as JSON.
 */


#ifndef _NGX_HTTP_CHATPORT_ERRORS_H_INCLUDED_
#define _NGX_HTTP_CHATPORT_ERRORS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


ngx_int_t ngx_http_chatport_errors_init(ngx_conf_t *cf);


#endif /* _NGX_HTTP_CHATPORT_ERRORS_H_INCLUDED_ */
