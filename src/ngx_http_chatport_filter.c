
/*
 * ChatPort: the widget injection filter.
 *
 * Adds "<script src=... defer data-chatport></script>" before the first
 * "</body>" of a 200 text/html response, in any letter case, or at the end
 * when there is none. It streams: the response is never buffered whole,
 * and untouched spans are passed on as buffers that point into the input
 * (the technique of nginx's sub_filter). A "</bo" at the end of a buffer
 * is held back, copied, until the next buffer tells whether "dy>" follows.
 *
 * The tag goes in exactly once, so a Content-Length grows by the tag's
 * length and stays exact (sub_filter has to drop it).
 *
 * The filter sits before sub_filter, gunzip and gzip in the chain: it sees
 * the body uncompressed unless it came compressed from elsewhere, and such
 * a body (Content-Encoding set) is left alone. So that upstreams do not
 * compress what could be injected, an injecting location's requests go to
 * them without Accept-Encoding (a precontent phase handler).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_chatport.h"
#include "ngx_http_chatport_filter.h"

#if (defined __SSE2__ && defined __GNUC__)
#include <emmintrin.h>
#define NGX_HTTP_CHATPORT_SSE2  1
#endif


#define NGX_HTTP_CHATPORT_END_BODY      "</body>"
#define NGX_HTTP_CHATPORT_END_BODY_LEN  (sizeof(NGX_HTTP_CHATPORT_END_BODY) - 1)


typedef struct {
    ngx_str_t            tag;
    ngx_uint_t           state;       /* bytes of "</body>" matched */
    u_char               looked[NGX_HTTP_CHATPORT_END_BODY_LEN];
    ngx_uint_t           injected;    /* unsigned:1 */
    ngx_uint_t           seen;        /* unsigned:1: a byte of body */
    off_t                length;      /* Content-Length announced, or -1 */
    off_t                received;    /* body bytes so far */

    ngx_chain_t         *in;
    ngx_chain_t         *out;
    ngx_chain_t        **last_out;
    ngx_chain_t         *busy;
    ngx_chain_t         *free;
} ngx_http_chatport_filter_ctx_t;


static ngx_int_t ngx_http_chatport_filter_buf(ngx_http_request_t *r,
    ngx_http_chatport_filter_ctx_t *ctx, ngx_buf_t *in);
static u_char *ngx_http_chatport_filter_find(u_char *p, u_char *last);
static ngx_buf_t *ngx_http_chatport_filter_emit(ngx_http_request_t *r,
    ngx_http_chatport_filter_ctx_t *ctx, u_char *pos, u_char *last);
static ngx_int_t ngx_http_chatport_filter_output(ngx_http_request_t *r,
    ngx_http_chatport_filter_ctx_t *ctx);
static ngx_uint_t ngx_http_chatport_filter_is_html(ngx_http_request_t *r);
static ngx_int_t ngx_http_chatport_filter_identity(ngx_http_request_t *r);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


static ngx_int_t
ngx_http_chatport_header_filter(ngx_http_request_t *r)
{
    off_t                            length;
    ngx_http_chatport_loc_conf_t    *clcf;
    ngx_http_chatport_filter_ctx_t  *ctx;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);

    /* the skip list of gzip and addition, adapted */

    /* ChatPort's own pages (the operator console) are not the site's */

    if (!clcf->inject
        || clcf->prefix.len
        || clcf->agent_prefix.len
        || r != r->main
        || r->headers_out.status != NGX_HTTP_OK
        || r->headers_out.content_length_n == 0
        || (r->headers_out.content_encoding
            && r->headers_out.content_encoding->value.len)
        || !ngx_http_chatport_filter_is_html(r))
    {
        /* a handler's ctx (a waiter, a call) must not pass for ours */
        ngx_http_set_ctx(r, NULL, ngx_http_chatport_module);

        return ngx_http_next_header_filter(r);
    }

    /*
     * The tag goes in exactly once, so a known length stays exact: the
     * old one plus the tag's. Ranges are off (the range header filter
     * comes after this one and so sends the whole page), and the ETag is
     * weak: the bytes differ from the file's.
     */

    length = r->headers_out.content_length_n;

    ngx_http_clear_content_length(r);

    if (length > 0) {
        r->headers_out.content_length_n = length + clcf->inject_tag.len;
    }

    ngx_http_clear_accept_ranges(r);
    ngx_http_weak_etag(r);

    /* a HEAD gets the headers a GET would get, and no body to change */

    if (r->header_only || r->method == NGX_HTTP_HEAD) {
        ngx_http_set_ctx(r, NULL, ngx_http_chatport_module);
        return ngx_http_next_header_filter(r);
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_chatport_filter_ctx_t));
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    ctx->tag = clcf->inject_tag;
    ctx->length = (length > 0) ? length : -1;
    ctx->last_out = &ctx->out;

    ngx_http_set_ctx(r, ctx, ngx_http_chatport_module);

    r->filter_need_in_memory = 1;

    return ngx_http_next_header_filter(r);
}


