
/*
 * ChatPort fuzzing: a fake pool, log and request for the targets.
 */


#include "fuzz_common.h"
#include "ngx_http_chatport_form.h"


ngx_int_t __wrap_ngx_http_send_header(ngx_http_request_t *r);
ngx_int_t __wrap_ngx_http_output_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
void __wrap_ngx_http_finalize_request(ngx_http_request_t *r, ngx_int_t rc);
int __real_open64(const char *path, int flags, ...);
int __wrap_open64(const char *path, int flags, ...);


ngx_fd_t  fuzz_file = -1;


static ngx_log_t        fuzz_log;
static ngx_open_file_t  fuzz_log_file;


ngx_int_t
__wrap_ngx_http_send_header(ngx_http_request_t *r)
{
    return NGX_OK;
}


ngx_int_t
__wrap_ngx_http_output_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    return NGX_OK;
}


void
__wrap_ngx_http_finalize_request(ngx_http_request_t *r, ngx_int_t rc)
{
}


/* a target's input as the file of any path: see fuzz_common.h */

int
__wrap_open64(const char *path, int flags, ...)
{
    mode_t   mode;
    va_list  args;

    if (fuzz_file != -1) {
        return dup(fuzz_file);
    }

    va_start(args, flags);
    mode = va_arg(args, mode_t);
    va_end(args);

    return __real_open64(path, flags, mode);
}


ngx_pool_t *
fuzz_pool(void)
{
    static ngx_uint_t  ready;

    if (!ready) {
        ngx_pagesize = getpagesize();
        ngx_cacheline_size = NGX_CPU_CACHE_LINE;
        ngx_time_init();

        /* errors are logged as in nginx, to /dev/null */
        fuzz_log_file.fd = open("/dev/null", O_WRONLY);
        fuzz_log.file = &fuzz_log_file;
        fuzz_log.log_level = NGX_LOG_DEBUG_ALL;

        /* nginx gives each HTTP module its index when it loads them */
        ngx_http_core_module.ctx_index = 0;
        ngx_http_chatport_module.ctx_index = 1;

        ready = 1;
    }

    return ngx_create_pool(NGX_DEFAULT_POOL_SIZE, &fuzz_log);
}


ngx_http_request_t *
fuzz_request(ngx_pool_t *pool)
{
    ngx_http_request_t              *r;
    ngx_http_chatport_srv_conf_t    *cscf;
    ngx_http_chatport_loc_conf_t    *clcf;
    ngx_http_chatport_form_field_t  *f;

    r = ngx_pcalloc(pool, sizeof(ngx_http_request_t));
    r->connection = ngx_pcalloc(pool, sizeof(ngx_connection_t));
    r->ctx = ngx_pcalloc(pool, 2 * sizeof(void *));
    r->main_conf = ngx_pcalloc(pool, 2 * sizeof(void *));
    r->srv_conf = ngx_pcalloc(pool, 2 * sizeof(void *));
    r->loc_conf = ngx_pcalloc(pool, 2 * sizeof(void *));

    r->main_conf[0] = ngx_pcalloc(pool, sizeof(ngx_http_core_main_conf_t));
    r->srv_conf[0] = ngx_pcalloc(pool, sizeof(ngx_http_core_srv_conf_t));
    r->loc_conf[0] = ngx_pcalloc(pool, sizeof(ngx_http_core_loc_conf_t));
    r->main_conf[1] = ngx_pcalloc(pool,
                                  sizeof(ngx_http_chatport_main_conf_t));
    cscf = ngx_pcalloc(pool, sizeof(ngx_http_chatport_srv_conf_t));
    clcf = ngx_pcalloc(pool, sizeof(ngx_http_chatport_loc_conf_t));
    r->srv_conf[1] = cscf;
    r->loc_conf[1] = clcf;

    r->pool = pool;
    r->main = r;
    r->count = 1;
    r->method = NGX_HTTP_GET;
    r->http_version = NGX_HTTP_VERSION_11;
    r->connection->log = &fuzz_log;
    r->connection->pool = pool;
    ngx_str_set(&r->connection->addr_text, "127.0.0.1");

    if (ngx_list_init(&r->headers_in.headers, pool, 4,
                      sizeof(ngx_table_elt_t))
        != NGX_OK
        || ngx_list_init(&r->headers_out.headers, pool, 4,
                         sizeof(ngx_table_elt_t))
           != NGX_OK
        || ngx_array_init(&r->headers_in.cookies, pool, 2,
                          sizeof(ngx_table_elt_t *))
           != NGX_OK)
    {
        return NULL;
    }

    r->headers_in.content_length_n = -1;
    r->headers_out.content_length_n = -1;
    r->headers_out.last_modified_time = -1;

    /* the defaults of the module's merge_loc_conf */

    ngx_str_set(&cscf->site, "fuzz");
    ngx_str_set(&clcf->prefix, "/chat/");
    clcf->max_message = 4000;
    clcf->history = 50;
    clcf->retention = 30 * 86400;

    clcf->form_fields = ngx_array_create(pool, 4,
                                        sizeof(ngx_http_chatport_form_field_t));
    if (clcf->form_fields == NULL) {
        return NULL;
    }

    f = ngx_array_push_n(clcf->form_fields, 4);

    ngx_str_set(&f[0].name, "name");
    f[0].type = NGX_HTTP_CHATPORT_FIELD_TEXT;
    f[0].max = 100;
    f[0].required = 1;

    ngx_str_set(&f[1].name, "email");
    f[1].type = NGX_HTTP_CHATPORT_FIELD_EMAIL;
    f[1].max = 254;
    f[1].required = 1;

    ngx_str_set(&f[2].name, "tel");
    f[2].type = NGX_HTTP_CHATPORT_FIELD_TEL;
    f[2].max = 40;

    ngx_str_set(&f[3].name, "message");
    f[3].type = NGX_HTTP_CHATPORT_FIELD_TEXTAREA;
    f[3].max = 4000;
    f[3].required = 1;

    return r;
}


