
/*
 * ChatPort: canned replies, kept per site for its operators.
 *
 *   GET A canned          {"canned": [{"id", "title", "text", "by",
 *                         "updated"}, ...]}, oldest first
 *   POST A canned         {"title", "text"}: 201 {"id"}; with "id": that
 *                         reply edited, 200 {"id"}
 *   DELETE A canned/ID    204
 *
 * They live in the hash chatport:{site}:canned (id: the reply's JSON),
 * with the site's hash tag, and do not expire. A change tells the
 * consoles through the inbox channel ("~ {"type": "canned"}"), nothing
 * stored.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_chatport.h"
#include "ngx_http_chatport_call.h"
#include "ngx_http_chatport_canned.h"
#include "ngx_http_chatport_http.h"
#include "ngx_http_chatport_json.h"
#include "ngx_http_chatport_lua.h"
#include "ngx_http_chatport_sites.h"
#include "ngx_http_chatport_store.h"


typedef struct {
    ngx_http_chatport_call_t        call;
    ngx_uint_t                      edit;
} ngx_http_chatport_canned_ctx_t;


static ngx_int_t ngx_http_chatport_canned_keys(ngx_http_request_t *r,
    ngx_str_t *keys);
static void ngx_http_chatport_canned_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_chatport_canned_check(ngx_http_request_t *r,
    json_t *root, ngx_str_t *id, ngx_str_t *title, ngx_str_t *text);
static ngx_int_t ngx_http_chatport_canned_id(ngx_str_t *id);
static void ngx_http_chatport_canned_saved(void *data, redisReply *reply,
    ngx_int_t rc);
static void ngx_http_chatport_canned_deleted(void *data, redisReply *reply,
    ngx_int_t rc);
static ngx_int_t ngx_http_chatport_canned_unknown(ngx_http_request_t *r);


static ngx_http_chatport_redis_script_t  ngx_http_chatport_canned_list =
    { ngx_string(NGX_HTTP_CHATPORT_LUA_CANNED_LIST), { 0 }, 0 };

static ngx_http_chatport_redis_script_t  ngx_http_chatport_canned_save =
    { ngx_string(NGX_HTTP_CHATPORT_LUA_NOW_MS
                 NGX_HTTP_CHATPORT_LUA_CANNED_SAVE), { 0 }, 0 };

static ngx_http_chatport_redis_script_t  ngx_http_chatport_canned_del =
    { ngx_string(NGX_HTTP_CHATPORT_LUA_CANNED_DELETE), { 0 }, 0 };


void
ngx_http_chatport_canned_init(void)
{
    ngx_http_chatport_redis_script_init(&ngx_http_chatport_canned_list);
    ngx_http_chatport_redis_script_init(&ngx_http_chatport_canned_save);
    ngx_http_chatport_redis_script_init(&ngx_http_chatport_canned_del);
}


/* keys[0]: the site's canned hash, keys[1]: its inbox channel */

