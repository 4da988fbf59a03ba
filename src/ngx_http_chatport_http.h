
/*
 * ChatPort: routing below a location prefix, and JSON responses.
 */


#ifndef _NGX_HTTP_CHATPORT_HTTP_H_INCLUDED_
#define _NGX_HTTP_CHATPORT_HTTP_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>

#include "ngx_http_chatport_json.h"


/* arg: what "*" in the route's path matched, one path segment */
typedef ngx_int_t (*ngx_http_chatport_route_pt)(ngx_http_request_t *r,
    ngx_str_t *arg);


typedef struct {
    ngx_str_t                   path;      /* relative to the prefix */
    ngx_uint_t                  methods;   /* NGX_HTTP_GET|NGX_HTTP_HEAD... */
    ngx_str_t                   allow;     /* the same, for "Allow" */
    ngx_http_chatport_route_pt  handler;
} ngx_http_chatport_route_t;


ngx_int_t ngx_http_chatport_dispatch(ngx_http_request_t *r,
    ngx_str_t *prefix, ngx_http_chatport_route_t *routes);
ngx_int_t ngx_http_chatport_send(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *type, ngx_str_t *body);
ngx_int_t ngx_http_chatport_send_json(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *body);
ngx_int_t ngx_http_chatport_send_built(ngx_http_request_t *r,
    ngx_uint_t status, ngx_http_chatport_json_t *j);
ngx_int_t ngx_http_chatport_send_error(ngx_http_request_t *r,
    ngx_uint_t status, char *code, char *message);
ngx_int_t ngx_http_chatport_add_header(ngx_http_request_t *r,
    char *name, ngx_str_t *value);

ngx_int_t ngx_http_chatport_read_json(ngx_http_request_t *r, size_t limit,
    ngx_http_client_body_handler_pt post);
ngx_int_t ngx_http_chatport_read_post(ngx_http_request_t *r, size_t limit,
    ngx_uint_t json, ngx_http_client_body_handler_pt post);
json_t *ngx_http_chatport_body_json(ngx_http_request_t *r, size_t limit);
ngx_int_t ngx_http_chatport_read_body(ngx_http_request_t *r, size_t limit,
    ngx_str_t *body);
ngx_int_t ngx_http_chatport_same_origin(ngx_http_request_t *r);
ngx_int_t ngx_http_chatport_json_request(ngx_http_request_t *r);
ngx_int_t ngx_http_chatport_content_type(ngx_http_request_t *r, char *media);
ngx_uint_t ngx_http_chatport_accepts_html(ngx_http_request_t *r);
ngx_int_t ngx_http_chatport_utf8_text(ngx_str_t *s, ngx_uint_t multiline,
    ngx_uint_t *blank);


#endif /* _NGX_HTTP_CHATPORT_HTTP_H_INCLUDED_ */
