
/*
 * ChatPort: the operator's console and API below the "chatport_agent"
 * location. The operator is nginx's $remote_user, and sees only the site
 * of the server the location is in, or the sites its
 * "chatport_agent_sites" lists (ngx_http_chatport_sites.c).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_chatport.h"
#include "ngx_http_chatport_assets.h"
#include "ngx_http_chatport_call.h"
#include "ngx_http_chatport_canned.h"
#include "ngx_http_chatport_claim.h"
#include "ngx_http_chatport_form.h"
#include "ngx_http_chatport_data.h"
#include "ngx_http_chatport_forms.h"
#include "ngx_http_chatport_http.h"
#include "ngx_http_chatport_identity.h"
#include "ngx_http_chatport_json.h"
#include "ngx_http_chatport_names.h"
#include "ngx_http_chatport_list.h"
#include "ngx_http_chatport_page.h"
#include "ngx_http_chatport_presence.h"
#include "ngx_http_chatport_sites.h"
#include "ngx_http_chatport_store.h"
#include "ngx_http_chatport_typing.h"
#include "ngx_http_chatport_upload.h"
#include "ngx_http_chatport_waiters.h"


#define NGX_HTTP_CHATPORT_EVENTS_MAX    100
#define NGX_HTTP_CHATPORT_SMALL_BODY    1024


typedef struct {
    ngx_http_chatport_call_t      call;
    ngx_http_chatport_message_t   message;
} ngx_http_chatport_agent_ctx_t;


/*
 * The configuration of nginx's auth_basic and auth_request modules as
 * nginx 1.22 lays it out: whether a location is protected can only be
 * read there, and a Basic header alone proves nothing.
 */

typedef struct {
    ngx_http_complex_value_t     *realm;
    ngx_http_complex_value_t     *user_file;
} ngx_http_chatport_auth_basic_conf_t;

typedef struct {
    ngx_str_t                     uri;
    ngx_array_t                  *vars;
} ngx_http_chatport_auth_request_conf_t;


extern ngx_module_t  ngx_http_auth_basic_module;
extern ngx_module_t  ngx_http_auth_request_module;


static ngx_int_t ngx_http_chatport_console(ngx_http_request_t *r,
    ngx_str_t *arg);
static ngx_int_t ngx_http_chatport_console_js(ngx_http_request_t *r,
    ngx_str_t *arg);
static ngx_int_t ngx_http_chatport_console_css(ngx_http_request_t *r,
    ngx_str_t *arg);
static ngx_int_t ngx_http_chatport_session(ngx_http_request_t *r,
    ngx_str_t *arg);
static void ngx_http_chatport_session_done(void *data, redisReply *reply,
    ngx_int_t rc);
static ngx_int_t ngx_http_chatport_operators(ngx_http_request_t *r,
    ngx_str_t *arg);
static void ngx_http_chatport_operators_done(void *data, redisReply *reply,
    ngx_int_t rc);
static ngx_int_t ngx_http_chatport_presence_read(ngx_http_request_t *r,
    ngx_http_chatport_redis_pt handler);
static ngx_int_t ngx_http_chatport_conversation_messages(
    ngx_http_request_t *r, ngx_str_t *arg);
static void ngx_http_chatport_reply_body(ngx_http_request_t *r);
static void ngx_http_chatport_reply_done(void *data, redisReply *reply,
    ngx_int_t rc);
static ngx_int_t ngx_http_chatport_close(ngx_http_request_t *r,
    ngx_str_t *arg);
static ngx_int_t ngx_http_chatport_conversation_typing(ngx_http_request_t *r,
    ngx_str_t *arg);
static ngx_int_t ngx_http_chatport_inbox_poll(ngx_http_request_t *r,
    ngx_str_t *arg);
static ngx_int_t ngx_http_chatport_inbox_check(
    ngx_http_chatport_waiter_t *w);
