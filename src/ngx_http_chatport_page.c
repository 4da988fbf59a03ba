
/*
 * ChatPort: the page the visitor is on.
 *
 * Once a visitor's conversation exists, the widget reports each page it
 * is loaded on: POST P page {"url", "title"}. The conversation keeps it
 * as its current page and in a bounded history, and the operators' inbox
 * gets {"type": "page"}. Before the visitor has written there is no
 * conversation, and the report is refused. The operators read the
 * history with GET A conversations/CID/pages.
 *
 *   chatport:{site}:conv:CID:pages  list: JSON entries {url, title, ts},
 *                                   oldest first; expires with the
 *                                   conversation
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_chatport.h"
#include "ngx_http_chatport_call.h"
#include "ngx_http_chatport_http.h"
#include "ngx_http_chatport_identity.h"
#include "ngx_http_chatport_json.h"
#include "ngx_http_chatport_lua.h"
#include "ngx_http_chatport_page.h"
#include "ngx_http_chatport_sites.h"
#include "ngx_http_chatport_store.h"


/* a URL and a title, escaped, and a key, with room to spare */
#define NGX_HTTP_CHATPORT_PAGE_BODY_MAX   8192

#define NGX_HTTP_CHATPORT_PAGE_TITLE_MAX  300     /* characters */
#define NGX_HTTP_CHATPORT_PAGES_KEPT      50      /* history entries */


typedef struct {
    ngx_http_chatport_call_t        call;
} ngx_http_chatport_page_ctx_t;


static void ngx_http_chatport_page_body(ngx_http_request_t *r);
static char *ngx_http_chatport_page_check(ngx_http_request_t *r,
    json_t *root, ngx_str_t *url, ngx_str_t *title);
static ngx_uint_t ngx_http_chatport_page_here(ngx_http_request_t *r,
    ngx_str_t *url);
static ngx_int_t ngx_http_chatport_page_store(ngx_http_request_t *r,
    ngx_http_chatport_page_ctx_t *ctx, ngx_str_t *cid, ngx_str_t *url,
    ngx_str_t *title, ngx_str_t *key);
static ngx_int_t ngx_http_chatport_page_keys(ngx_pool_t *pool,
    ngx_str_t *site, ngx_str_t *cid, ngx_str_t *keys);


static ngx_http_chatport_redis_script_t  ngx_http_chatport_page_script =
    { ngx_string(NGX_HTTP_CHATPORT_LUA_EVENT
                 NGX_HTTP_CHATPORT_LUA_POST_KEY
                 NGX_HTTP_CHATPORT_LUA_NOW_MS
                 NGX_HTTP_CHATPORT_LUA_PAGE_OPENED
                 NGX_HTTP_CHATPORT_LUA_INDEX
                 NGX_HTTP_CHATPORT_LUA_PAGE), { 0 }, 0 };

static ngx_http_chatport_redis_script_t  ngx_http_chatport_pages_script =
    { ngx_string(NGX_HTTP_CHATPORT_LUA_PAGE_OPENED
                 NGX_HTTP_CHATPORT_LUA_PAGES), { 0 }, 0 };


void
ngx_http_chatport_page_init(void)
{
    ngx_http_chatport_redis_script_init(&ngx_http_chatport_page_script);
    ngx_http_chatport_redis_script_init(&ngx_http_chatport_pages_script);
}


ngx_int_t
ngx_http_chatport_page(ngx_http_request_t *r, ngx_str_t *arg)
{
    return ngx_http_chatport_read_json(r, NGX_HTTP_CHATPORT_PAGE_BODY_MAX,
                                       ngx_http_chatport_page_body);
}


static void
ngx_http_chatport_page_body(ngx_http_request_t *r)
{
    char                          *err;
    json_t                        *root;
    ngx_int_t                      rc;
    ngx_str_t                      url, title, key, cid;
    ngx_http_chatport_page_ctx_t  *ctx;

    root = ngx_http_chatport_body_json(r, NGX_HTTP_CHATPORT_PAGE_BODY_MAX);
    if (root == NULL) {
        return;
    }

    rc = ngx_http_chatport_json_key(r, root, &key);

    if (rc != NGX_OK) {
        json_decref(root);
        return;
    }

    err = ngx_http_chatport_page_check(r, root, &url, &title);
    json_decref(root);

    if (err) {
        ngx_http_finalize_request(r,
            ngx_http_chatport_send_error(r, NGX_HTTP_BAD_REQUEST, err,
                                         "\"url\" must be an http(s) URL "
                                         "of this site of at most 2048 "
                                         "bytes, \"title\" text of at most "
                                         "300 characters"));
        return;
    }

    /* 403 without the cookie of a conversation: nothing before it */
    ctx = ngx_http_chatport_visitor_call(r,
                                         sizeof(ngx_http_chatport_page_ctx_t),
                                         &cid);
    if (ctx == NULL) {
        return;
    }

    ngx_http_chatport_call_posted(&ctx->call,
                                  ngx_http_chatport_page_store(r, ctx, &cid,
                                                               &url, &title,
                                                               &key));
}


/*
 * NULL when "url" and "title" are fine (copied into the pool; a missing
 * title is empty), or the error code.
 */

