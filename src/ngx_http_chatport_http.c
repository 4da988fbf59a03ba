
/*
 * ChatPort: routing below a location prefix, and JSON responses.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_chatport_http.h"
#include "ngx_http_chatport_json.h"


static ngx_int_t ngx_http_chatport_route_match(ngx_str_t *pattern,
    ngx_str_t *path, ngx_str_t *arg);


#define NGX_HTTP_CHATPORT_UTF8_INVALID  0xffffffff


static uint32_t ngx_http_chatport_utf8_next(u_char **pp, u_char *last);


static ngx_str_t  ngx_http_chatport_json_type =
    ngx_string("application/json; charset=utf-8");

/* how long a client waits before it tries again after a 503 */
static ngx_str_t  ngx_http_chatport_retry_after = ngx_string("2");


/* a "*" in a route stands for one non-empty path segment */

static ngx_int_t
ngx_http_chatport_route_match(ngx_str_t *pattern, ngx_str_t *path,
    ngx_str_t *arg)
{
    u_char  *p, *q, *plast, *qlast;

    p = pattern->data;
    plast = p + pattern->len;
    q = path->data;
    qlast = q + path->len;

    ngx_str_null(arg);

    while (p < plast && q < qlast) {

        if (*p == '*') {
            arg->data = q;

            while (q < qlast && *q != '/') {
                q++;
            }

            arg->len = q - arg->data;
            p++;
            continue;
        }

        if (*p++ != *q++) {
            return NGX_DECLINED;
        }
    }

    return (p == plast && q == qlast) ? NGX_OK : NGX_DECLINED;
}