ngx_table_elt_t *
fuzz_header(ngx_http_request_t *r, char *name, u_char *value, size_t len)
{
    ngx_table_elt_t        *h, **cookie;
    ngx_http_headers_in_t  *in;

    h = ngx_list_push(&r->headers_in.headers);
    if (h == NULL) {
        return NULL;
    }

    /* nginx's header values are null-terminated, and its parsers rely on it */

    h->value.data = ngx_pnalloc(r->pool, len + 1);
    if (h->value.data == NULL) {
        return NULL;
    }

    ngx_memcpy(h->value.data, value, len);
    h->value.data[len] = '\0';
    h->value.len = len;

    h->hash = 1;
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->lowcase_key = h->key.data;

    in = &r->headers_in;

    if (ngx_strcasecmp((u_char *) name, (u_char *) "Cookie") == 0) {
        cookie = ngx_array_push(&in->cookies);
        if (cookie == NULL) {
            return NULL;
        }

        *cookie = h;

    } else if (ngx_strcasecmp((u_char *) name, (u_char *) "Host") == 0) {
        in->host = h;

    } else if (ngx_strcasecmp((u_char *) name, (u_char *) "Referer") == 0) {
        in->referer = h;

    } else if (ngx_strcasecmp((u_char *) name, (u_char *) "User-Agent")
               == 0)
    {
        in->user_agent = h;

    } else if (ngx_strcasecmp((u_char *) name, (u_char *) "Accept") == 0) {
        in->accept = h;

    } else if (ngx_strcasecmp((u_char *) name, (u_char *) "Content-Type")
               == 0)
    {
        in->content_type = h;
    }

    return h;
}


ngx_int_t
fuzz_body(ngx_http_request_t *r, u_char *data, size_t len, size_t split)
{
    ngx_buf_t    *b;
    ngx_uint_t    i;
    ngx_chain_t  *cl, **ll;

    split = ngx_min(split, len);

    r->request_body = ngx_pcalloc(r->pool, sizeof(ngx_http_request_body_t));
    if (r->request_body == NULL) {
        return NGX_ERROR;
    }

    r->headers_in.content_length_n = len;

    /* no body: no buffers */

    if (len == 0) {
        return NGX_OK;
    }

    ll = &r->request_body->bufs;

    /* two parts and the empty last_buf that nginx's body filter adds */

    for (i = 0; i < 3; i++) {
        if (i == 1 && split == len) {
            /* or the whole body in one buffer, as request_body_in_single_buf */
            break;
        }

        b = ngx_calloc_buf(r->pool);
        cl = ngx_alloc_chain_link(r->pool);
        if (b == NULL || cl == NULL) {
            return NGX_ERROR;
        }

        if (i < 2) {
            b->pos = (i == 0) ? data : data + split;
            b->last = (i == 0) ? data + split : data + len;
            b->start = b->pos;
            b->end = b->last;
            b->temporary = 1;

        } else {
            b->last_buf = 1;
        }

        cl->buf = b;
        *ll = cl;
        ll = &cl->next;
    }

    *ll = NULL;

    return NGX_OK;
}


u_char *
fuzz_copy(ngx_pool_t *pool, const uint8_t *data, size_t len)
{
    u_char  *p;

    /* one byte at least: ngx_pnalloc(pool, 0) is not a new block */
    p = ngx_pnalloc(pool, len ? len : 1);
    if (p != NULL) {
        ngx_memcpy(p, data, len);
    }

    return p;
}