static ngx_uint_t
ngx_http_chatport_filter_is_html(ngx_http_request_t *r)
{
    ngx_str_t  *type;

    type = &r->headers_out.content_type;

    return type->len >= 9
           && ngx_strncasecmp(type->data, (u_char *) "text/html", 9) == 0
           && (type->len == 9 || type->data[9] == ';' || type->data[9] == ' ');
}


static ngx_int_t
ngx_http_chatport_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_buf_t                       *b;
    ngx_http_chatport_filter_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_chatport_module);

    if (ctx == NULL) {
        return ngx_http_next_body_filter(r, in);
    }

    if (in == NULL && ctx->in == NULL && ctx->busy == NULL) {
        return ngx_http_next_body_filter(r, in);
    }

    if (ngx_chain_add_copy(r->pool, &ctx->in, in) != NGX_OK) {
        return NGX_ERROR;
    }

    while (ctx->in) {
        b = ctx->in->buf;
        ctx->in = ctx->in->next;

        if (ngx_http_chatport_filter_buf(r, ctx, b) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return ngx_http_chatport_filter_output(r, ctx);
}


/*
 * Scans one input buffer. The held-back bytes, when there are any, come
 * before it and are the first ctx->state bytes of "</body>".
 */

static ngx_int_t
ngx_http_chatport_filter_buf(ngx_http_request_t *r,
    ngx_http_chatport_filter_ctx_t *ctx, ngx_buf_t *in)
{
    u_char      *p, *last, *mstart;
    ngx_buf_t   *b;
    ngx_uint_t   held, held_plain, found;

    /*
     * A length was announced for the body plus one tag: a body of another
     * size (a broken handler or upstream) would make it a lie, so the
     * connection is closed instead, as nginx does with a short upstream.
     */

    ctx->received += ngx_buf_size(in);

    if (ctx->length != -1
        && (ctx->received > ctx->length
            || (in->last_buf && ctx->received != ctx->length)))
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "chatport: a page body of %O%s bytes, "
                      "its Content-Length was %O", ctx->received,
                      in->last_buf ? "" : " or more", ctx->length);
        return NGX_ERROR;
    }

    held = ctx->state;
    held_plain = 0;
    found = 0;
    mstart = NULL;           /* NULL: the match began in the held bytes */

    p = in->pos;
    last = in->last;

    if (!ctx->injected && ngx_buf_in_memory(in)) {

        while (p < last) {

            if (ctx->state == 0) {
                /*
                 * The fast path, where HTML spends its bytes: on to the
                 * next "</b", and on at once unless a '/' follows a '<'.
                 */
                p = ngx_http_chatport_filter_find(p, last);
                if (p == last) {
                    break;
                }

                if (p + 1 < last && p[1] != '/') {
                    p++;
                    continue;
                }

                ctx->state = 1;
                mstart = p++;
                continue;
            }

            if (ngx_tolower(*p) == NGX_HTTP_CHATPORT_END_BODY[ctx->state]) {
                p++;

                if (++ctx->state == NGX_HTTP_CHATPORT_END_BODY_LEN) {
                    found = 1;
                    break;
                }

                continue;
            }

            /* not "</body>": only a '<' can start one again */

            if (mstart == NULL) {
                held_plain = 1;
            }

            ctx->state = 0;
        }
    }

    b = NULL;

    if (held
        && (held_plain || (!found && (ctx->state == 0 || in->last_buf))))
    {
        /* the held bytes turned out to be text */
        b = ngx_http_chatport_filter_emit(r, ctx, ctx->looked,
                                          ctx->looked + held);
        if (b == NULL) {
            return NGX_ERROR;
        }

        b->temporary = 1;
        held = 0;
    }

    if (found) {
        ctx->state = 0;
        ctx->injected = 1;

        if (mstart && mstart > in->pos) {
            b = ngx_http_chatport_filter_emit(r, ctx, in->pos, mstart);
            if (b == NULL) {
                return NGX_ERROR;
            }
        }

        b = ngx_http_chatport_filter_emit(r, ctx, ctx->tag.data,
                                          ctx->tag.data + ctx->tag.len);
        if (b == NULL) {
            return NGX_ERROR;
        }

        if (held) {
            b = ngx_http_chatport_filter_emit(r, ctx, ctx->looked,
                                              ctx->looked + held);
            if (b == NULL) {
                return NGX_ERROR;
            }

            b->temporary = 1;
        }

        p = mstart ? mstart : in->pos;

        if (p < in->last) {
            b = ngx_http_chatport_filter_emit(r, ctx, p, in->last);
            if (b == NULL) {
                return NGX_ERROR;
            }
        }

    } else if (ctx->state && !in->last_buf) {
        /* a possible "</body>" runs past this buffer: hold it back */

        p = mstart ? mstart : in->pos;

        if (mstart && mstart > in->pos) {
            b = ngx_http_chatport_filter_emit(r, ctx, in->pos, mstart);
            if (b == NULL) {
                return NGX_ERROR;
            }
        }

        ngx_memcpy(ctx->looked + held, p, in->last - p);

    } else {
        ctx->state = 0;

        if (in->pos < in->last) {
            b = ngx_http_chatport_filter_emit(r, ctx, in->pos, in->last);
            if (b == NULL) {
                return NGX_ERROR;
            }
        }
    }

    if (in->pos < in->last) {
        ctx->seen = 1;
    }

    /* an empty body stays empty */
    if (in->last_buf && !ctx->injected && ctx->seen) {
        /* no "</body>": the tag goes at the end */
        ctx->injected = 1;

        b = ngx_http_chatport_filter_emit(r, ctx, ctx->tag.data,
                                          ctx->tag.data + ctx->tag.len);
        if (b == NULL) {
            return NGX_ERROR;
        }
    }

    /* the last buffer made from this one frees it once it has gone out */

    if (b == NULL) {
        b = ngx_http_chatport_filter_emit(r, ctx, NULL, NULL);
        if (b == NULL) {
            return NGX_ERROR;
        }

        b->sync = 1;
    }

    b->last_buf = in->last_buf;
    b->last_in_chain = in->last_in_chain;
    b->flush = in->flush;
    b->sync |= in->sync;
    b->shadow = in;
    b->recycled = in->recycled;

    return NGX_OK;
}