ngx_int_t
ngx_http_chatport_dispatch(ngx_http_request_t *r, ngx_str_t *prefix,
    ngx_http_chatport_route_t *routes)
{
    ngx_str_t                   rest, arg;
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

        if (ngx_http_chatport_route_match(&route->path, &rest, &arg)
            != NGX_OK)
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

        return route->handler(r, &arg);
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
    u_char       *semicolon;
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    r->headers_out.status = status;
    r->headers_out.content_type = *type;

    /* gzip_types and the like match the type without its parameters */
    semicolon = ngx_strlchr(type->data, type->data + type->len, ';');
    r->headers_out.content_type_len = semicolon
                                      ? (size_t) (semicolon - type->data)
                                      : type->len;
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
    ngx_str_t                 s;
    ngx_http_chatport_json_t  j;

    /* an unread body must not be taken for the next request */
    if (ngx_http_discard_request_body(r) != NGX_OK) {
        r->keepalive = 0;
    }

    if (status == NGX_HTTP_SERVICE_UNAVAILABLE
        && ngx_http_chatport_add_header(r, "Retry-After",
                                        &ngx_http_chatport_retry_after)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
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

    return ngx_http_chatport_send_built(r, status, &j);
}


/* the JSON built in j, or 500 when building it ran out of memory */

ngx_int_t
ngx_http_chatport_send_built(ngx_http_request_t *r, ngx_uint_t status,
    ngx_http_chatport_json_t *j)
{
    ngx_str_t  body;

    if (ngx_http_chatport_json_result(j, &body) != NGX_OK) {
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


/*
 * Starts reading a JSON body for a POST from this site: what a content
 * handler returns. The post handler then calls ngx_http_chatport_body_json().
 */

ngx_int_t
ngx_http_chatport_read_json(ngx_http_request_t *r, size_t limit,
    ngx_http_client_body_handler_pt post)
{
    return ngx_http_chatport_read_post(r, limit, 1, post);
}


/* the same for any body (json: 0), which the post handler reads whole */

ngx_int_t
ngx_http_chatport_read_post(ngx_http_request_t *r, size_t limit,
    ngx_uint_t json, ngx_http_client_body_handler_pt post)
{
    ngx_int_t  rc;

    if (ngx_http_chatport_same_origin(r) != NGX_OK) {
        return ngx_http_chatport_send_error(r, NGX_HTTP_FORBIDDEN,
                                            "cross_origin",
                                            "requests from other sites "
                                            "are refused");
    }

    if (json && ngx_http_chatport_json_request(r) != NGX_OK) {
        return ngx_http_chatport_send_error(r,
                                            NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                            "unsupported_media_type",
                                            "send application/json");
    }

    if (r->headers_in.content_length_n > (off_t) limit) {
        return ngx_http_chatport_send_error(r,
                                            NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                            "body_too_large",
                                            "the request body is too large");
    }

    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r, post);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


/*
 * The body as a JSON object (the caller frees it with json_decref()), or
 * NULL when the request has been answered with an error.
 */

json_t *
ngx_http_chatport_body_json(ngx_http_request_t *r, size_t limit)
{
    json_t     *root;
    ngx_int_t   rc;
    ngx_str_t   body;

    rc = ngx_http_chatport_read_body(r, limit, &body);

    if (rc == NGX_HTTP_REQUEST_ENTITY_TOO_LARGE) {
        ngx_http_finalize_request(r,
            ngx_http_chatport_send_error(r, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                         "body_too_large",
                                         "the request body is too large"));
        return NULL;
    }

    if (rc != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return NULL;
    }

    root = ngx_http_chatport_json_parse(&body);

    if (root == NULL) {
        ngx_http_finalize_request(r,
            ngx_http_chatport_send_error(r, NGX_HTTP_BAD_REQUEST,
                                         "invalid_json",
                                         "the body is not a JSON object"));
    }

    return root;
}


/*
 * The body read by ngx_http_read_client_request_body() as one piece of
 * memory: NGX_OK, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, or NGX_ERROR.
 */

ngx_int_t
ngx_http_chatport_read_body(ngx_http_request_t *r, size_t limit,
    ngx_str_t *body)
{
    u_char       *p;
    off_t         len;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    ngx_str_null(body);

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        len += ngx_buf_size(cl->buf);
    }

    if (len > (off_t) limit) {
        return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
    }

    b = r->request_body->bufs->buf;

    if (r->request_body->bufs->next == NULL && !b->in_file) {
        body->data = b->pos;
        body->len = b->last - b->pos;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, (size_t) len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    body->data = p;
    body->len = (size_t) len;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (!b->in_file) {
            /* the empty last_buf of a body read in parts has pos NULL */
            if (b->last != b->pos) {
                p = ngx_cpymem(p, b->pos, b->last - b->pos);
            }

            continue;
        }

        /* a body larger than client_body_buffer_size: at most the limit */
        n = ngx_read_file(b->file, p, (size_t) (b->file_last - b->file_pos),
                          b->file_pos);

        if (n != b->file_last - b->file_pos) {
            return NGX_ERROR;
        }

        p += n;
    }

    return NGX_OK;
}


/*
 * A POST from a page of another site is refused: its Origin must name the
 * host the request was sent to, and Sec-Fetch-Site must not say otherwise.
 * Plain HTML forms and fetch() from the site itself pass.
 */

ngx_int_t
ngx_http_chatport_same_origin(ngx_http_request_t *r)
{
    u_char           *p, *last;
    ngx_str_t         name, value;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;
    ngx_uint_t        i;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        name = h[i].key;
        value = h[i].value;

        if (name.len == 14
            && ngx_strncasecmp(name.data, (u_char *) "Sec-Fetch-Site", 14)
               == 0)
        {
            if (!((value.len == 11
                   && ngx_strncmp(value.data, "same-origin", 11) == 0)
                  || (value.len == 4 && ngx_strncmp(value.data, "none", 4)
                                        == 0)))
            {
                return NGX_DECLINED;
            }

            continue;
        }

        if (name.len != 6
            || ngx_strncasecmp(name.data, (u_char *) "Origin", 6) != 0)
        {
            continue;
        }

        /* "https://shop.example:8443" against Host "shop.example:8443" */

        p = ngx_strlcasestrn(value.data, value.data + value.len,
                             (u_char *) "://", 3 - 1);
        if (p == NULL || r->headers_in.host == NULL) {
            return NGX_DECLINED;
        }

        p += 3;
        last = value.data + value.len;

        if ((size_t) (last - p) != r->headers_in.host->value.len
            || ngx_strncasecmp(p, r->headers_in.host->value.data, last - p)
               != 0)
        {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


/* "application/json", with or without parameters */

ngx_int_t
ngx_http_chatport_json_request(ngx_http_request_t *r)
{
    return ngx_http_chatport_content_type(r, "application/json");
}


/* the request's media type is this one, with or without parameters */

ngx_int_t
ngx_http_chatport_content_type(ngx_http_request_t *r, char *media)
{
    size_t      len;
    ngx_str_t  *type;

    if (r->headers_in.content_type == NULL) {
        return NGX_DECLINED;
    }

    type = &r->headers_in.content_type->value;
    len = ngx_strlen(media);

    if (type->len < len
        || ngx_strncasecmp(type->data, (u_char *) media, len) != 0
        || (type->len > len && type->data[len] != ';'
            && type->data[len] != ' '))
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


ngx_uint_t
ngx_http_chatport_accepts_html(ngx_http_request_t *r)
{
    ngx_str_t  *accept;

    if (r->headers_in.accept == NULL) {
        return 0;
    }

    accept = &r->headers_in.accept->value;

    return ngx_strlcasestrn(accept->data, accept->data + accept->len,
                            (u_char *) "text/html", 9 - 1)
           != NULL;
}


/*
 * The next code point of strict UTF-8: no stray or missing continuation
 * bytes, no overlong forms, no surrogates, nothing past U+10FFFF.
 */

static uint32_t
ngx_http_chatport_utf8_next(u_char **pp, u_char *last)
{
    u_char      *p = *pp;
    uint32_t     ch, min;
    ngx_uint_t   n, i;

    ch = *p++;

    if (ch < 0x80) {
        *pp = p;
        return ch;
    }

    if (ch >= 0xc2 && ch <= 0xdf) {
        n = 1;
        ch &= 0x1f;
        min = 0x80;

    } else if (ch >= 0xe0 && ch <= 0xef) {
        n = 2;
        ch &= 0x0f;
        min = 0x800;

    } else if (ch >= 0xf0 && ch <= 0xf4) {
        n = 3;
        ch &= 0x07;
        min = 0x10000;

    } else {
        return NGX_HTTP_CHATPORT_UTF8_INVALID;
    }

    if ((size_t) (last - p) < n) {
        return NGX_HTTP_CHATPORT_UTF8_INVALID;
    }

    for (i = 0; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return NGX_HTTP_CHATPORT_UTF8_INVALID;
        }

        ch = (ch << 6) | (p[i] & 0x3f);
    }

    if (ch < min || ch > 0x10ffff || (ch >= 0xd800 && ch <= 0xdfff)) {
        return NGX_HTTP_CHATPORT_UTF8_INVALID;
    }

    *pp = p + n;

    return ch;
}


/*
 * Valid UTF-8 without control characters (but tab, and line breaks when
 * multiline); blank tells whether it is only white space, counting the
 * no-break and ideographic spaces.
 */

ngx_int_t
ngx_http_chatport_utf8_text(ngx_str_t *s, ngx_uint_t multiline,
    ngx_uint_t *blank)
{
    u_char    *p, *last;
    uint32_t   ch;

    *blank = 1;
    p = s->data;
    last = p + s->len;

    while (p < last) {

        ch = ngx_http_chatport_utf8_next(&p, last);

        if (ch == NGX_HTTP_CHATPORT_UTF8_INVALID) {
            return NGX_ERROR;
        }

        if (ch == '\n' || ch == '\r') {
            if (!multiline) {
                return NGX_ERROR;
            }

            continue;
        }

        if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
            return NGX_ERROR;
        }

        if (!(ch == ' ' || ch == '\t' || ch == 0xa0 || ch == 0x3000)) {
            *blank = 0;
        }
    }

    return NGX_OK;
}
