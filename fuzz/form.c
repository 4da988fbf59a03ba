
/*
 * The contact form's body, urlencoded or JSON, through the checks of the
 * configured fields. The first byte chooses the media type, the second
 * where nginx's read splits the body.
 */


#include "fuzz_common.h"

#include "../src/ngx_http_chatport_form.c"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                            *err;
    size_t                           len;
    u_char                          *body;
    ngx_uint_t                       i, status;
    ngx_pool_t                      *pool;
    ngx_array_t                      pairs;
    ngx_http_request_t              *r;
    ngx_http_chatport_pair_t        *pair;
    ngx_http_chatport_loc_conf_t    *clcf;
    ngx_http_chatport_form_field_t  *f;
    ngx_str_t                        page = ngx_string("page");
    static u_char                    host[] = "shop.example";
    static char                     *types[] = {
        "application/x-www-form-urlencoded",
        "application/json; charset=utf-8"
    };

    if (size < 2) {
        return 0;
    }

    pool = fuzz_pool();
    r = fuzz_request(pool);
    len = size - 2;
    body = fuzz_copy(pool, data + 2, len);

    if (r == NULL || body == NULL
        || fuzz_header(r, "Content-Type", (u_char *) types[data[0] & 1],
                       ngx_strlen(types[data[0] & 1]))
           == NULL
        || fuzz_header(r, "Host", host, sizeof(host) - 1) == NULL
        || fuzz_body(r, body, len, len * data[1] / 255) != NGX_OK
        || ngx_array_init(&pairs, pool, 8, sizeof(ngx_http_chatport_pair_t))
           != NGX_OK)
    {
        ngx_destroy_pool(pool);
        return 0;
    }

    if (ngx_http_chatport_form_pairs(r, &pairs, &status, &err) == NGX_OK) {
        clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);
        f = clcf->form_fields->elts;

        for (i = 0; i < clcf->form_fields->nelts; i++) {
            pair = ngx_http_chatport_pair(&pairs, &f[i].name);
            (void) ngx_http_chatport_field_check(&f[i], pair);
        }

        pair = ngx_http_chatport_pair(&pairs, &page);

        if (pair && pair->is_string) {
            (void) ngx_http_chatport_same_host(r, &pair->value);
        }
    }

    ngx_destroy_pool(pool);

    return 0;
}
