
/*
 * A chat message's JSON body (its "text", "page" and "referrer") as the
 * visitor and operator handlers check it, read in two parts split where
 * the first byte says; and the input itself through the UTF-8 text check.
 */


#include "fuzz_common.h"

#include "../src/ngx_http_chatport_http.c"
#include "../src/ngx_http_chatport_identity.c"
#include "../src/ngx_http_chatport_visitor.c"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t                        *root;
    size_t                         len;
    u_char                        *body;
    ngx_str_t                      text, page, referrer, s;
    ngx_uint_t                     blank;
    ngx_pool_t                    *pool;
    ngx_http_request_t            *r;
    ngx_http_chatport_loc_conf_t  *clcf;

    if (size < 1) {
        return 0;
    }

    pool = fuzz_pool();
    r = fuzz_request(pool);
    len = size - 1;
    body = fuzz_copy(pool, data + 1, len);

    if (r == NULL || body == NULL
        || fuzz_body(r, body, len, len * data[0] / 255) != NGX_OK)
    {
        ngx_destroy_pool(pool);
        return 0;
    }

    s.data = body;
    s.len = len;
    (void) ngx_http_chatport_utf8_text(&s, 0, &blank);
    (void) ngx_http_chatport_utf8_text(&s, 1, &blank);
    (void) ngx_http_chatport_url(&s);

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);

    root = ngx_http_chatport_body_json(r, ngx_http_chatport_body_limit(clcf));

    if (root != NULL) {
        if (ngx_http_chatport_message_text(r, root, &text, &page) == NGX_OK) {
            ngx_http_chatport_referrer(r, root, &page, &referrer);
        }

        json_decref(root);
    }

    ngx_destroy_pool(pool);

    return 0;
}
