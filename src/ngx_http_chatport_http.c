
/*
 * ChatPort: routing below a location prefix, and JSON responses.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_chatport_http.h"
#include "ngx_http_chatport_json.h"


static ngx_str_t  ngx_http_chatport_json_type =
    ngx_string("application/json; charset=utf-8");


ngx_int_t
ngx_http_chatport_dispatch(ngx_http_request_t *r, ngx_str_t *prefix,
    ngx_http_chatport_route_t *routes)
{
    ngx_str_t                   rest;
    ngx_http_chatport_route_t  *route;

    rest.data = r->uri.data;
    rest.len = r->uri.len;

    if (rest.len >= prefix->len
        && ngx_strncmp(rest.data, prefix->data, prefix->len) == 0)
    {
        rest.data += prefix->len;
        rest.len -= prefix->len;
    }

    /* "location /chatport" serves "/chatport/config" as well */
    if (rest.len && rest.data[0] == '/') {
        rest.data++;
        rest.len--;
    }

    for (route = routes; route->handler; route++) {

        if (route->path.len != rest.len
            || ngx_strncmp(route->path.data, rest.data, rest.len) != 0)
        {
            continue;
        }

        if (!(r->method & route->methods)) {
            if (ngx_http_chatport_add_header(r, "Allow", &route->allow)
                != NGX_OK)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            return ngx_http_chatport_send_error(r, NGX_HTTP_NOT_ALLOWED,
                                                "method_not_allowed",
                                                "this method is not allowed "
                                                "here");
        }

        if (!(r->method & NGX_HTTP_POST)
            && ngx_http_discard_request_body(r) != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return route->handler(r);
    }

    return ngx_http_chatport_send_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                        "no such endpoint");
}


ngx_int_t
ngx_http_chatport_send_json(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *body)
{
    return ngx_http_chatport_send(r, status, &ngx_http_chatport_json_type,
                                  body);
}


ngx_int_t
ngx_http_chatport_send(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *type, ngx_str_t *body)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    r->headers_out.status = status;
    r->headers_out.content_type = *type;
    r->headers_out.content_type_len = type->len;
    r->headers_out.content_length_n = body->len;

    if (body->len == 0) {
        r->header_only = 1;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = body->data;
    b->last = body->data + body->len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


ngx_int_t
ngx_http_chatport_send_error(ngx_http_request_t *r, ngx_uint_t status,
    char *code, char *message)
{
    ngx_str_t                 s, body;
    ngx_http_chatport_json_t  j;

    /* an unread body must not be taken for the next request */
    if (ngx_http_discard_request_body(r) != NGX_OK) {
        r->keepalive = 0;
    }

    ngx_http_chatport_json_init(&j, r->pool);

    ngx_http_chatport_json_literal(&j, "{\"error\":");
    s.data = (u_char *) code;
    s.len = ngx_strlen(code);
    ngx_http_chatport_json_string(&j, &s);

    ngx_http_chatport_json_literal(&j, ",\"message\":");
    s.data = (u_char *) message;
    s.len = ngx_strlen(message);
    ngx_http_chatport_json_string(&j, &s);
    ngx_http_chatport_json_literal(&j, "}\n");

    if (ngx_http_chatport_json_result(&j, &body) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_chatport_send_json(r, status, &body);
}


ngx_int_t
ngx_http_chatport_add_header(ngx_http_request_t *r, char *name,
    ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value = *value;

    return NGX_OK;
}