static ngx_int_t ngx_http_chatport_presence(ngx_http_request_t *r,
    ngx_str_t *arg);
static void ngx_http_chatport_presence_body(ngx_http_request_t *r);

static ngx_http_chatport_agent_ctx_t *ngx_http_chatport_agent_ctx(
    ngx_http_request_t *r);


static ngx_http_chatport_route_t  ngx_http_chatport_agent_routes[] = {

    { ngx_string(""), NGX_HTTP_GET|NGX_HTTP_HEAD,
      ngx_string("GET, HEAD"), ngx_http_chatport_console },

    { ngx_string("console.js"), NGX_HTTP_GET|NGX_HTTP_HEAD,
      ngx_string("GET, HEAD"), ngx_http_chatport_console_js },

    { ngx_string("console.css"), NGX_HTTP_GET|NGX_HTTP_HEAD,
      ngx_string("GET, HEAD"), ngx_http_chatport_console_css },

    { ngx_string("session"), NGX_HTTP_GET,
      ngx_string("GET"), ngx_http_chatport_session },

    { ngx_string("conversations"), NGX_HTTP_GET,
      ngx_string("GET"), ngx_http_chatport_conversations },

    { ngx_string("conversations/*/messages"), NGX_HTTP_GET|NGX_HTTP_POST,
      ngx_string("GET, POST"), ngx_http_chatport_conversation_messages },

    { ngx_string("conversations/*/images"), NGX_HTTP_POST,
      ngx_string("POST"), ngx_http_chatport_upload_agent },

    { ngx_string("conversations/*/images/*"), NGX_HTTP_GET|NGX_HTTP_HEAD,
      ngx_string("GET, HEAD"), ngx_http_chatport_upload_agent_get },

    { ngx_string("conversations/*/close"), NGX_HTTP_POST,
      ngx_string("POST"), ngx_http_chatport_close },

    { ngx_string("conversations/*/pages"), NGX_HTTP_GET,
      ngx_string("GET"), ngx_http_chatport_pages },
    { ngx_string("conversations/*/typing"), NGX_HTTP_POST,
      ngx_string("POST"), ngx_http_chatport_conversation_typing },

    { ngx_string("conversations/*/claim"), NGX_HTTP_POST,
      ngx_string("POST"), ngx_http_chatport_claim },

    { ngx_string("conversations/*/release"), NGX_HTTP_POST,
      ngx_string("POST"), ngx_http_chatport_release },

    { ngx_string("canned"), NGX_HTTP_GET|NGX_HTTP_POST,
      ngx_string("GET, POST"), ngx_http_chatport_canned },

    { ngx_string("canned/*"), NGX_HTTP_DELETE,
      ngx_string("DELETE"), ngx_http_chatport_canned_delete },

    { ngx_string("poll"), NGX_HTTP_GET,
      ngx_string("GET"), ngx_http_chatport_inbox_poll },

    { ngx_string("operators"), NGX_HTTP_GET,
      ngx_string("GET"), ngx_http_chatport_operators },

    { ngx_string("presence"), NGX_HTTP_POST,
      ngx_string("POST"), ngx_http_chatport_presence },

    { ngx_string("forms"), NGX_HTTP_GET,
      ngx_string("GET"), ngx_http_chatport_forms },

    { ngx_string("forms/*/state"), NGX_HTTP_POST,
      ngx_string("POST"), ngx_http_chatport_form_state },

    { ngx_string("export"), NGX_HTTP_GET,
      ngx_string("GET"), ngx_http_chatport_export },

    { ngx_string("erase"), NGX_HTTP_POST,
      ngx_string("POST"), ngx_http_chatport_erase },

    { ngx_null_string, 0, ngx_null_string, NULL }
};


static ngx_str_t  ngx_http_chatport_no_operator = ngx_string("operator");

static ngx_str_t  ngx_http_chatport_console_cache =
    ngx_string("private, no-cache");

static ngx_str_t  ngx_http_chatport_console_frames = ngx_string("DENY");