static ngx_int_t
ngx_http_chatport_canned_keys(ngx_http_request_t *r, ngx_str_t *keys)
{
    ngx_str_t  *site;

    site = ngx_http_chatport_request_site(r);

    if (ngx_http_chatport_store_key(r->pool, &keys[0],
                                    "chatport:{%V}:canned", site)
        != NGX_OK
        || ngx_http_chatport_store_inbox_channel(r->pool, site, &keys[1])
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_chatport_canned(ngx_http_request_t *r, ngx_str_t *arg)
{
    ngx_int_t                        rc;
    ngx_str_t                        keys[2];
    ngx_http_chatport_loc_conf_t    *clcf;
    ngx_http_chatport_canned_ctx_t  *ctx;

    if (r->method == NGX_HTTP_POST) {
        clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);

        return ngx_http_chatport_read_json(r,
                                           ngx_http_chatport_body_limit(clcf),
                                           ngx_http_chatport_canned_body);
    }

    ctx = ngx_http_chatport_call_create(r,
                                        sizeof(ngx_http_chatport_canned_ctx_t),
                                        "unknown_canned");
    if (ctx == NULL || ngx_http_chatport_canned_keys(r, keys) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_chatport_store_call(r->pool, &ngx_http_chatport_canned_list,
                                      keys, 1, 1, ngx_http_chatport_call_json,
                                      ctx, &ctx->call.cmd);

    return ngx_http_chatport_call_started(&ctx->call, rc);
}


static void
ngx_http_chatport_canned_body(ngx_http_request_t *r)
{
    json_t                          *root;
    ngx_int_t                        rc;
    ngx_str_t                        a[7];
    ngx_http_chatport_loc_conf_t    *clcf;
    ngx_http_chatport_canned_ctx_t  *ctx;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);

    root = ngx_http_chatport_body_json(r, ngx_http_chatport_body_limit(clcf));
    if (root == NULL) {
        return;
    }

    rc = ngx_http_chatport_canned_check(r, root, &a[2], &a[3], &a[4]);

    json_decref(root);

    if (rc != NGX_OK) {
        return;
    }

    ctx = ngx_http_chatport_call_create(r,
                                        sizeof(ngx_http_chatport_canned_ctx_t),
                                        "unknown_canned");
    if (ctx == NULL
        || ngx_http_chatport_canned_keys(r, a) != NGX_OK
        || ngx_http_chatport_store_number(r->pool, &a[6],
                                          NGX_HTTP_CHATPORT_CANNED_MAX)
           != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ctx->edit = (a[2].len != 0);
    a[5] = *ngx_http_chatport_operator(r);

    rc = ngx_http_chatport_store_call(r->pool, &ngx_http_chatport_canned_save,
                                      a, 2, 7, ngx_http_chatport_canned_saved,
                                      ctx, &ctx->call.cmd);

    ngx_http_chatport_call_posted(&ctx->call, rc);
}


/*
 * "title": 1 to 100 characters of one line; "text": as a message's
 * (chatport_max_message bytes, line breaks allowed, not blank); "id":
 * absent or null to create. NGX_OK, or NGX_DONE when answered.
 */

static ngx_int_t
ngx_http_chatport_canned_check(ngx_http_request_t *r, json_t *root,
    ngx_str_t *id, ngx_str_t *title, ngx_str_t *text)
{
    char                          *code, *message;
    ngx_int_t                      rc;
    ngx_uint_t                     status, blank;
    ngx_http_chatport_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);
    status = NGX_HTTP_BAD_REQUEST;
    code = NULL;
    message = NULL;

    rc = ngx_http_chatport_json_get_string(r->pool, root, "id", id);

    if (rc == NGX_ERROR
        || (rc == NGX_OK && ngx_http_chatport_canned_id(id) != NGX_OK))
    {
        code = "invalid_id";
        message = "\"id\" is the id of a canned reply (digits)";
        goto failed;
    }

    rc = ngx_http_chatport_json_get_string(r->pool, root, "title", title);

    if (rc == NGX_DECLINED) {
        code = "missing_title";
        message = "\"title\" is required";
        goto failed;
    }

    if (rc != NGX_OK
        || ngx_http_chatport_utf8_text(title, 0, &blank) != NGX_OK
        || blank
        || ngx_utf8_length(title->data, title->len)
           > NGX_HTTP_CHATPORT_CANNED_TITLE_MAX)
    {
        code = "invalid_title";
        message = "\"title\" is 1 to 100 characters of one line of text";
        goto failed;
    }

    rc = ngx_http_chatport_json_get_string(r->pool, root, "text", text);

    if (rc == NGX_DECLINED) {
        code = "missing_text";
        message = "\"text\" is required";

    } else if (rc != NGX_OK) {
        code = "invalid_text";
        message = "\"text\" must be a string";

    } else if (text->len > clcf->max_message) {
        status = NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
        code = "text_too_large";
        message = "\"text\" is longer than chatport_max_message";

    } else if (ngx_http_chatport_utf8_text(text, 1, &blank) != NGX_OK) {
        code = "invalid_text";
        message = "\"text\" has control characters";

    } else if (blank) {
        code = "empty_text";
        message = "\"text\" is empty";
    }

failed:

    if (code == NULL) {
        return NGX_OK;
    }

    ngx_http_finalize_request(r,
        ngx_http_chatport_send_error(r, status, code, message));

    return NGX_DONE;
}


/* an id as the store makes them: 1 to 20 digits */

static ngx_int_t
ngx_http_chatport_canned_id(ngx_str_t *id)
{
    ngx_uint_t  i;

    if (id->len == 0 || id->len > NGX_HTTP_CHATPORT_CANNED_ID_MAX) {
        return NGX_DECLINED;
    }

    for (i = 0; i < id->len; i++) {
        if (id->data[i] < '0' || id->data[i] > '9') {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


static void
ngx_http_chatport_canned_saved(void *data, redisReply *reply, ngx_int_t rc)
{
    ngx_http_chatport_canned_ctx_t  *ctx = data;

    ngx_http_request_t                *r;
    ngx_http_chatport_json_t           j;
    ngx_http_chatport_store_status_e   status;

    r = ctx->call.request;

    status = ngx_http_chatport_store_status(reply, rc, r->connection->log);

    if (status != NGX_HTTP_CHATPORT_STORE_OK) {
        ngx_http_chatport_call_failed(&ctx->call, status);
        return;
    }

    if (reply->type == REDIS_REPLY_INTEGER && reply->integer == 0) {
        ngx_http_chatport_call_done(&ctx->call,
                                    ngx_http_chatport_canned_unknown(r));
        return;
    }

    if (reply->type == REDIS_REPLY_INTEGER) {
        ngx_http_chatport_call_done(&ctx->call,
            ngx_http_chatport_send_error(r, NGX_HTTP_CONFLICT,
                                         "too_many_canned",
                                         "the site has 200 canned replies, "
                                         "the most it keeps"));
        return;
    }

    if (reply->type != REDIS_REPLY_STRING) {
        ngx_http_chatport_call_done(&ctx->call,
                                    NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (!ctx->edit) {
        ngx_http_chatport_call_done(&ctx->call,
                                    ngx_http_chatport_send_created(r, reply));
        return;
    }

    ngx_http_chatport_json_init(&j, r->pool);
    ngx_http_chatport_json_literal(&j, "{\"id\":");
    ngx_http_chatport_json_raw(&j, (u_char *) "\"", 1);
    ngx_http_chatport_json_raw(&j, (u_char *) reply->str, reply->len);
    ngx_http_chatport_json_literal(&j, "\"}\n");

    ngx_http_chatport_call_done(&ctx->call,
                                ngx_http_chatport_send_built(r, NGX_HTTP_OK,
                                                             &j));
}


ngx_int_t
ngx_http_chatport_canned_delete(ngx_http_request_t *r, ngx_str_t *arg)
{
    ngx_int_t                        rc;
    ngx_str_t                        a[3];
    ngx_http_chatport_canned_ctx_t  *ctx;

    /* a DELETE from a page of another site needs a preflight; refused
     * here all the same, as the POSTs are */
    if (ngx_http_chatport_same_origin(r) != NGX_OK) {
        return ngx_http_chatport_send_error(r, NGX_HTTP_FORBIDDEN,
                                            "cross_origin",
                                            "requests from other sites "
                                            "are refused");
    }

    if (ngx_http_chatport_canned_id(arg) != NGX_OK) {
        return ngx_http_chatport_canned_unknown(r);
    }

    ctx = ngx_http_chatport_call_create(r,
                                        sizeof(ngx_http_chatport_canned_ctx_t),
                                        "unknown_canned");
    if (ctx == NULL || ngx_http_chatport_canned_keys(r, a) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    a[2] = *arg;

    rc = ngx_http_chatport_store_call(r->pool, &ngx_http_chatport_canned_del,
                                      a, 2, 3,
                                      ngx_http_chatport_canned_deleted, ctx,
                                      &ctx->call.cmd);

    return ngx_http_chatport_call_started(&ctx->call, rc);
}


static void
ngx_http_chatport_canned_deleted(void *data, redisReply *reply, ngx_int_t rc)
{
    ngx_http_chatport_canned_ctx_t  *ctx = data;

    ngx_str_t                          empty;
    ngx_http_request_t                *r;
    ngx_http_chatport_store_status_e   status;

    r = ctx->call.request;

    status = ngx_http_chatport_store_status(reply, rc, r->connection->log);

    if (status != NGX_HTTP_CHATPORT_STORE_OK) {
        ngx_http_chatport_call_failed(&ctx->call, status);
        return;
    }

    if (reply->type != REDIS_REPLY_INTEGER || reply->integer == 0) {
        ngx_http_chatport_call_done(&ctx->call,
                                    ngx_http_chatport_canned_unknown(r));
        return;
    }

    ngx_str_null(&empty);
    ngx_http_chatport_call_done(&ctx->call,
                                ngx_http_chatport_send_json(r,
                                                            NGX_HTTP_NO_CONTENT,
                                                            &empty));
}


static ngx_int_t
ngx_http_chatport_canned_unknown(ngx_http_request_t *r)
{
    return ngx_http_chatport_send_error(r, NGX_HTTP_NOT_FOUND,
                                        "unknown_canned",
                                        "no such canned reply here");
}
