
/*
 * ChatPort: the operators' list of conversations.
 *
 * GET A conversations?limit=N&before=CURSOR&filter=F&q=TEXT answers
 * {"conversations": [...], "cursor"}: the newest activity first, in a
 * strict order (last activity, then CID) that the opaque cursor marks a
 * place in; "cursor" null once nothing is left. One script reads a page
 * of one site (src/lua/list.lua); the search index it reads is written
 * by the scripts that store what is searched (src/lua/index.lua):
 *
 *   chatport:{site}:idx:TERM        sorted set: the CIDs of the
 *                                   conversations holding TERM, by when
 *                                   they expire
 *   chatport:{site}:conv:CID:terms  set: the TERMs whose idx key holds
 *                                   CID; expires with the conversation
 *
 * A page of several sites is the pages of each read with the same
 * arguments, merged in the same order: every conversation after a site's
 * cursor has been examined, so a merged page stops at the newest of the
 * cursors.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_chatport.h"
#include "ngx_http_chatport_http.h"
#include "ngx_http_chatport_list.h"
#include "ngx_http_chatport_sites.h"
#include "ngx_http_chatport_lua.h"
#include "ngx_http_chatport_upload.h"


#define NGX_HTTP_CHATPORT_LIST_DEFAULT  50
#define NGX_HTTP_CHATPORT_LIST_MAX      100

/*
 * The conversations one request examines at most: a filter or a query
 * few match answers a short page with a cursor rather than hold Redis
 * while it reads all of them.
 */
#define NGX_HTTP_CHATPORT_LIST_SCAN     2000

#define NGX_HTTP_CHATPORT_QUERY_MAX     200       /* bytes, unescaped */
#define NGX_HTTP_CHATPORT_QUERY_TERMS   16

/* "MS-CID": the milliseconds, up to 15 digits, and a CID */
#define NGX_HTTP_CHATPORT_CURSOR_MAX    (15 + 1 + NGX_HTTP_CHATPORT_CID_LEN)


typedef struct {
    ngx_http_chatport_call_t        call;
} ngx_http_chatport_list_ctx_t;


static ngx_int_t ngx_http_chatport_list_cursor(ngx_str_t *s);
static ngx_int_t ngx_http_chatport_list_query(ngx_http_request_t *r,
    ngx_str_t *value, ngx_str_t *query);


static ngx_http_chatport_redis_script_t  ngx_http_chatport_list_script =
    { ngx_string(NGX_HTTP_CHATPORT_LUA_MESSAGE
                 NGX_HTTP_CHATPORT_LUA_NOW_MS
                 NGX_HTTP_CHATPORT_LUA_INDEX
                 NGX_HTTP_CHATPORT_LUA_LIST), { 0 }, 0 };


static ngx_str_t  ngx_http_chatport_list_filters[] = {
    ngx_string("open"),
    ngx_string("closed"),
    ngx_string("unanswered"),
    ngx_string("mine"),
    ngx_null_string
};


static ngx_http_chatport_error_t  ngx_http_chatport_list_limit_error =
    { NGX_HTTP_BAD_REQUEST, "invalid_limit", "\"limit\" is 1 to 100" };

static ngx_http_chatport_error_t  ngx_http_chatport_list_cursor_error =
    { NGX_HTTP_BAD_REQUEST, "invalid_cursor",
      "\"before\" is a cursor of an earlier answer" };

static ngx_http_chatport_error_t  ngx_http_chatport_list_filter_error =
    { NGX_HTTP_BAD_REQUEST, "invalid_filter",
      "\"filter\" is open, closed, unanswered or mine" };

static ngx_http_chatport_error_t  ngx_http_chatport_list_query_error =
    { NGX_HTTP_BAD_REQUEST, "invalid_query",
      "\"q\" is UTF-8 text of at most 200 bytes" };


void
ngx_http_chatport_list_init(void)
{
    ngx_http_chatport_redis_script_init(&ngx_http_chatport_list_script);
}