static ngx_str_t  ngx_http_chatport_console_csp =
    ngx_string("default-src 'none'; script-src 'self'; style-src 'self'; "
               "connect-src 'self'; img-src 'self' data:; "
               "frame-ancestors 'none'; base-uri 'none'; form-action 'self'");


ngx_int_t
ngx_http_chatport_agent_handler(ngx_http_request_t *r)
{
    ngx_int_t                      rc;
    ngx_http_chatport_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);

    /*
     * The console must never be open by accident: a location that neither
     * auth_basic nor auth_request protects serves nothing, whatever
     * credentials the client sends.
     */

    if (!clcf->agent_protected) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "chatport: operator request refused: protect "
                      "the \"chatport_agent\" location \"%V\" with "
                      "auth_basic or auth_request", &clcf->agent_prefix);

        return ngx_http_chatport_send_error(r, NGX_HTTP_FORBIDDEN,
                                            "not_protected",
                                            "the operator console is not "
                                            "protected by a login");
    }

    rc = ngx_http_chatport_sites_check(r, &clcf->agent_prefix);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    return ngx_http_chatport_dispatch(r, &clcf->agent_prefix,
                                      ngx_http_chatport_agent_routes);
}


/* called when the agent location's configuration is merged */

ngx_uint_t
ngx_http_chatport_agent_protected(ngx_conf_t *cf)
{
    ngx_http_chatport_auth_basic_conf_t    *basic;
    ngx_http_chatport_auth_request_conf_t  *request;

    basic = ngx_http_conf_get_module_loc_conf(cf, ngx_http_auth_basic_module);
    request = ngx_http_conf_get_module_loc_conf(cf,
                                                ngx_http_auth_request_module);

    if (request->uri.len) {
        return 1;
    }

    if (basic->realm == NULL || basic->user_file == NULL) {
        return 0;
    }

    /* "auth_basic off" is kept as a realm of "off" */
    return !(basic->realm->lengths == NULL
             && basic->realm->value.len == 3
             && ngx_strncmp(basic->realm->value.data, "off", 3) == 0);
}


ngx_str_t *
ngx_http_chatport_operator(ngx_http_request_t *r)
{
    /* auth_request may let in a request without Basic credentials */
    if (ngx_http_auth_basic_user(r) != NGX_OK
        || r->headers_in.user.len == 0)
    {
        return &ngx_http_chatport_no_operator;
    }

    return &r->headers_in.user;
}


/*
 * The console is never framed (clickjacking an operator's replies), runs
 * only its own script and style, and stays out of shared caches.
 */

