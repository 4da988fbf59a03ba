
/*
 * ChatPort: the operators' view of the contact forms.
 *
 * A form is "new" until an operator marks it "done" (or new again); the
 * state is the site's, shared by every operator, and a change is an
 * inbox event so that the other consoles follow. The done forms are a
 * sorted set beside the forms' stream, chatport:{site}:forms-done, of
 * their ids scored by their time: the forms trimmed from the stream are
 * let go from it by their time.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_chatport.h"
#include "ngx_http_chatport_call.h"
#include "ngx_http_chatport_forms.h"
#include "ngx_http_chatport_http.h"
#include "ngx_http_chatport_identity.h"
#include "ngx_http_chatport_lua.h"
#include "ngx_http_chatport_sites.h"
#include "ngx_http_chatport_store.h"
#include "ngx_http_chatport_waiters.h"


#define NGX_HTTP_CHATPORT_FORMS_MAX       100
#define NGX_HTTP_CHATPORT_FORM_STATE_BODY 256


static void ngx_http_chatport_form_state_body(ngx_http_request_t *r);
static void ngx_http_chatport_form_state_done(void *data, redisReply *reply,
    ngx_int_t rc);
static ngx_int_t ngx_http_chatport_forms_keys(ngx_pool_t *pool,
    ngx_str_t *site, ngx_str_t *keys);


typedef struct {
    ngx_http_chatport_call_t          call;
    ngx_str_t                         id;
} ngx_http_chatport_form_state_ctx_t;


static ngx_http_chatport_redis_script_t  ngx_http_chatport_forms_script =
    { ngx_string(NGX_HTTP_CHATPORT_LUA_FORMS), { 0 }, 0 };

static ngx_http_chatport_redis_script_t  ngx_http_chatport_form_state_script =
    { ngx_string(NGX_HTTP_CHATPORT_LUA_EVENT
                 NGX_HTTP_CHATPORT_LUA_FORM_STATE), { 0 }, 0 };


void
ngx_http_chatport_forms_init(void)
{
    ngx_http_chatport_redis_script_init(&ngx_http_chatport_forms_script);
    ngx_http_chatport_redis_script_init(&ngx_http_chatport_form_state_script);
}


/* GET A forms?after=ID: submissions with their state, newest last */

