
/*
 * ChatPort: an operator claims a conversation, assigns it to another
 * operator, or releases it.
 *
 *   POST A conversations/CID/claim    {} or {"operator": LOGIN,
 *                                      "force": true}
 *   POST A conversations/CID/release  {} or {"force": true}
 *
 * Without "operator" the requesting operator claims it. A conversation
 * another operator holds is answered 409 {"error": "claimed",
 * "operator"} unless "force" takes it over. The check and the change are
 * one script (src/lua/claim.lua): two operators claiming at once, one
 * wins.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_chatport.h"
#include "ngx_http_chatport_call.h"
#include "ngx_http_chatport_claim.h"
#include "ngx_http_chatport_http.h"
#include "ngx_http_chatport_json.h"
#include "ngx_http_chatport_lua.h"
#include "ngx_http_chatport_names.h"
#include "ngx_http_chatport_sites.h"
#include "ngx_http_chatport_store.h"


#define NGX_HTTP_CHATPORT_CLAIM_BODY_MAX  1024


typedef struct {
    ngx_http_chatport_call_t        call;
    ngx_str_t                       cid;
    ngx_uint_t                      release;
} ngx_http_chatport_claim_ctx_t;


static ngx_int_t ngx_http_chatport_claim_start(ngx_http_request_t *r,
    ngx_str_t *arg, ngx_uint_t release);
static void ngx_http_chatport_claim_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_chatport_claim_args(ngx_http_request_t *r,
    ngx_str_t *target, ngx_uint_t *force);
static void ngx_http_chatport_claim_done(void *data, redisReply *reply,
    ngx_int_t rc);


static ngx_http_chatport_redis_script_t  ngx_http_chatport_claim_script =
    { ngx_string(NGX_HTTP_CHATPORT_LUA_EVENT
                 NGX_HTTP_CHATPORT_LUA_CLAIM), { 0 }, 0 };


void
ngx_http_chatport_claim_init(void)
{
    ngx_http_chatport_redis_script_init(&ngx_http_chatport_claim_script);
}


ngx_int_t
ngx_http_chatport_claim(ngx_http_request_t *r, ngx_str_t *arg)
{
    return ngx_http_chatport_claim_start(r, arg, 0);
}


ngx_int_t
ngx_http_chatport_release(ngx_http_request_t *r, ngx_str_t *arg)
{
    return ngx_http_chatport_claim_start(r, arg, 1);
}


static ngx_int_t
ngx_http_chatport_claim_start(ngx_http_request_t *r, ngx_str_t *arg,
    ngx_uint_t release)
{
    ngx_http_chatport_claim_ctx_t  *ctx;

    if (ngx_http_chatport_cid(r, arg) != NGX_OK) {
        return ngx_http_chatport_send_error(r, NGX_HTTP_FORBIDDEN,
                                            "unknown_conversation",
                                            "no such conversation here");
    }

    ctx = ngx_http_chatport_call_create(r,
                                        sizeof(ngx_http_chatport_claim_ctx_t),
                                        "unknown_conversation");
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->cid = *arg;
    ctx->release = release;

    /* the body handler finds the conversation through the ctx */
    ngx_http_set_ctx(r, ctx, ngx_http_chatport_module);

    return ngx_http_chatport_read_json(r, NGX_HTTP_CHATPORT_CLAIM_BODY_MAX,
                                       ngx_http_chatport_claim_body);
}


static void
ngx_http_chatport_claim_body(ngx_http_request_t *r)
{
    ngx_int_t                       rc;
    ngx_str_t                       a[8], *me, *name, target, *site;
    ngx_uint_t                      force;
    ngx_http_chatport_loc_conf_t   *clcf;
    ngx_http_chatport_claim_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_chatport_module);
    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);
    site = ngx_http_chatport_request_site(r);

    if (ngx_http_chatport_claim_args(r, &target, &force) != NGX_OK) {
        return;
    }

    me = ngx_http_chatport_operator(r);

    if (ctx->release) {
        ngx_str_null(&target);

    } else if (target.len == 0) {
        target = *me;
    }

    name = target.len ? ngx_http_chatport_operator_name(r, &target) : NULL;

    if (ngx_http_chatport_store_channel(r->pool, site, &ctx->cid, &a[0])
        != NGX_OK
        || ngx_http_chatport_store_inbox_channel(r->pool, site, &a[1])
           != NGX_OK
        || ngx_http_chatport_store_number(r->pool, &a[7],
                                          (int64_t) clcf->retention * 1000)
           != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    a[2] = ctx->cid;
    a[3] = *me;
    a[4] = target;

    if (force) {
        ngx_str_set(&a[5], "1");

    } else {
        ngx_str_set(&a[5], "0");
    }

    if (name) {
        a[6] = *name;

    } else {
        ngx_str_null(&a[6]);
    }

    rc = ngx_http_chatport_store_call(r->pool,
                                      &ngx_http_chatport_claim_script, a, 2,
                                      8, ngx_http_chatport_claim_done, ctx,
                                      &ctx->call.cmd);

    ngx_http_chatport_call_posted(&ctx->call, rc);
}