static ngx_int_t
ngx_http_chatport_console(ngx_http_request_t *r, ngx_str_t *arg)
{
    if (ngx_http_chatport_add_header(r, "X-Frame-Options",
                                     &ngx_http_chatport_console_frames)
        != NGX_OK
        || ngx_http_chatport_add_header(r, "Content-Security-Policy",
                                        &ngx_http_chatport_console_csp)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_chatport_asset_send(r, "console",
                                        &ngx_http_chatport_console_cache);
}


static ngx_int_t
ngx_http_chatport_console_js(ngx_http_request_t *r, ngx_str_t *arg)
{
    return ngx_http_chatport_asset_send(r, "console.js",
                                        &ngx_http_chatport_console_cache);
}


static ngx_int_t
ngx_http_chatport_console_css(ngx_http_request_t *r, ngx_str_t *arg)
{
    return ngx_http_chatport_asset_send(r, "console.css",
                                        &ngx_http_chatport_console_cache);
}


/* the console's own settings, and its operator's presence */

static ngx_int_t
ngx_http_chatport_session(ngx_http_request_t *r, ngx_str_t *arg)
{
    return ngx_http_chatport_presence_read(r,
                                           ngx_http_chatport_session_done);
}


static void
ngx_http_chatport_session_done(void *data, redisReply *reply, ngx_int_t rc)
{
    ngx_http_chatport_agent_ctx_t  *ctx = data;

    ngx_int_t                      n;
    ngx_str_t                     *operator, *site;
    ngx_uint_t                     i;
    ngx_http_request_t            *r;
    ngx_http_chatport_json_t       j;
    ngx_http_chatport_error_t      err;
    ngx_http_chatport_operator_t   op;
    ngx_http_chatport_srv_conf_t  *cscf;
    ngx_http_chatport_loc_conf_t  *clcf;

    r = ctx->call.request;

    cscf = ngx_http_get_module_srv_conf(r, ngx_http_chatport_module);
    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);

    if (ngx_http_chatport_store_status(reply, rc, r->connection->log)
        != NGX_HTTP_CHATPORT_STORE_OK)
    {
        ngx_http_chatport_store_error(NGX_HTTP_CHATPORT_STORE_UNAVAILABLE,
                                      NULL, &err);
        ngx_http_chatport_call_done(&ctx->call,
                                    ngx_http_chatport_send_error(r,
                                                                 err.status,
                                                                 err.code,
                                                                 err.message));
        return;
    }

    operator = ngx_http_chatport_operator(r);

    /* an operator who never chose is away */
    ngx_str_set(&op.status, "away");
    op.left = 0;

    for (i = 0; /* void */ ; i++) {
        n = ngx_http_chatport_presence_operator(reply, i, &op);

        if (n != NGX_OK) {
            ngx_str_set(&op.status, "away");
            op.left = 0;
            break;
        }

        if (op.name.len == operator->len
            && ngx_strncmp(op.name.data, operator->data, operator->len) == 0)
        {
            break;
        }
    }

    ngx_http_chatport_json_init(&j, r->pool);

    ngx_http_chatport_json_literal(&j, "{\"operator\":");
    ngx_http_chatport_json_string(&j, operator);
    ngx_http_chatport_json_literal(&j, ",\"site\":");
    ngx_http_chatport_json_string(&j, &ctx->message.site);

    /* a console of several sites shows them all */
    if (clcf->agent_sites) {
        ngx_http_chatport_json_literal(&j, ",\"sites\":[");
        site = clcf->agent_sites->elts;

        for (i = 0; i < clcf->agent_sites->nelts; i++) {
            if (i) {
                ngx_http_chatport_json_literal(&j, ",");
            }

            ngx_http_chatport_json_string(&j, &site[i]);
        }

        ngx_http_chatport_json_literal(&j, "]");
    }
    ngx_http_chatport_json_literal(&j, ",\"lang\":");
    ngx_http_chatport_json_string(&j,
                                  &ngx_http_chatport_lang_names[clcf->lang]);
    ngx_http_chatport_json_literal(&j, ",\"title\":");

    if (clcf->title.len) {
        ngx_http_chatport_json_string(&j, &clcf->title);

    } else {
        ngx_http_chatport_json_literal(&j, "null");
    }

    ngx_http_chatport_json_literal(&j, ",\"max_message\":");
    ngx_http_chatport_json_int(&j, clcf->max_message);
    ngx_http_chatport_json_literal(&j, ",\"status\":");
    ngx_http_chatport_json_string(&j, &op.status);
    ngx_http_chatport_json_literal(&j, ",\"available\":");
    ngx_http_chatport_json_bool(&j, op.left > 0);
    ngx_http_chatport_json_literal(&j, ",\"hours_open\":");
    ngx_http_chatport_json_bool(&j,
                                ngx_http_chatport_hours_open(clcf->hours,
                                                             cscf->tz,
                                                             ngx_time()));
    ngx_http_chatport_json_literal(&j, ",\"presence_grace\":");
    ngx_http_chatport_json_int(&j, clcf->presence_grace / 1000);
    ngx_http_chatport_names_json(r, &j, operator);
    ngx_http_chatport_json_literal(&j, "}\n");

    ngx_http_chatport_call_done(&ctx->call,
                                ngx_http_chatport_send_built(r, NGX_HTTP_OK,
                                                             &j));
}