ngx_int_t
ngx_http_chatport_forms(ngx_http_request_t *r, ngx_str_t *arg)
{
    ngx_int_t                  rc;
    ngx_str_t                  after, *site;
    ngx_http_chatport_call_t  *call;

    site = ngx_http_chatport_request_site(r);

    if (site == NULL) {
        return ngx_http_chatport_sites_forms(r);
    }

    if (ngx_http_chatport_cursor(r, &after) != NGX_OK) {
        return ngx_http_chatport_send_error(r, NGX_HTTP_BAD_REQUEST,
                                            "invalid_cursor",
                                            "\"after\" is not a form id");
    }

    if (after.len == 0) {
        ngx_str_set(&after, "0-0");
    }

    call = ngx_http_chatport_call_create(r, sizeof(ngx_http_chatport_call_t),
                                         "unknown_form");
    if (call == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_chatport_forms_store(r->pool, site, &after,
                                       ngx_http_chatport_call_json, call,
                                       &call->cmd);

    return ngx_http_chatport_call_started(call, rc);
}


/* one site's forms after "after", with their state and the count of new */

ngx_int_t
ngx_http_chatport_forms_store(ngx_pool_t *pool, ngx_str_t *site,
    ngx_str_t *after, ngx_http_chatport_redis_pt handler, void *data,
    ngx_http_chatport_redis_cmd_t **cmdp)
{
    ngx_str_t  a[4];

    a[2] = *after;

    if (ngx_http_chatport_forms_keys(pool, site, a) != NGX_OK
        || ngx_http_chatport_store_number(pool, &a[3],
                                          NGX_HTTP_CHATPORT_FORMS_MAX)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_chatport_store_call(pool, &ngx_http_chatport_forms_script,
                                        a, 2, 4, handler, data, cmdp);
}


/* POST A forms/ID/state {"state": "new" | "done"}: 204 */

ngx_int_t
ngx_http_chatport_form_state(ngx_http_request_t *r, ngx_str_t *arg)
{
    ngx_http_chatport_stream_id_t        id;
    ngx_http_chatport_form_state_ctx_t  *ctx;

    if (ngx_http_chatport_stream_id_parse(arg, &id) != NGX_OK) {
        return ngx_http_chatport_send_error(r, NGX_HTTP_NOT_FOUND,
                                            "unknown_form",
                                            "no such form here");
    }

    ctx = ngx_http_chatport_call_create(r,
                                   sizeof(ngx_http_chatport_form_state_ctx_t),
                                   "unknown_form");
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->id = *arg;
    ngx_http_set_ctx(r, ctx, ngx_http_chatport_module);

    return ngx_http_chatport_read_json(r, NGX_HTTP_CHATPORT_FORM_STATE_BODY,
                                       ngx_http_chatport_form_state_body);
}


static void
ngx_http_chatport_form_state_body(ngx_http_request_t *r)
{
    json_t                              *root;
    ngx_int_t                            rc;
    ngx_str_t                            a[7];
    ngx_str_t                           *site;
    ngx_http_chatport_loc_conf_t        *clcf;
    ngx_http_chatport_form_state_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_chatport_module);
    site = ngx_http_chatport_request_site(r);
    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);

    root = ngx_http_chatport_body_json(r, NGX_HTTP_CHATPORT_FORM_STATE_BODY);
    if (root == NULL) {
        return;
    }

    rc = ngx_http_chatport_json_get_string(r->pool, root, "state", &a[4]);

    json_decref(root);

    if (!(rc == NGX_OK
          && ((a[4].len == 3 && ngx_strncmp(a[4].data, "new", 3) == 0)
              || (a[4].len == 4 && ngx_strncmp(a[4].data, "done", 4) == 0))))
    {
        ngx_http_finalize_request(r,
            ngx_http_chatport_send_error(r, NGX_HTTP_BAD_REQUEST,
                                         "invalid_state",
                                         "\"state\" is \"new\" or \"done\""));
        return;
    }

    if (ngx_http_chatport_forms_keys(r->pool, site, a) != NGX_OK
        || ngx_http_chatport_store_inbox_channel(r->pool, site, &a[2])
           != NGX_OK
        || ngx_http_chatport_store_number(r->pool, &a[6],
                                          (int64_t) clcf->retention * 1000)
           != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    a[3] = ctx->id;
    a[5] = *ngx_http_chatport_operator(r);

    rc = ngx_http_chatport_store_call(r->pool,
                                      &ngx_http_chatport_form_state_script,
                                      a, 3, 7,
                                      ngx_http_chatport_form_state_done, ctx,
                                      &ctx->call.cmd);

    ngx_http_chatport_call_posted(&ctx->call, rc);
}


static void
ngx_http_chatport_form_state_done(void *data, redisReply *reply,
    ngx_int_t rc)
{
    ngx_http_chatport_form_state_ctx_t  *ctx = data;

    ngx_http_request_t                *r;
    ngx_http_chatport_store_status_e   status;

    r = ctx->call.request;

    status = ngx_http_chatport_store_status(reply, rc, r->connection->log);

    if (status == NGX_HTTP_CHATPORT_STORE_UNKNOWN) {
        ctx->call.cmd = NULL;
        ngx_http_chatport_call_done(&ctx->call,
            ngx_http_chatport_send_error(r, NGX_HTTP_NOT_FOUND,
                                         "unknown_form",
                                         "no such form here"));
        return;
    }

    ngx_http_chatport_call_empty(data, reply, rc);
}


/* keys[0] the forms' stream, keys[1] the done ones */

static ngx_int_t
ngx_http_chatport_forms_keys(ngx_pool_t *pool, ngx_str_t *site,
    ngx_str_t *keys)
{
    if (ngx_http_chatport_store_key(pool, &keys[0], "chatport:{%V}:forms",
                                    site)
        != NGX_OK
        || ngx_http_chatport_store_key(pool, &keys[1],
                                       "chatport:{%V}:forms-done", site)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}
