
/*
 * ChatPort: data requests, the export and the erasure of what is stored
 * about a conversation or a visitor's email.
 */


#ifndef _NGX_HTTP_CHATPORT_DATA_H_INCLUDED_
#define _NGX_HTTP_CHATPORT_DATA_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


void ngx_http_chatport_data_init(void);
ngx_int_t ngx_http_chatport_erase(ngx_http_request_t *r, ngx_str_t *arg);
ngx_int_t ngx_http_chatport_export(ngx_http_request_t *r, ngx_str_t *arg);


#endif /* _NGX_HTTP_CHATPORT_DATA_H_INCLUDED_ */