/*
 * The site's operators: those with a status or a console seen. A console
 * counts as connected while a poll of its is held (the record of a held
 * poll outlasts the grace).
 */

static ngx_int_t
ngx_http_chatport_operators(ngx_http_request_t *r, ngx_str_t *arg)
{
    return ngx_http_chatport_presence_read(r,
                                           ngx_http_chatport_operators_done);
}


static void
ngx_http_chatport_operators_done(void *data, redisReply *reply,
    ngx_int_t rc)
{
    ngx_http_chatport_agent_ctx_t  *ctx = data;

    ngx_int_t                      n, now;
    ngx_uint_t                     i, connected;
    ngx_http_request_t            *r;
    ngx_http_chatport_json_t       j;
    ngx_http_chatport_error_t      err;
    ngx_http_chatport_operator_t   op;
    ngx_http_chatport_loc_conf_t  *clcf;

    r = ctx->call.request;
    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);

    n = NGX_ERROR;

    if (ngx_http_chatport_store_status(reply, rc, r->connection->log)
        == NGX_HTTP_CHATPORT_STORE_OK
        && reply->type == REDIS_REPLY_ARRAY && reply->elements >= 2
        && reply->element[1]->type == REDIS_REPLY_INTEGER)
    {
        n = NGX_OK;
    }

    if (n != NGX_OK) {
        ngx_http_chatport_store_error(NGX_HTTP_CHATPORT_STORE_UNAVAILABLE,
                                      NULL, &err);
        ngx_http_chatport_call_done(&ctx->call,
                                    ngx_http_chatport_send_error(r,
                                                                 err.status,
                                                                 err.code,
                                                                 err.message));
        return;
    }

    now = reply->element[1]->integer;

    ngx_http_chatport_json_init(&j, r->pool);
    ngx_http_chatport_json_literal(&j, "{\"operators\":[");

    for (i = 0; ngx_http_chatport_presence_operator(reply, i, &op) == NGX_OK;
         i++)
    {
        connected = (op.connected > (int64_t) clcf->presence_grace);

        if (i) {
            ngx_http_chatport_json_literal(&j, ",");
        }

        ngx_http_chatport_json_literal(&j, "{\"name\":");
        ngx_http_chatport_json_string(&j, &op.name);
        ngx_http_chatport_json_literal(&j, ",\"status\":");
        ngx_http_chatport_json_string(&j, &op.status);
        ngx_http_chatport_json_literal(&j, ",\"available\":");
        ngx_http_chatport_json_bool(&j, op.left > 0);
        ngx_http_chatport_json_literal(&j, ",\"connected\":");
        ngx_http_chatport_json_bool(&j, connected);
        ngx_http_chatport_json_literal(&j, ",\"last_seen\":");

        if (connected) {
            ngx_http_chatport_json_int(&j, now);

        } else if (op.seen) {
            ngx_http_chatport_json_int(&j, op.seen);

        } else {
            ngx_http_chatport_json_literal(&j, "null");
        }

        ngx_http_chatport_json_literal(&j, "}");
    }

    ngx_http_chatport_json_literal(&j, "]}\n");

    ngx_http_chatport_call_done(&ctx->call,
                                ngx_http_chatport_send_built(r, NGX_HTTP_OK,
                                                             &j));
}


static ngx_int_t
ngx_http_chatport_presence_read(ngx_http_request_t *r,
    ngx_http_chatport_redis_pt handler)
{
    ngx_int_t                       rc;
    ngx_http_chatport_agent_ctx_t  *ctx;

    ctx = ngx_http_chatport_agent_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_chatport_store_presence(r->pool, &ctx->message.site, "read",
                                          NULL, NULL, 0, handler, ctx,
                                          &ctx->call.cmd);

    return ngx_http_chatport_call_started(&ctx->call, rc);
}


