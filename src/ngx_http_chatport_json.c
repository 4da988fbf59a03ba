
/*
 * ChatPort: building JSON text in a request's pool.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_chatport_json.h"


#define NGX_HTTP_CHATPORT_JSON_SIZE  512


static u_char *ngx_http_chatport_json_reserve(ngx_http_chatport_json_t *j,
    size_t len);


void
ngx_http_chatport_json_init(ngx_http_chatport_json_t *j, ngx_pool_t *pool)
{
    ngx_memzero(j, sizeof(ngx_http_chatport_json_t));
    j->pool = pool;
}


void
ngx_http_chatport_json_raw(ngx_http_chatport_json_t *j, u_char *data,
    size_t len)
{
    u_char  *p;

    /* an empty ngx_str_t may have data NULL, which memcpy() must not get */

    if (len == 0) {
        return;
    }

    p = ngx_http_chatport_json_reserve(j, len);

    if (p != NULL) {
        j->pos = ngx_cpymem(p, data, len);
    }
}


void
ngx_http_chatport_json_string(ngx_http_chatport_json_t *j, ngx_str_t *s)
{
    u_char  *p;
    size_t   len;

    len = s->len + ngx_escape_json(NULL, s->data, s->len) + 2;

    p = ngx_http_chatport_json_reserve(j, len);
    if (p == NULL) {
        return;
    }

    *p++ = '"';
    p = (u_char *) ngx_escape_json(p, s->data, s->len);
    *p++ = '"';

    j->pos = p;
}


void
ngx_http_chatport_json_int(ngx_http_chatport_json_t *j, int64_t n)
{
    u_char  *p;

    p = ngx_http_chatport_json_reserve(j, NGX_INT64_LEN);

    if (p != NULL) {
        j->pos = ngx_sprintf(p, "%L", n);
    }
}


void
ngx_http_chatport_json_bool(ngx_http_chatport_json_t *j, ngx_uint_t value)
{
    if (value) {
        ngx_http_chatport_json_literal(j, "true");

    } else {
        ngx_http_chatport_json_literal(j, "false");
    }
}


ngx_int_t
ngx_http_chatport_json_result(ngx_http_chatport_json_t *j, ngx_str_t *text)
{
    if (j->failed) {
        return NGX_ERROR;
    }

    text->data = j->start;
    text->len = j->pos - j->start;

    return NGX_OK;
}


/*
 * A request body as a JSON object, or NULL. jansson rejects invalid UTF-8
 * and, without JSON_ALLOW_NUL, a "\u0000" in a string.
 */

json_t *
ngx_http_chatport_json_parse(ngx_str_t *text)
{
    json_t        *root;
    json_error_t   error;

    root = json_loadb((const char *) text->data, text->len,
                      JSON_REJECT_DUPLICATES, &error);

    if (root != NULL && !json_is_object(root)) {
        json_decref(root);
        return NULL;
    }

    return root;
}


/*
 * Copies a string member into the pool: NGX_OK, NGX_DECLINED when it is
 * absent or null, NGX_ERROR when it is not a string.
 */

ngx_int_t
ngx_http_chatport_json_get_string(ngx_pool_t *pool, json_t *object,
    const char *key, ngx_str_t *value)
{
    json_t  *member;

    ngx_str_null(value);

    member = json_object_get(object, key);

    if (member == NULL || json_is_null(member)) {
        return NGX_DECLINED;
    }

    if (!json_is_string(member)) {
        return NGX_ERROR;
    }

    value->len = json_string_length(member);
    value->data = ngx_pnalloc(pool, value->len + 1);

    if (value->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(value->data, json_string_value(member), value->len + 1);

    return NGX_OK;
}


/* returns where len bytes may be written, growing the buffer as needed */

static u_char *
ngx_http_chatport_json_reserve(ngx_http_chatport_json_t *j, size_t len)
{
    u_char  *p;
    size_t   size, used;

    if (j->failed) {
        return NULL;
    }

    if ((size_t) (j->end - j->pos) >= len) {
        return j->pos;
    }

    used = j->pos - j->start;
    size = ngx_max(2 * (size_t) (j->end - j->start), used + len);
    size = ngx_max(size, NGX_HTTP_CHATPORT_JSON_SIZE);

    p = ngx_pnalloc(j->pool, size);
    if (p == NULL) {
        j->failed = 1;
        return NULL;
    }

    if (used) {
        ngx_memcpy(p, j->start, used);
    }

    j->start = p;
    j->pos = p + used;
    j->end = p + size;

    return j->pos;
}