ngx_int_t
ngx_http_chatport_conversations(ngx_http_request_t *r, ngx_str_t *arg)
{
    ngx_int_t                       rc;
    ngx_str_t                       images;
    ngx_http_chatport_list_t        list;
    ngx_http_chatport_error_t      *err;
    ngx_str_t                      *site;
    ngx_http_chatport_loc_conf_t   *clcf;
    ngx_http_chatport_list_ctx_t   *ctx;

    err = ngx_http_chatport_list_args(r, &list);
    if (err) {
        return ngx_http_chatport_send_error(r, err->status, err->code,
                                            err->message);
    }

    site = ngx_http_chatport_request_site(r);
    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);

    if (ngx_http_chatport_upload_url(r->pool, &clcf->agent_prefix,
                                     "conversations/", NULL, &images)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (site == NULL) {
        /* chatport_agent_sites without "site": every listed site's */
        return ngx_http_chatport_sites_conversations(r, &list, &images);
    }

    ctx = ngx_http_chatport_call_create(r,
                                        sizeof(ngx_http_chatport_list_ctx_t),
                                        "unknown_conversation");
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_chatport_list_store(r->pool, site, &list, &images,
                                      ngx_http_chatport_list_done, ctx,
                                      &ctx->call.cmd);

    return ngx_http_chatport_call_started(&ctx->call, rc);
}


/* the request's arguments; NULL when they are good, else the error */

ngx_http_chatport_error_t *
ngx_http_chatport_list_args(ngx_http_request_t *r,
    ngx_http_chatport_list_t *list)
{
    ngx_str_t   value, *f;

    ngx_memzero(list, sizeof(ngx_http_chatport_list_t));

    list->limit = NGX_HTTP_CHATPORT_LIST_DEFAULT;

    if (ngx_http_arg(r, (u_char *) "limit", 5, &value) == NGX_OK) {
        list->limit = ngx_atoi(value.data, value.len);

        if (list->limit < 1 || list->limit > NGX_HTTP_CHATPORT_LIST_MAX) {
            return &ngx_http_chatport_list_limit_error;
        }
    }

    if (ngx_http_arg(r, (u_char *) "before", 6, &list->before) == NGX_OK
        && ngx_http_chatport_list_cursor(&list->before) != NGX_OK)
    {
        return &ngx_http_chatport_list_cursor_error;
    }

    if (ngx_http_arg(r, (u_char *) "filter", 6, &value) == NGX_OK
        && value.len)
    {
        for (f = ngx_http_chatport_list_filters; f->len; f++) {
            if (f->len == value.len
                && ngx_strncmp(f->data, value.data, value.len) == 0)
            {
                list->filter = *f;
                break;
            }
        }

        if (f->len == 0) {
            return &ngx_http_chatport_list_filter_error;
        }
    }

    if (ngx_http_arg(r, (u_char *) "q", 1, &value) == NGX_OK
        && ngx_http_chatport_list_query(r, &value, &list->query) != NGX_OK)
    {
        return &ngx_http_chatport_list_query_error;
    }

    list->operator = *ngx_http_chatport_operator(r);

    return NULL;
}


/* "MS-CID", the only cursor an answer gives */