static ngx_int_t
ngx_http_chatport_conversation_messages(ngx_http_request_t *r,
    ngx_str_t *arg)
{
    ngx_int_t                       rc;
    ngx_str_t                       after, images;
    ngx_http_chatport_loc_conf_t   *clcf;
    ngx_http_chatport_agent_ctx_t  *ctx;

    if (ngx_http_chatport_cid(r, arg) != NGX_OK) {
        return ngx_http_chatport_send_error(r, NGX_HTTP_FORBIDDEN,
                                            "unknown_conversation",
                                            "no such conversation here");
    }

    ctx = ngx_http_chatport_agent_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->message.cid = *arg;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);

    if (r->method == NGX_HTTP_POST) {
        /* the post handler finds the conversation through the ctx */
        ngx_http_set_ctx(r, ctx, ngx_http_chatport_module);

        return ngx_http_chatport_read_json(r,
                                           ngx_http_chatport_body_limit(clcf),
                                           ngx_http_chatport_reply_body);
    }

    if (ngx_http_chatport_cursor(r, &after) != NGX_OK) {
        return ngx_http_chatport_send_error(r, NGX_HTTP_BAD_REQUEST,
                                            "invalid_cursor",
                                            "\"after\" is not a message id");
    }

    if (ngx_http_chatport_upload_url(r->pool, &clcf->agent_prefix,
                                     "conversations/", arg, &images)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /*
     * an operator reading the conversation has read it, and has seen the
     * visitor's messages in it
     */
    rc = ngx_http_chatport_store_read(r->pool, &ctx->message.site,
                                      &ctx->message.cid, &after,
                                      clcf->history, 1, NULL, NULL, &images,
                                      ngx_http_chatport_call_json, ctx,
                                      &ctx->call.cmd);

    return ngx_http_chatport_call_started(&ctx->call, rc);
}


static void
ngx_http_chatport_reply_body(ngx_http_request_t *r)
{
    json_t                         *root;
    ngx_int_t                       rc;
    ngx_str_t                       page;
    ngx_http_chatport_loc_conf_t   *clcf;
    ngx_http_chatport_agent_ctx_t  *ctx;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);
    ctx = ngx_http_get_module_ctx(r, ngx_http_chatport_module);

    root = ngx_http_chatport_body_json(r, ngx_http_chatport_body_limit(clcf));
    if (root == NULL) {
        return;
    }

    rc = ngx_http_chatport_message_text(r, root, &ctx->message.text, &page);

    if (rc == NGX_OK) {
        rc = ngx_http_chatport_json_key(r, root, &ctx->message.key);
    }

    json_decref(root);

    if (rc != NGX_OK) {
        return;
    }

    ngx_str_set(&ctx->message.from, "agent");
    ctx->message.agent = *ngx_http_chatport_operator(r);
    ngx_http_chatport_operator_name_set(r, &ctx->message);
    ctx->message.history = clcf->history;
    ctx->message.retention = clcf->retention;

    /* an operator never opens a conversation: the rates do not apply */
    ctx->message.client = r->connection->addr_text;
    ctx->message.rate = &clcf->chat_rate;
    ctx->message.site_rate = &clcf->chat_site_rate;
    ctx->message.mail = clcf->mail;

    rc = ngx_http_chatport_store_append(r->pool, &ctx->message,
                                        ngx_http_chatport_reply_done, ctx,
                                        &ctx->call.cmd);

    ngx_http_chatport_call_posted(&ctx->call, rc);
}


