
/*
 * Redis key names as ngx_http_chatport_store_key() writes them, against
 * ngx_snprintf() with the same format and bound: the input's first line
 * is the format (made of text, %V and %s, up to three conversions; NUL
 * bytes and any other % become '_'), the next three lines the arguments.
 * The output may also be the first argument's own ngx_str_t.
 */


#include "fuzz_common.h"

#include "../src/ngx_http_chatport_store.c"


#define FUZZ_KEY_ARGS  3


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char      *p, *last, *nl, *fmt, *expect, *end;
    void        *arg[FUZZ_KEY_ARGS];
    ngx_str_t    str[FUZZ_KEY_ARGS], key;
    ngx_uint_t   i, k, n, conv;
    ngx_pool_t  *pool;

    pool = fuzz_pool();
    p = fuzz_copy(pool, data, size);
    expect = ngx_pnalloc(pool, NGX_HTTP_CHATPORT_KEY_MAX);

    if (p == NULL || expect == NULL) {
        ngx_destroy_pool(pool);
        return 0;
    }

    last = p + size;

    /* the format, null-terminated where its line ends */
    nl = ngx_strlchr(p, last, '\n');
    n = (nl ? nl : last) - p;
    fmt = ngx_pnalloc(pool, n + 1);

    if (fmt == NULL) {
        ngx_destroy_pool(pool);
        return 0;
    }

    conv = 0;

    for (i = 0; i < n; i++) {
        fmt[i] = p[i] ? p[i] : '_';

        if (p[i] != '%') {
            continue;
        }

        if (i + 1 < n && (p[i + 1] == 'V' || p[i + 1] == 's')
            && conv < FUZZ_KEY_ARGS)
        {
            fmt[i + 1] = p[i + 1];
            conv++;
            i++;

        } else {
            fmt[i] = '_';
        }
    }

    fmt[n] = '\0';

    /* the arguments: ngx_str_t for %V, the same bytes terminated for %s */
    for (i = 0; i < FUZZ_KEY_ARGS; i++) {
        p = nl ? nl + 1 : last;
        nl = p < last ? ngx_strlchr(p, last, '\n') : NULL;
        n = (nl ? nl : last) - p;

        str[i].data = ngx_pnalloc(pool, n + 1);
        if (str[i].data == NULL) {
            ngx_destroy_pool(pool);
            return 0;
        }

        for (k = 0; k < n; k++) {
            str[i].data[k] = p[k] ? p[k] : '_';
        }

        str[i].data[n] = '\0';
        str[i].len = n;
    }

    /* %s takes the bytes, %V the ngx_str_t */
    for (i = 0, p = fmt; *p; p++) {
        if (p[0] == '%' && (p[1] == 'V' || p[1] == 's')) {
            arg[i] = (p[1] == 'V') ? (void *) &str[i] : (void *) str[i].data;
            i++;
            p++;
        }
    }

    for ( /* void */ ; i < FUZZ_KEY_ARGS; i++) {
        arg[i] = &str[i];
    }

    end = ngx_snprintf(expect, NGX_HTTP_CHATPORT_KEY_MAX, (char *) fmt,
                       arg[0], arg[1], arg[2]);

    if (ngx_http_chatport_store_key(pool, &key, (char *) fmt,
                                    arg[0], arg[1], arg[2])
        != NGX_OK)
    {
        ngx_destroy_pool(pool);
        return 0;
    }

    if (key.len != (size_t) (end - expect)
        || ngx_memcmp(key.data, expect, key.len) != 0)
    {
        abort();
    }

    /* written into the first argument's own ngx_str_t, as upload.c does */
    if (arg[0] == &str[0]
        && (ngx_http_chatport_store_key(pool, &str[0], (char *) fmt,
                                        arg[0], arg[1], arg[2])
            != NGX_OK
            || str[0].len != key.len
            || ngx_memcmp(str[0].data, key.data, key.len) != 0))
    {
        abort();
    }

    ngx_destroy_pool(pool);

    return 0;
}
