
/*
 * ChatPort: building JSON text in a request's pool.
 */


#ifndef _NGX_HTTP_CHATPORT_JSON_H_INCLUDED_
#define _NGX_HTTP_CHATPORT_JSON_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include <jansson.h>


/*
 * A growing buffer; an allocation failure is remembered and makes every
 * later call a no-op, so that a caller checks once, at the end.
 */
typedef struct {
    ngx_pool_t   *pool;
    u_char       *start;
    u_char       *pos;
    u_char       *end;
    ngx_uint_t    failed;    /* unsigned:1 */
} ngx_http_chatport_json_t;


#define ngx_http_chatport_json_literal(j, text)                               \
    ngx_http_chatport_json_raw(j, (u_char *) text, sizeof(text) - 1)


void ngx_http_chatport_json_init(ngx_http_chatport_json_t *j,
    ngx_pool_t *pool);
void ngx_http_chatport_json_raw(ngx_http_chatport_json_t *j, u_char *data,
    size_t len);
void ngx_http_chatport_json_string(ngx_http_chatport_json_t *j,
    ngx_str_t *s);
void ngx_http_chatport_json_int(ngx_http_chatport_json_t *j, int64_t n);
void ngx_http_chatport_json_bool(ngx_http_chatport_json_t *j,
    ngx_uint_t value);
ngx_int_t ngx_http_chatport_json_result(ngx_http_chatport_json_t *j,
    ngx_str_t *text);

json_t *ngx_http_chatport_json_parse(ngx_str_t *text);
ngx_int_t ngx_http_chatport_json_get_string(ngx_pool_t *pool, json_t *object,
    const char *key, ngx_str_t *value);


#endif /* _NGX_HTTP_CHATPORT_JSON_H_INCLUDED_ */