static void
ngx_http_chatport_reply_done(void *data, redisReply *reply, ngx_int_t rc)
{
    ngx_http_chatport_agent_ctx_t  *ctx = data;

    ngx_http_request_t                *r;
    ngx_http_chatport_store_status_e   status;

    r = ctx->call.request;

    status = ngx_http_chatport_store_status(reply, rc, r->connection->log);

    /* a repeated key is answered with the first post's id */
    if (status != NGX_HTTP_CHATPORT_STORE_REPEAT
        && (status != NGX_HTTP_CHATPORT_STORE_OK
            || reply->type != REDIS_REPLY_STRING))
    {
        ngx_http_chatport_call_failed(&ctx->call, status);
        return;
    }

    ngx_http_chatport_call_done(&ctx->call,
                                ngx_http_chatport_send_created(r, reply));
}


static ngx_int_t
ngx_http_chatport_close(ngx_http_request_t *r, ngx_str_t *arg)
{
    ngx_int_t                       rc;
    ngx_http_chatport_loc_conf_t   *clcf;
    ngx_http_chatport_agent_ctx_t  *ctx;

    if (ngx_http_chatport_same_origin(r) != NGX_OK) {
        return ngx_http_chatport_send_error(r, NGX_HTTP_FORBIDDEN,
                                            "cross_origin",
                                            "requests from other sites "
                                            "are refused");
    }

    /* as for every operator POST: a page of another site cannot send it
     * without a CORS preflight */
    if (ngx_http_chatport_json_request(r) != NGX_OK) {
        return ngx_http_chatport_send_error(r,
                                            NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                            "unsupported_media_type",
                                            "send application/json");
    }

    if (ngx_http_chatport_cid(r, arg) != NGX_OK) {
        return ngx_http_chatport_send_error(r, NGX_HTTP_FORBIDDEN,
                                            "unknown_conversation",
                                            "no such conversation here");
    }

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);

    ctx = ngx_http_chatport_agent_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_chatport_store_close(r->pool, &ctx->message.site, arg,
                                       clcf->retention,
                                       ngx_http_chatport_call_empty, ctx,
                                       &ctx->call.cmd);

    return ngx_http_chatport_call_started(&ctx->call, rc);
}


static ngx_int_t
ngx_http_chatport_conversation_typing(ngx_http_request_t *r, ngx_str_t *arg)
{
    if (ngx_http_chatport_cid(r, arg) != NGX_OK) {
        return ngx_http_chatport_send_error(r, NGX_HTTP_FORBIDDEN,
                                            "unknown_conversation",
                                            "no such conversation here");
    }

    return ngx_http_chatport_typing_agent(r, arg,
                                          ngx_http_chatport_operator(r));
}


static ngx_int_t
ngx_http_chatport_inbox_poll(ngx_http_request_t *r, ngx_str_t *arg)
{
    ngx_int_t                       rc;
    ngx_str_t                       after, channel, *site;
    ngx_http_chatport_waiter_t     *w;
    ngx_http_chatport_loc_conf_t   *clcf;

    if (ngx_http_chatport_cursor(r, &after) != NGX_OK) {
        return ngx_http_chatport_send_error(r, NGX_HTTP_BAD_REQUEST,
                                            "invalid_cursor",
                                            "\"after\" is not an event id");
    }

    if (after.len == 0) {
        ngx_str_set(&after, "0-0");
    }

    /* one site's inbox: a console of several sites polls each of them */
    site = ngx_http_chatport_request_site(r);
    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);

    if (ngx_http_chatport_store_inbox_channel(r->pool, site, &channel)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    w = ngx_http_chatport_waiter_create(r, &channel, &after,
                                        clcf->poll_timeout, "events",
                                        ngx_http_chatport_inbox_check);
    if (w == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    w->data = site;
    w->unknown = "unknown_conversation";

    rc = ngx_http_chatport_waiter_start(w);

    if (rc == NGX_DECLINED) {
        return ngx_http_chatport_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                            "unavailable",
                                            "the chat store is unavailable");
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* a console holding its poll is what makes its operator available */
    if (ngx_http_chatport_presence_poll(r, site,
                                        ngx_http_chatport_operator(r),
                                        clcf->poll_timeout,
                                        clcf->presence_grace)
        != NGX_OK)
    {
        /* the waiter owns the request now */
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "chatport: could not record an operator's poll");
    }

    return NGX_DONE;
}