#if (NGX_HTTP_CHATPORT_SSE2)

/* bit i set: "</b" or "</B" starts at p + i; reads p[0] to p[17] */

static ngx_inline unsigned int
ngx_http_chatport_filter_mask16(u_char *p)
{
    __m128i  v0, v1, v2;

    v0 = _mm_loadu_si128((__m128i *) p);
    v1 = _mm_loadu_si128((__m128i *) (p + 1));
    v2 = _mm_loadu_si128((__m128i *) (p + 2));

    /* 'B' | 0x20 is 'b', and only 'B' and 'b' give 'b' */

    return _mm_movemask_epi8(
               _mm_and_si128(
                   _mm_and_si128(_mm_cmpeq_epi8(v0, _mm_set1_epi8('<')),
                                 _mm_cmpeq_epi8(v1, _mm_set1_epi8('/'))),
                   _mm_cmpeq_epi8(_mm_or_si128(v2, _mm_set1_epi8(0x20)),
                                  _mm_set1_epi8('b'))));
}

#endif


/*
 * The next "</b" in any case from p on, or a '<' among the last 17 bytes
 * (where a "</b" may go on in the next buffer); last when there is none.
 * A page has a '<' every 30 bytes or so but few "</b": with SSE2 (every
 * x86-64) 16 positions are tested at once, which costs a fraction of a
 * memchr() call per '<'. Without SSE2 it returns every '<': the caller
 * checks what follows either way.
 */

static u_char *
ngx_http_chatport_filter_find(u_char *p, u_char *last)
{
#if (NGX_HTTP_CHATPORT_SSE2)
    unsigned int  mask;

    /* 32 positions a round, and 16 where only those are left */

    while (last - p >= 34) {
        mask = ngx_http_chatport_filter_mask16(p)
               | ngx_http_chatport_filter_mask16(p + 16) << 16;

        if (mask) {
            return p + __builtin_ctz(mask);
        }

        p += 32;
    }

    if (last - p >= 18) {
        mask = ngx_http_chatport_filter_mask16(p);

        if (mask) {
            return p + __builtin_ctz(mask);
        }

        p += 16;
    }
#endif

    p = memchr(p, '<', last - p);

    return p ? p : last;
}


