
/*
 * The widget injection filter over an HTML body cut into buffers of 0 to
 * 8 bytes, and one in four of up to 63 bytes, where the SSE2 search runs
 * (the first byte seeds the cuts; its lowest bit announces the body's
 * length as a Content-Length). The output must be the body with the tag
 * before its first "</body>", in any case, or at its end, and a length
 * announced must be the output's.
 */


#include "fuzz_common.h"

#include "../src/ngx_http_chatport_filter.c"


static u_char  *fuzz_out, *fuzz_out_last;


static ngx_int_t
fuzz_next_header(ngx_http_request_t *r)
{
    return NGX_OK;
}


/* what nginx's next filters do: take the bytes, then mark them sent */

static ngx_int_t
fuzz_next_body(ngx_http_request_t *r, ngx_chain_t *in)
{
    size_t  n;

    for ( /* void */ ; in; in = in->next) {
        n = in->buf->last - in->buf->pos;

        if (n) {
            if (n > (size_t) (fuzz_out_last - fuzz_out)) {
                abort();
            }

            fuzz_out = ngx_cpymem(fuzz_out, in->buf->pos, n);
        }

        in->buf->pos = in->buf->last;
    }

    return NGX_OK;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t                         len, at, n, cut, tail;
    u_char                        *body, *out, *end, *expect, *p;
    uint32_t                       seed;
    ngx_buf_t                     *b;
    ngx_chain_t                    cl;
    ngx_pool_t                    *pool;
    ngx_http_request_t            *r;
    ngx_http_chatport_loc_conf_t  *clcf;
    static u_char                  html[] = "text/html; charset=utf-8";

    if (size < 1) {
        return 0;
    }

    pool = fuzz_pool();
    r = fuzz_request(pool);
    len = size - 1;
    body = fuzz_copy(pool, data + 1, len);

    if (r == NULL || body == NULL) {
        ngx_destroy_pool(pool);
        return 0;
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);
    clcf->inject = 1;
    ngx_str_null(&clcf->prefix);
    ngx_str_set(&clcf->inject_tag,
                "<script src=\"/chat/widget.js\" defer data-chatport>"
                "</script>");

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_type.data = html;
    r->headers_out.content_type.len = sizeof(html) - 1;
    r->headers_out.content_type_len = 9;

    if (data[0] & 1) {
        r->headers_out.content_length_n = len;
    }

    ngx_http_next_header_filter = fuzz_next_header;
    ngx_http_next_body_filter = fuzz_next_body;

    out = ngx_pnalloc(pool, len + clcf->inject_tag.len + 1);
    expect = ngx_pnalloc(pool, len + clcf->inject_tag.len + 1);

    if (out == NULL || expect == NULL
        || ngx_http_chatport_header_filter(r) != NGX_OK)
    {
        ngx_destroy_pool(pool);
        return 0;
    }

    fuzz_out = out;
    fuzz_out_last = out + len + clcf->inject_tag.len;
    seed = data[0];

    /* one buffer a call, as the copy filter passes them on */

    for (at = 0; /* void */ ; at += n) {
        seed = seed * 1103515245 + 12345;
        n = ngx_min((seed >> 16) % 4 ? (seed >> 18) % 9 : (seed >> 18) % 64,
                    len - at);

        b = ngx_calloc_buf(pool);
        if (b == NULL) {
            ngx_destroy_pool(pool);
            return 0;
        }

        b->pos = body + at;
        b->last = body + at + n;
        b->temporary = 1;
        b->last_buf = (at + n == len);

        cl.buf = b;
        cl.next = NULL;

        if (ngx_http_chatport_body_filter(r, &cl) != NGX_OK) {
            abort();
        }

        if (b->last_buf) {
            break;
        }
    }

    /* the tag before the first "</body>", or at the end of any body */

    cut = len;

    for (p = body; p + 7 <= body + len; p++) {
        if (ngx_strncasecmp(p, (u_char *) "</body>", 7) == 0) {
            cut = p - body;
            break;
        }
    }

    end = ngx_cpymem(expect, body, cut);

    if (len) {
        end = ngx_cpymem(end, clcf->inject_tag.data, clcf->inject_tag.len);
    }

    tail = len - cut;
    end = ngx_cpymem(end, body + cut, tail);

    if (fuzz_out - out != end - expect
        || ngx_memcmp(out, expect, end - expect) != 0)
    {
        abort();
    }

    /* an announced length grew by the tag's; 0 stays; none stays none */

    if (r->headers_out.content_length_n
        != ((data[0] & 1) ? (off_t) (end - expect) : -1))
    {
        abort();
    }

    ngx_destroy_pool(pool);

    return 0;
}
