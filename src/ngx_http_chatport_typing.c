
/*
 * ChatPort: POST P typing and POST A conversations/CID/typing, with an
 * optional body {"typing": false} for a stop.
 *
 * Typing is news only for a few seconds: it is published to the other
 * side's channel as an event ("~", see the waiters) and stored nowhere,
 * not even for throttling; the widget and the console send it at most
 * every 2 s or so. Best effort: a poll that is between two requests
 * misses one event, and hears the next.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_chatport.h"
#include "ngx_http_chatport_call.h"
#include "ngx_http_chatport_http.h"
#include "ngx_http_chatport_json.h"
#include "ngx_http_chatport_lua.h"
#include "ngx_http_chatport_names.h"
#include "ngx_http_chatport_sites.h"
#include "ngx_http_chatport_store.h"
#include "ngx_http_chatport_typing.h"


#define NGX_HTTP_CHATPORT_TYPING_BODY_MAX  1024


typedef struct {
    ngx_http_chatport_call_t        call;
    ngx_str_t                       cid;
    ngx_str_t                      *operator;   /* NULL for the visitor */
} ngx_http_chatport_typing_ctx_t;


static void ngx_http_chatport_typing_visitor_body(ngx_http_request_t *r);
static void ngx_http_chatport_typing_agent_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_chatport_typing_flag(ngx_http_request_t *r,
    ngx_uint_t *typing);
static void ngx_http_chatport_typing_publish(
    ngx_http_chatport_typing_ctx_t *ctx, ngx_uint_t typing);


static ngx_http_chatport_redis_script_t  ngx_http_chatport_typing_script =
    { ngx_string(NGX_HTTP_CHATPORT_LUA_TYPING), { 0 }, 0 };


void
ngx_http_chatport_typing_init(void)
{
    ngx_http_chatport_redis_script_init(&ngx_http_chatport_typing_script);
}


/* the visitor's, on the conversation of its cookie */

ngx_int_t
ngx_http_chatport_typing(ngx_http_request_t *r, ngx_str_t *arg)
{
    return ngx_http_chatport_read_json(r, NGX_HTTP_CHATPORT_TYPING_BODY_MAX,
                                       ngx_http_chatport_typing_visitor_body);
}


/* an operator's, on a conversation id of the right form */

ngx_int_t
ngx_http_chatport_typing_agent(ngx_http_request_t *r, ngx_str_t *cid,
    ngx_str_t *operator)
{
    ngx_http_chatport_typing_ctx_t  *ctx;

    ctx = ngx_http_chatport_call_create(r,
                                        sizeof(ngx_http_chatport_typing_ctx_t),
                                        "unknown_conversation");
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->cid = *cid;
    ctx->operator = operator;

    /* the body handler finds the conversation through the ctx */
    ngx_http_set_ctx(r, ctx, ngx_http_chatport_module);

    return ngx_http_chatport_read_json(r, NGX_HTTP_CHATPORT_TYPING_BODY_MAX,
                                       ngx_http_chatport_typing_agent_body);
}


static void
ngx_http_chatport_typing_visitor_body(ngx_http_request_t *r)
{
    ngx_str_t                        cid;
    ngx_uint_t                       typing;
    ngx_http_chatport_typing_ctx_t  *ctx;

    if (ngx_http_chatport_typing_flag(r, &typing) != NGX_OK) {
        return;
    }

    ctx = ngx_http_chatport_visitor_call(r,
                                         sizeof(ngx_http_chatport_typing_ctx_t),
                                         &cid);
    if (ctx == NULL) {
        return;
    }

    ctx->cid = cid;

    ngx_http_chatport_typing_publish(ctx, typing);
}


static void
ngx_http_chatport_typing_agent_body(ngx_http_request_t *r)
{
    ngx_uint_t                       typing;
    ngx_http_chatport_typing_ctx_t  *ctx;

    if (ngx_http_chatport_typing_flag(r, &typing) != NGX_OK) {
        return;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_chatport_module);

    ngx_http_chatport_typing_publish(ctx, typing);
}


/*
 * {"typing": true|false}, true when absent or null; an empty body is {}.
 * NGX_OK, or NGX_DONE when the request has been answered with an error.
 */

static ngx_int_t
ngx_http_chatport_typing_flag(ngx_http_request_t *r, ngx_uint_t *typing)
{
    json_t     *root, *member;
    ngx_str_t   body;

    *typing = 1;

    if (ngx_http_chatport_read_body(r, NGX_HTTP_CHATPORT_TYPING_BODY_MAX,
                                    &body)
        == NGX_OK
        && body.len == 0)
    {
        return NGX_OK;
    }

    /* errors of the body itself are answered there */
    root = ngx_http_chatport_body_json(r, NGX_HTTP_CHATPORT_TYPING_BODY_MAX);
    if (root == NULL) {
        return NGX_DONE;
    }

    member = json_object_get(root, "typing");

    if (member && json_is_boolean(member)) {
        *typing = json_is_true(member);

    } else if (member && !json_is_null(member)) {
        json_decref(root);

        ngx_http_finalize_request(r,
            ngx_http_chatport_send_error(r, NGX_HTTP_BAD_REQUEST,
                                         "invalid_typing",
                                         "\"typing\" must be true or "
                                         "false"));
        return NGX_DONE;
    }

    json_decref(root);

    return NGX_OK;
}


static void
ngx_http_chatport_typing_publish(ngx_http_chatport_typing_ctx_t *ctx,
    ngx_uint_t typing)
{
    ngx_int_t                      rc;
    ngx_str_t                      a[7], *name, *site;
    ngx_http_request_t            *r;

    r = ctx->call.request;
    site = ngx_http_chatport_request_site(r);

    if (ngx_http_chatport_store_channel(r->pool, site, &ctx->cid, &a[0])
        != NGX_OK
        || ngx_http_chatport_store_inbox_channel(r->pool, site, &a[1])
           != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    a[2] = ctx->cid;

    ngx_str_null(&a[6]);

    if (ctx->operator) {
        ngx_str_set(&a[3], "agent");
        a[4] = *ctx->operator;

        name = ngx_http_chatport_operator_name(r, ctx->operator);
        if (name) {
            a[6] = *name;
        }

    } else {
        ngx_str_set(&a[3], "visitor");
        ngx_str_null(&a[4]);
    }

    if (typing) {
        ngx_str_set(&a[5], "1");

    } else {
        ngx_str_set(&a[5], "0");
    }

    rc = ngx_http_chatport_store_call(r->pool,
                                      &ngx_http_chatport_typing_script, a, 2,
                                      7, ngx_http_chatport_call_empty, ctx,
                                      &ctx->call.cmd);

    ngx_http_chatport_call_posted(&ctx->call, rc);
}