static ngx_buf_t *
ngx_http_chatport_filter_emit(ngx_http_request_t *r,
    ngx_http_chatport_filter_ctx_t *ctx, u_char *pos, u_char *last)
{
    u_char       *copy;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    cl = ngx_chain_get_free_buf(r->pool, &ctx->free);
    if (cl == NULL) {
        return NULL;
    }

    b = cl->buf;
    ngx_memzero(b, sizeof(ngx_buf_t));

    b->tag = (ngx_buf_tag_t) &ngx_http_chatport_module;

    if (pos == NULL) {
        /* flags only */

    } else if (pos == ctx->looked) {
        /* held bytes are copied: ctx->looked is reused */
        copy = ngx_pnalloc(r->pool, last - pos);
        if (copy == NULL) {
            return NULL;
        }

        ngx_memcpy(copy, pos, last - pos);
        b->start = copy;
        b->pos = copy;
        b->last = copy + (last - pos);
        b->end = b->last;

    } else {
        b->pos = pos;
        b->last = last;
        b->memory = 1;
    }

    *ctx->last_out = cl;
    ctx->last_out = &cl->next;

    return b;
}


static ngx_int_t
ngx_http_chatport_filter_output(ngx_http_request_t *r,
    ngx_http_chatport_filter_ctx_t *ctx)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t  *cl, *out;

    /*
     * The chain is moved aside first: a filter after this one (addition)
     * may send the end of the response through the whole chain again,
     * from inside the call below.
     */

    out = ctx->out;
    ctx->out = NULL;
    ctx->last_out = &ctx->out;

    if (ctx->busy == NULL) {
        ctx->busy = out;

    } else {
        for (cl = ctx->busy; cl->next; cl = cl->next) { /* void */ }
        cl->next = out;
    }

    rc = ngx_http_next_body_filter(r, out);

    /* sent buffers release the input buffers they shadow */

    while (ctx->busy) {
        cl = ctx->busy;
        b = cl->buf;

        if (ngx_buf_size(b) != 0) {
            break;
        }

        if (b->shadow) {
            b->shadow->pos = b->shadow->last;
        }

        ctx->busy = cl->next;
        cl->next = ctx->free;
        ctx->free = cl;
    }

    return rc;
}


/*
 * A page that an upstream compresses cannot get the tag, so a request
 * that may be answered with one goes upstream (proxy, FastCGI, ...)
 * without Accept-Encoding; nginx's gzip still compresses for the client.
 * The header list is rebuilt without it rather than changed in place:
 * headers_in keeps pointers to the old entries, which stay valid, among
 * them r->headers_in.accept_encoding, the one gzip reads.
 */

static ngx_int_t
ngx_http_chatport_filter_identity(ngx_http_request_t *r)
{
    ngx_uint_t                     i, found;
    ngx_list_t                     old;
    ngx_list_part_t               *part;
    ngx_table_elt_t               *header, *h;
    ngx_http_chatport_loc_conf_t  *clcf;

    if (r != r->main || r->headers_in.accept_encoding == NULL) {
        return NGX_DECLINED;
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);

    if (!clcf->inject || clcf->prefix.len || clcf->agent_prefix.len) {
        return NGX_DECLINED;
    }

    found = 0;
    old = r->headers_in.headers;

    for (part = &old.part; part && !found; part = part->next) {
        header = part->elts;

        for (i = 0; i < part->nelts; i++) {
            if (header[i].key.len == sizeof("accept-encoding") - 1
                && ngx_strncmp(header[i].lowcase_key, "accept-encoding",
                               sizeof("accept-encoding") - 1) == 0)
            {
                found = 1;
                break;
            }
        }
    }

    /* not there, or gone already (an internal redirect runs this again) */

    if (!found) {
        return NGX_DECLINED;
    }

    if (ngx_list_init(&r->headers_in.headers, r->pool, 20,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (part = &old.part; part; part = part->next) {
        header = part->elts;

        for (i = 0; i < part->nelts; i++) {
            if (header[i].key.len == sizeof("accept-encoding") - 1
                && ngx_strncmp(header[i].lowcase_key, "accept-encoding",
                               sizeof("accept-encoding") - 1) == 0)
            {
                continue;
            }

            h = ngx_list_push(&r->headers_in.headers);
            if (h == NULL) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            *h = header[i];
        }
    }

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "chatport: Accept-Encoding not passed on");

    return NGX_DECLINED;
}


ngx_int_t
ngx_http_chatport_filter_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    /* before the content handlers (proxy_pass) build their requests */

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PRECONTENT_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_chatport_filter_identity;

    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_chatport_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_chatport_body_filter;

    return NGX_OK;
}
