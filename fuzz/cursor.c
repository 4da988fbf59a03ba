
/*
 * The request's "after" cursor and "chatport_vid" cookie: the first line
 * of the input is the query string, each further line a Cookie header.
 */


#include "fuzz_common.h"

#include "../src/ngx_http_chatport_identity.c"
#include "../src/ngx_http_chatport_waiters.c"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char              *p, *last, *nl;
    ngx_str_t            cursor, vid, cid;
    ngx_pool_t          *pool;
    ngx_http_request_t  *r;

    pool = fuzz_pool();
    r = fuzz_request(pool);
    p = fuzz_copy(pool, data, size);

    if (r == NULL || p == NULL) {
        ngx_destroy_pool(pool);
        return 0;
    }

    last = p + size;

    nl = ngx_strlchr(p, last, '\n');
    r->args.data = p;
    r->args.len = (nl ? nl : last) - p;

    while (nl) {
        p = nl + 1;
        nl = ngx_strlchr(p, last, '\n');

        if (fuzz_header(r, "Cookie", p, (nl ? nl : last) - p) == NULL) {
            ngx_destroy_pool(pool);
            return 0;
        }
    }

    (void) ngx_http_chatport_cursor(r, &cursor);

    if (ngx_http_chatport_visitor_cookie(r, &vid) == NGX_OK) {
        (void) ngx_http_chatport_visitor_cid(pool, &vid, &cid);
    }

    ngx_destroy_pool(pool);

    return 0;
}