static ngx_int_t
ngx_http_chatport_list_cursor(ngx_str_t *s)
{
    u_char  *p, *last, *dash;

    if (s->len == 0) {
        return NGX_OK;
    }

    if (s->len > NGX_HTTP_CHATPORT_CURSOR_MAX) {
        return NGX_ERROR;
    }

    last = s->data + s->len;

    dash = ngx_strlchr(s->data, last, '-');
    if (dash == NULL || dash == s->data
        || last - (dash + 1) != NGX_HTTP_CHATPORT_CID_LEN)
    {
        return NGX_ERROR;
    }

    for (p = s->data; p < dash; p++) {
        if (*p < '0' || *p > '9') {
            return NGX_ERROR;
        }
    }

    for (p = dash + 1; p < last; p++) {
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* the query unescaped ("+" is a space, as forms send it), UTF-8 text */

static ngx_int_t
ngx_http_chatport_list_query(ngx_http_request_t *r, ngx_str_t *value,
    ngx_str_t *query)
{
    u_char      *p, *dst, *src;
    ngx_uint_t   blank;

    if (value->len > 3 * NGX_HTTP_CHATPORT_QUERY_MAX) {
        return NGX_ERROR;
    }

    p = ngx_pnalloc(r->pool, value->len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(p, value->data, value->len);

    for (dst = p; dst < p + value->len; dst++) {
        if (*dst == '+') {
            *dst = ' ';
        }
    }

    src = p;
    dst = p;
    ngx_unescape_uri(&dst, &src, value->len, 0);

    query->data = p;
    query->len = dst - p;

    if (query->len > NGX_HTTP_CHATPORT_QUERY_MAX
        || ngx_http_chatport_utf8_text(query, 0, &blank) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (blank) {
        query->len = 0;
    }

    return NGX_OK;
}


/* images: the operators' URL of photos up to "CID/images/ID" */

ngx_int_t
ngx_http_chatport_list_store(ngx_pool_t *pool, ngx_str_t *site,
    ngx_http_chatport_list_t *list, ngx_str_t *images,
    ngx_http_chatport_redis_pt handler, void *data,
    ngx_http_chatport_redis_cmd_t **cmdp)
{
    ngx_str_t  a[10];

    if (ngx_http_chatport_store_key(pool, &a[0], "chatport:{%V}:convs", site)
        != NGX_OK
        || ngx_http_chatport_store_key(pool, &a[1], "chatport:{%V}:conv:",
                                       site)
           != NGX_OK
        || ngx_http_chatport_store_number(pool, &a[2], list->limit) != NGX_OK
        || ngx_http_chatport_store_number(pool, &a[8],
                                          NGX_HTTP_CHATPORT_LIST_SCAN)
           != NGX_OK
        || ngx_http_chatport_store_number(pool, &a[9],
                                          NGX_HTTP_CHATPORT_QUERY_TERMS)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    a[3] = *images;
    a[4] = list->before;
    a[5] = list->filter;
    a[6] = list->operator;
    a[7] = list->query;

    return ngx_http_chatport_store_call(pool, &ngx_http_chatport_list_script,
                                        a, 1, 10, handler, data, cmdp);
}


/* the page, or 400 for a query the script refused */

void
ngx_http_chatport_list_done(void *data, redisReply *reply, ngx_int_t rc)
{
    ngx_http_chatport_call_t  *call = data;

    ngx_int_t  status;

    status = ngx_http_chatport_list_refused(call->request, reply, rc);

    if (status == NGX_DECLINED) {
        ngx_http_chatport_call_json(data, reply, rc);
        return;
    }

    call->cmd = NULL;
    ngx_http_chatport_call_done(call, status);
}


/*
 * A list script's refusal of the query ("QUERY message") answered 400
 * invalid_query; NGX_DECLINED for any other reply.
 */

ngx_int_t
ngx_http_chatport_list_refused(ngx_http_request_t *r, redisReply *reply,
    ngx_int_t rc)
{
    u_char  *message;

    if (rc != NGX_OK || reply == NULL || reply->type != REDIS_REPLY_ERROR
        || ngx_strncmp(reply->str, "QUERY ", 6) != 0)
    {
        return NGX_DECLINED;
    }

    message = ngx_pnalloc(r->pool, reply->len - 6 + 1);
    if (message == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_cpystrn(message, (u_char *) reply->str + 6, reply->len - 6 + 1);

    return ngx_http_chatport_send_error(r, NGX_HTTP_BAD_REQUEST,
                                        "invalid_query", (char *) message);
}
