
/*
 * ChatPort: the widget's files, embedded at build time from widget/.
 */


#ifndef _NGX_HTTP_CHATPORT_ASSETS_H_INCLUDED_
#define _NGX_HTTP_CHATPORT_ASSETS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


typedef struct {
    ngx_str_t                 name;
    ngx_str_t                 type;
    ngx_str_t                 etag;        /* strong, quoted */
    ngx_str_t                 data;
} ngx_http_chatport_asset_t;


ngx_int_t ngx_http_chatport_asset_send(ngx_http_request_t *r,
    char *name, ngx_str_t *cache);


#endif /* _NGX_HTTP_CHATPORT_ASSETS_H_INCLUDED_ */