static ngx_int_t
ngx_http_chatport_inbox_check(ngx_http_chatport_waiter_t *w)
{
    return ngx_http_chatport_store_stream(w->request->pool, w->data, "inbox",
                                          &w->cursor,
                                          NGX_HTTP_CHATPORT_EVENTS_MAX,
                                          ngx_http_chatport_waiter_read_done,
                                          w,
                                          &w->cmd);
}


static ngx_int_t
ngx_http_chatport_presence(ngx_http_request_t *r, ngx_str_t *arg)
{
    return ngx_http_chatport_read_json(r, NGX_HTTP_CHATPORT_SMALL_BODY,
                                       ngx_http_chatport_presence_body);
}


static void
ngx_http_chatport_presence_body(ngx_http_request_t *r)
{
    json_t                         *root;
    ngx_int_t                       rc, named;
    ngx_str_t                       status, name, *site;
    ngx_http_chatport_agent_ctx_t  *ctx;

    root = ngx_http_chatport_body_json(r, NGX_HTTP_CHATPORT_SMALL_BODY);
    if (root == NULL) {
        return;
    }

    rc = ngx_http_chatport_json_get_string(r->pool, root, "status", &status);
    named = ngx_http_chatport_json_get_string(r->pool, root, "site", &name);

    json_decref(root);

    /* the site is the body's "site", or the query's */
    site = ngx_http_chatport_request_site(r);

    if (named == NGX_OK) {
        site = ngx_http_chatport_sites_find(r, &name);
    }

    if (named == NGX_ERROR || site == NULL) {
        ngx_http_finalize_request(r,
            ngx_http_chatport_send_error(r, NGX_HTTP_BAD_REQUEST,
                                         "invalid_site",
                                         "\"site\" is not a site of this "
                                         "console"));
        return;
    }

    if (!(rc == NGX_OK
          && ((status.len == 6 && ngx_strncmp(status.data, "online", 6) == 0)
              || (status.len == 4
                  && ngx_strncmp(status.data, "away", 4) == 0))))
    {
        ngx_http_finalize_request(r,
            ngx_http_chatport_send_error(r, NGX_HTTP_BAD_REQUEST,
                                         "invalid_status",
                                         "\"status\" is \"online\" or "
                                         "\"away\""));
        return;
    }

    ctx = ngx_http_chatport_agent_ctx(r);
    if (ctx == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    /* kept until changed: across console and nginx reloads */
    rc = ngx_http_chatport_store_presence(r->pool, site,
                                          "status",
                                          ngx_http_chatport_operator(r),
                                          &status, 0,
                                          ngx_http_chatport_call_empty,
                                          ctx, &ctx->call.cmd);

    ngx_http_chatport_call_posted(&ctx->call, rc);
}


/* a conversation id: 32 lowercase hex digits */

ngx_int_t
ngx_http_chatport_cid(ngx_http_request_t *r, ngx_str_t *arg)
{
    ngx_uint_t  i;

    if (arg->len != NGX_HTTP_CHATPORT_CID_LEN) {
        return NGX_DECLINED;
    }

    for (i = 0; i < arg->len; i++) {
        if (!((arg->data[i] >= '0' && arg->data[i] <= '9')
              || (arg->data[i] >= 'a' && arg->data[i] <= 'f')))
        {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


static ngx_http_chatport_agent_ctx_t *
ngx_http_chatport_agent_ctx(ngx_http_request_t *r)
{
    ngx_http_chatport_agent_ctx_t  *ctx;

    ctx = ngx_http_chatport_call_create(r,
                                        sizeof(ngx_http_chatport_agent_ctx_t),
                                        "unknown_conversation");
    if (ctx == NULL) {
        return NULL;
    }

    ctx->message.site = *ngx_http_chatport_sites_first(r);

    return ctx;
}