static char *
ngx_http_chatport_page_check(ngx_http_request_t *r, json_t *root,
    ngx_str_t *url, ngx_str_t *title)
{
    u_char      *p, *last;
    ngx_int_t    rc;
    ngx_uint_t   n, blank;

    if (ngx_http_chatport_json_get_string(r->pool, root, "url", url)
        != NGX_OK
        || !ngx_http_chatport_page_here(r, url))
    {
        return "invalid_url";
    }

    rc = ngx_http_chatport_json_get_string(r->pool, root, "title", title);

    if (rc == NGX_DECLINED) {
        ngx_str_null(title);
        return NULL;
    }

    if (rc != NGX_OK || ngx_http_chatport_utf8_text(title, 0, &blank)
                        != NGX_OK)
    {
        return "invalid_title";
    }

    /* valid UTF-8 by now: a character is a byte that continues none */

    n = 0;
    last = title->data + title->len;

    for (p = title->data; p < last; p++) {
        n += ((*p & 0xc0) != 0x80);
    }

    return (n > NGX_HTTP_CHATPORT_PAGE_TITLE_MAX) ? "invalid_title" : NULL;
}


/*
 * A page of this site: an http(s) URL whose host, and port, is the Host
 * the report was sent to, as the same-site check holds the page's Origin
 * to it. Another site's address never shows as where the visitor is.
 */

static ngx_uint_t
ngx_http_chatport_page_here(ngx_http_request_t *r, ngx_str_t *url)
{
    u_char     *p, *last;
    ngx_str_t  *host;

    if (!ngx_http_chatport_url(url) || r->headers_in.host == NULL) {
        return 0;
    }

    host = &r->headers_in.host->value;

    /* after "http://" or "https://" */
    p = url->data + (url->data[4] == 's' ? 8 : 7);
    last = url->data + url->len;

    if ((size_t) (last - p) < host->len
        || ngx_strncasecmp(p, host->data, host->len) != 0)
    {
        return 0;
    }

    p += host->len;

    return (p == last || *p == '/' || *p == '?' || *p == '#');
}


static ngx_int_t
ngx_http_chatport_page_store(ngx_http_request_t *r,
    ngx_http_chatport_page_ctx_t *ctx, ngx_str_t *cid, ngx_str_t *url,
    ngx_str_t *title, ngx_str_t *key)
{
    ngx_str_t                      a[11], *argv;
    ngx_uint_t                     nkeys;
    ngx_http_chatport_srv_conf_t  *cscf;
    ngx_http_chatport_loc_conf_t  *clcf;

    cscf = ngx_http_get_module_srv_conf(r, ngx_http_chatport_module);
    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);

    /*
     * the post's key and the conversation's set of keys are the last of
     * KEYS, and only there with a key
     */
    nkeys = key->len ? 5 : 3;
    argv = &a[nkeys];

    if (ngx_http_chatport_page_keys(r->pool, &cscf->site, cid, a) != NGX_OK
        || ngx_http_chatport_store_inbox_channel(r->pool, &cscf->site, &a[2])
           != NGX_OK
        || (key->len
            && (ngx_http_chatport_store_key(r->pool, &a[3], "%V:key:%V",
                                            &a[0], key)
                != NGX_OK
                || ngx_http_chatport_store_key(r->pool, &a[4], "%V:keys",
                                               &a[0])
                   != NGX_OK))
        || ngx_http_chatport_store_number(r->pool, &argv[3],
                                          NGX_HTTP_CHATPORT_PAGES_KEPT)
           != NGX_OK
        || ngx_http_chatport_store_number(r->pool, &argv[4],
                                          (int64_t) clcf->retention * 1000)
           != NGX_OK
        || ngx_http_chatport_store_number(r->pool, &argv[5],
                                          ngx_min((int64_t) clcf->retention
                                                  * 1000,
                                                  NGX_HTTP_CHATPORT_KEY_WINDOW))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    argv[0] = *cid;
    argv[1] = *url;
    argv[2] = *title;

    return ngx_http_chatport_store_call(r->pool,
                                        &ngx_http_chatport_page_script,
                                        a, nkeys, nkeys + 6,
                                        ngx_http_chatport_call_empty, ctx,
                                        &ctx->call.cmd);
}


/* GET A conversations/CID/pages: {"pages": [{url, title, ts}, ...]} */

ngx_int_t
ngx_http_chatport_pages(ngx_http_request_t *r, ngx_str_t *arg)
{
    ngx_int_t                      rc;
    ngx_str_t                      a[2];
    ngx_http_chatport_page_ctx_t  *ctx;

    if (ngx_http_chatport_cid(r, arg) != NGX_OK) {
        return ngx_http_chatport_send_error(r, NGX_HTTP_FORBIDDEN,
                                            "unknown_conversation",
                                            "no such conversation here");
    }

    ctx = ngx_http_chatport_call_create(r,
                                        sizeof(ngx_http_chatport_page_ctx_t),
                                        "unknown_conversation");
    if (ctx == NULL
        || ngx_http_chatport_page_keys(r->pool,
                                       ngx_http_chatport_request_site(r),
                                       arg, a)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_chatport_store_call(r->pool,
                                      &ngx_http_chatport_pages_script,
                                      a, 2, 2, ngx_http_chatport_call_json,
                                      ctx, &ctx->call.cmd);

    return ngx_http_chatport_call_started(&ctx->call, rc);
}


/* keys[0]: the conversation's meta, keys[1]: its page history */

static ngx_int_t
ngx_http_chatport_page_keys(ngx_pool_t *pool, ngx_str_t *site,
    ngx_str_t *cid, ngx_str_t *keys)
{
    if (ngx_http_chatport_store_channel(pool, site, cid, &keys[0]) != NGX_OK
        || ngx_http_chatport_store_key(pool, &keys[1], "%V:pages", &keys[0])
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}