/*
 * {"operator": LOGIN, "force": true|false}, each optional; an empty body
 * is {}. A login given must be a valid one and, where the location names
 * its operators (chatport_operator), one of them. NGX_OK, or NGX_DONE
 * when the request has been answered with an error.
 */

static ngx_int_t
ngx_http_chatport_claim_args(ngx_http_request_t *r, ngx_str_t *target,
    ngx_uint_t *force)
{
    char                          *code, *message;
    json_t                        *root, *member;
    ngx_int_t                      rc;
    ngx_str_t                      body;
    ngx_http_chatport_loc_conf_t  *clcf;

    ngx_str_null(target);
    *force = 0;

    if (ngx_http_chatport_read_body(r, NGX_HTTP_CHATPORT_CLAIM_BODY_MAX,
                                    &body)
        == NGX_OK
        && body.len == 0)
    {
        return NGX_OK;
    }

    /* errors of the body itself are answered there */
    root = ngx_http_chatport_body_json(r, NGX_HTTP_CHATPORT_CLAIM_BODY_MAX);
    if (root == NULL) {
        return NGX_DONE;
    }

    code = NULL;
    message = NULL;

    member = json_object_get(root, "force");

    if (member && json_is_boolean(member)) {
        *force = json_is_true(member);

    } else if (member && !json_is_null(member)) {
        code = "invalid_force";
        message = "\"force\" must be true or false";
    }

    rc = ngx_http_chatport_json_get_string(r->pool, root, "operator", target);

    json_decref(root);

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);

    if (code) {
        /* answered below */

    } else if (rc == NGX_ERROR
               || (rc == NGX_OK
                   && ngx_http_chatport_login_valid(target) != NGX_OK))
    {
        code = "invalid_operator";
        message = "\"operator\" must be a login: 1 to 64 of A-Z a-z 0-9 "
                  ". _ @ + -";

    } else if (rc == NGX_OK && clcf->operators
               && ngx_http_chatport_operator_name(r, target) == NULL)
    {
        code = "unknown_operator";
        message = "no such operator here (chatport_operator)";
    }

    if (code) {
        ngx_http_finalize_request(r,
            ngx_http_chatport_send_error(r, NGX_HTTP_BAD_REQUEST, code,
                                         message));
        return NGX_DONE;
    }

    if (rc != NGX_OK) {
        ngx_str_null(target);
    }

    return NGX_OK;
}


static void
ngx_http_chatport_claim_done(void *data, redisReply *reply, ngx_int_t rc)
{
    ngx_http_chatport_claim_ctx_t  *ctx = data;

    ngx_str_t                          holder, *name;
    ngx_http_request_t                *r;
    ngx_http_chatport_json_t           j;
    ngx_http_chatport_store_status_e   status;

    r = ctx->call.request;

    status = ngx_http_chatport_store_status(reply, rc, r->connection->log);

    if (status != NGX_HTTP_CHATPORT_STORE_OK
        || reply->type != REDIS_REPLY_STRING)
    {
        ngx_http_chatport_call_failed(&ctx->call, status);
        return;
    }

    if (reply->len == 0) {
        ngx_str_null(&holder);
        ngx_http_chatport_call_done(&ctx->call,
                                    ngx_http_chatport_send_json(r,
                                        NGX_HTTP_NO_CONTENT, &holder));
        return;
    }

    /* the reply is freed after this handler: the answer is built now */
    holder.data = (u_char *) reply->str;
    holder.len = reply->len;
    name = ngx_http_chatport_operator_name(r, &holder);

    ngx_http_chatport_json_init(&j, r->pool);
    ngx_http_chatport_json_literal(&j, "{\"error\":\"claimed\",\"operator\":");
    ngx_http_chatport_json_string(&j, &holder);

    if (name) {
        ngx_http_chatport_json_literal(&j, ",\"name\":");
        ngx_http_chatport_json_string(&j, name);
    }

    ngx_http_chatport_json_literal(&j, ",\"message\":\"another operator has "
                                   "this conversation (\\\"force\\\": true "
                                   "takes it over)\"}\n");

    ngx_http_chatport_call_done(&ctx->call,
                                ngx_http_chatport_send_built(r,
                                                             NGX_HTTP_CONFLICT,
                                                             &j));
}
