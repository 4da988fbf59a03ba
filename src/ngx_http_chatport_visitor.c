
/*
 * ChatPort: the visitor's endpoints below the "chatport" location.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_chatport.h"
#include "ngx_http_chatport_assets.h"
#include "ngx_http_chatport_http.h"
#include "ngx_http_chatport_call.h"
#include "ngx_http_chatport_contact.h"
#include "ngx_http_chatport_seen.h"
#include "ngx_http_chatport_form.h"
#include "ngx_http_chatport_identity.h"
#include "ngx_http_chatport_json.h"
#include "ngx_http_chatport_notify.h"
#include "ngx_http_chatport_page.h"
#include "ngx_http_chatport_presence.h"
#include "ngx_http_chatport_store.h"
#include "ngx_http_chatport_typing.h"
#include "ngx_http_chatport_upload.h"
#include "ngx_http_chatport_waiters.h"



typedef struct {
    ngx_http_chatport_call_t         call;
    ngx_http_chatport_message_t      message;
    ngx_str_t                        vid;
    ngx_uint_t                       new_visitor;   /* unsigned:1 */
} ngx_http_chatport_visitor_ctx_t;


/*
 * A parked poll's own: only what its reads need, as it lives as long as
 * the poll (a message's ctx would take 400 bytes of the request's pool).
 */

typedef struct {
    ngx_str_t                       *site;
    ngx_str_t                        cid;
    ngx_str_t                        seen;          /* the seen id the */
                                                    /* widget shows, or "" */
    char                            *known;         /* ... the status */
    ngx_int_t                        history;
} ngx_http_chatport_poll_ctx_t;


static ngx_int_t ngx_http_chatport_widget_js(ngx_http_request_t *r,
    ngx_str_t *arg);
static ngx_int_t ngx_http_chatport_widget_css(ngx_http_request_t *r,
    ngx_str_t *arg);
static ngx_int_t ngx_http_chatport_config(ngx_http_request_t *r,
    ngx_str_t *arg);
static void ngx_http_chatport_config_done(void *data, redisReply *reply,
    ngx_int_t rc);
static ngx_int_t ngx_http_chatport_config_send(ngx_http_request_t *r,
    ngx_uint_t online);
static ngx_int_t ngx_http_chatport_messages(ngx_http_request_t *r,
    ngx_str_t *arg);
static ngx_int_t ngx_http_chatport_poll(ngx_http_request_t *r,
    ngx_str_t *arg);

static void ngx_http_chatport_post_body(ngx_http_request_t *r);
static char *ngx_http_chatport_check_text(ngx_str_t *text,
    ngx_http_chatport_loc_conf_t *clcf, ngx_uint_t *status);
static ngx_int_t ngx_http_chatport_append(
    ngx_http_chatport_visitor_ctx_t *ctx);
static void ngx_http_chatport_append_done(void *data, redisReply *reply,
    ngx_int_t rc);
static ngx_int_t ngx_http_chatport_notify_conversation(
    ngx_http_chatport_visitor_ctx_t *ctx, ngx_str_t *id);
static ngx_int_t ngx_http_chatport_created(
    ngx_http_chatport_visitor_ctx_t *ctx, redisReply *reply,
    ngx_uint_t stored);
static ngx_int_t ngx_http_chatport_poll_check(ngx_http_chatport_waiter_t *w);


static ngx_http_chatport_route_t  ngx_http_chatport_visitor_routes[] = {

    { ngx_string("widget.js"), NGX_HTTP_GET|NGX_HTTP_HEAD,
      ngx_string("GET, HEAD"), ngx_http_chatport_widget_js },

    { ngx_string("widget.css"), NGX_HTTP_GET|NGX_HTTP_HEAD,
      ngx_string("GET, HEAD"), ngx_http_chatport_widget_css },

    { ngx_string("config"), NGX_HTTP_GET|NGX_HTTP_HEAD,
      ngx_string("GET, HEAD"), ngx_http_chatport_config },

    { ngx_string("messages"), NGX_HTTP_GET|NGX_HTTP_POST,
      ngx_string("GET, POST"), ngx_http_chatport_messages },

    { ngx_string("poll"), NGX_HTTP_GET,
      ngx_string("GET"), ngx_http_chatport_poll },

    { ngx_string("form"), NGX_HTTP_POST,
      ngx_string("POST"), ngx_http_chatport_form },

    { ngx_string("contact"), NGX_HTTP_POST,
      ngx_string("POST"), ngx_http_chatport_contact },

    { ngx_string("seen"), NGX_HTTP_POST,
      ngx_string("POST"), ngx_http_chatport_seen },

    { ngx_string("page"), NGX_HTTP_POST,
      ngx_string("POST"), ngx_http_chatport_page },
    { ngx_string("typing"), NGX_HTTP_POST,
      ngx_string("POST"), ngx_http_chatport_typing },

    { ngx_string("images"), NGX_HTTP_POST,
      ngx_string("POST"), ngx_http_chatport_upload_visitor },

    { ngx_string("images/*"), NGX_HTTP_GET|NGX_HTTP_HEAD,
      ngx_string("GET, HEAD"), ngx_http_chatport_upload_visitor_get },

    { ngx_null_string, 0, ngx_null_string, NULL }
};


/* the texts used when chatport_title or chatport_greeting is not set */
static ngx_str_t  ngx_http_chatport_default_title[] = {
    ngx_null_string,                               /* auto: the widget's */
    ngx_string("Chat with us"),
    ngx_string("\xe3\x81\x8a\xe5\x95\x8f\xe3\x81\x84\xe5\x90\x88\xe3\x82"
               "\x8f\xe3\x81\x9b")                 /* o-toiawase */
};

static ngx_str_t  ngx_http_chatport_default_greeting[] = {
    ngx_null_string,
    ngx_string("Hi! How can we help you?"),
    ngx_string("\xe3\x81\x94\xe8\xb3\xaa\xe5\x95\x8f\xe3\x81\xaf\xe3\x81\x8a"
               "\xe6\xb0\x97\xe8\xbb\xbd\xe3\x81\xab\xe3\x81\xa9\xe3\x81\x86"
               "\xe3\x81\x9e\xe3\x80\x82")         /* feel free to ask */
};

/* the widget opens the chat or the form from it: never an old answer */
static ngx_str_t  ngx_http_chatport_config_cache =
    ngx_string("no-cache");

static ngx_str_t  ngx_http_chatport_widget_cache =
    ngx_string("public, max-age=600");


ngx_int_t
ngx_http_chatport_visitor_handler(ngx_http_request_t *r)
{
    ngx_http_chatport_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);

    return ngx_http_chatport_dispatch(r, &clcf->prefix,
                                      ngx_http_chatport_visitor_routes);
}


static ngx_int_t
ngx_http_chatport_widget_js(ngx_http_request_t *r, ngx_str_t *arg)
{
    return ngx_http_chatport_asset_send(r, "widget.js",
                                        &ngx_http_chatport_widget_cache);
}


static ngx_int_t
ngx_http_chatport_widget_css(ngx_http_request_t *r, ngx_str_t *arg)
{
    return ngx_http_chatport_asset_send(r, "widget.css",
                                        &ngx_http_chatport_widget_cache);
}


static void
ngx_http_chatport_json_text(ngx_http_chatport_json_t *j, ngx_str_t *text,
    ngx_str_t *fallback)
{
    if (text->len) {
        ngx_http_chatport_json_string(j, text);

    } else if (fallback->len) {
        ngx_http_chatport_json_string(j, fallback);

    } else {
        ngx_http_chatport_json_literal(j, "null");
    }
}


/*
 * Online: business hours allow, and an operator of the site is available.
 * The answer comes from the worker's memory; only the first config of a
 * site reads Redis. Without Redis the widget shows the form rather than
 * an error.
 */

static ngx_int_t
ngx_http_chatport_config(ngx_http_request_t *r, ngx_str_t *arg)
{
    ngx_int_t                         rc;
    ngx_uint_t                        available;
    ngx_http_chatport_srv_conf_t     *cscf;
    ngx_http_chatport_loc_conf_t     *clcf;
    ngx_http_chatport_visitor_ctx_t  *ctx;

    cscf = ngx_http_get_module_srv_conf(r, ngx_http_chatport_module);
    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);

    if (!ngx_http_chatport_hours_open(clcf->hours, cscf->tz, ngx_time())) {
        return ngx_http_chatport_config_send(r, 0);
    }

    if (ngx_http_chatport_presence_cached(&cscf->site, &available) == NGX_OK) {
        return ngx_http_chatport_config_send(r, available);
    }

    ctx = ngx_http_chatport_call_create(r,
                                        sizeof(ngx_http_chatport_visitor_ctx_t),
                                        "unknown_visitor");
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_chatport_store_presence(r->pool, &cscf->site, "read", NULL,
                                          NULL, 0,
                                          ngx_http_chatport_config_done, ctx,
                                          &ctx->call.cmd);

    if (rc == NGX_DECLINED) {
        return ngx_http_chatport_config_send(r, 0);
    }

    return ngx_http_chatport_call_started(&ctx->call, rc);
}


static void
ngx_http_chatport_config_done(void *data, redisReply *reply, ngx_int_t rc)
{
    ngx_http_chatport_visitor_ctx_t  *ctx = data;

    ngx_uint_t                     online;
    ngx_http_request_t            *r;
    ngx_http_chatport_srv_conf_t  *cscf;

    r = ctx->call.request;
    cscf = ngx_http_get_module_srv_conf(r, ngx_http_chatport_module);

    online = (ngx_http_chatport_store_status(reply, rc, r->connection->log)
              == NGX_HTTP_CHATPORT_STORE_OK
              && ngx_http_chatport_presence_learn(&cscf->site, reply)
                 == NGX_OK
              && reply->element[0]->integer > 0);

    ngx_http_chatport_call_done(&ctx->call,
                                ngx_http_chatport_config_send(r, online));
}


static ngx_int_t
ngx_http_chatport_config_send(ngx_http_request_t *r, ngx_uint_t online)
{
    ngx_str_t                      body;
    ngx_http_chatport_json_t       j;
    ngx_http_chatport_srv_conf_t  *cscf;
    ngx_http_chatport_loc_conf_t  *clcf;

    cscf = ngx_http_get_module_srv_conf(r, ngx_http_chatport_module);
    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);

    ngx_http_chatport_json_init(&j, r->pool);

    ngx_http_chatport_json_literal(&j, "{\"site\":");
    ngx_http_chatport_json_string(&j, &cscf->site);

    ngx_http_chatport_json_literal(&j, ",\"online\":");
    ngx_http_chatport_json_bool(&j, online);

    ngx_http_chatport_json_literal(&j, ",\"title\":");
    ngx_http_chatport_json_text(&j, &clcf->title,
                                &ngx_http_chatport_default_title[clcf->lang]);

    ngx_http_chatport_json_literal(&j, ",\"greeting\":");
    ngx_http_chatport_json_text(&j, &clcf->greeting,
                            &ngx_http_chatport_default_greeting[clcf->lang]);

    ngx_http_chatport_json_literal(&j, ",\"color\":");
    ngx_http_chatport_json_string(&j, &clcf->color);

    ngx_http_chatport_json_literal(&j, ",\"lang\":");
    ngx_http_chatport_json_string(&j,
                                  &ngx_http_chatport_lang_names[clcf->lang]);

    ngx_http_chatport_json_literal(&j, ",\"max_message\":");
    ngx_http_chatport_json_int(&j, clcf->max_message);

    ngx_http_chatport_json_literal(&j, ",\"reply_wait\":");
    ngx_http_chatport_json_int(&j, clcf->reply_wait);

    ngx_http_chatport_json_literal(&j, ",\"form\":{\"fields\":");
    ngx_http_chatport_form_fields_json(&j, clcf->form_fields,
                                 ngx_http_chatport_custom_lang(r, clcf->lang));
    ngx_http_chatport_json_literal(&j, "}");
    ngx_http_chatport_custom_json(&j, &clcf->custom);
    ngx_http_chatport_json_literal(&j, "}\n");

    if (ngx_http_chatport_json_result(&j, &body) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_chatport_add_header(r, "Cache-Control",
                                     &ngx_http_chatport_config_cache)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_chatport_send_json(r, NGX_HTTP_OK, &body);
}


static ngx_int_t
ngx_http_chatport_messages(ngx_http_request_t *r, ngx_str_t *arg)
{
    ngx_int_t                         rc;
    ngx_str_t                         after, vid, images;
    ngx_http_chatport_json_t          j;
    ngx_http_chatport_srv_conf_t     *cscf;
    ngx_http_chatport_loc_conf_t     *clcf;
    ngx_http_chatport_visitor_ctx_t  *ctx;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);

    if (r->method == NGX_HTTP_POST) {
        return ngx_http_chatport_read_json(r,
                                           ngx_http_chatport_body_limit(clcf),
                                           ngx_http_chatport_post_body);
    }

    if (ngx_http_chatport_cursor(r, &after) != NGX_OK) {
        return ngx_http_chatport_send_error(r, NGX_HTTP_BAD_REQUEST,
                                            "invalid_cursor",
                                            "\"after\" is not a message id");
    }

    rc = ngx_http_chatport_visitor_cookie(r, &vid);

    if (rc == NGX_DECLINED) {
        /* no conversation yet: an empty history */

        ngx_http_chatport_json_init(&j, r->pool);
        ngx_http_chatport_json_literal(&j, "{\"messages\":[],\"events\":[],"
                                           "\"cursor\":");

        if (after.len == 0) {
            ngx_str_set(&after, "0-0");
        }

        ngx_http_chatport_json_string(&j, &after);
        ngx_http_chatport_json_literal(&j, "}\n");

        return ngx_http_chatport_send_built(r, NGX_HTTP_OK, &j);
    }

    if (rc != NGX_OK) {
        return ngx_http_chatport_send_error(r, NGX_HTTP_FORBIDDEN,
                                            "unknown_visitor",
                                            "no conversation for this "
                                            "visitor");
    }

    ctx = ngx_http_chatport_call_create(r,
                                        sizeof(ngx_http_chatport_visitor_ctx_t),
                                        "unknown_visitor");
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cscf = ngx_http_get_module_srv_conf(r, ngx_http_chatport_module);

    if (ngx_http_chatport_visitor_cid(r->pool, &vid, &ctx->message.cid)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_chatport_upload_url(r->pool, &clcf->prefix, "images/", NULL,
                                     &images)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_chatport_store_read(r->pool, &cscf->site, &ctx->message.cid,
                                      &after, clcf->history, 0, "-", NULL,
                                      &images,
                                      ngx_http_chatport_call_json, ctx,
                                      &ctx->call.cmd);

    return ngx_http_chatport_call_started(&ctx->call, rc);
}


static void
ngx_http_chatport_post_body(ngx_http_request_t *r)
{
    json_t                           *root;
    ngx_int_t                         rc;
    ngx_str_t                         text, page, referrer, key;
    ngx_http_chatport_srv_conf_t     *cscf;
    ngx_http_chatport_loc_conf_t     *clcf;
    ngx_http_chatport_visitor_ctx_t  *ctx;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);
    cscf = ngx_http_get_module_srv_conf(r, ngx_http_chatport_module);

    root = ngx_http_chatport_body_json(r, ngx_http_chatport_body_limit(clcf));
    if (root == NULL) {
        return;
    }

    if (ngx_http_chatport_message_text(r, root, &text, &page) != NGX_OK
        || ngx_http_chatport_json_key(r, root, &key) != NGX_OK)
    {
        json_decref(root);
        return;
    }

    ngx_http_chatport_referrer(r, root, &page, &referrer);
    json_decref(root);

    ctx = ngx_http_chatport_call_create(r,
                                        sizeof(ngx_http_chatport_visitor_ctx_t),
                                        "unknown_visitor");
    if (ctx == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ctx->message.site = cscf->site;
    ngx_str_set(&ctx->message.from, "visitor");
    ctx->message.text = text;
    ctx->message.page = page;
    ctx->message.history = clcf->history;
    ctx->message.retention = clcf->retention;
    ctx->message.key = key;
    ctx->message.client = r->connection->addr_text;
    ctx->message.rate = &clcf->chat_rate;
    ctx->message.site_rate = &clcf->chat_site_rate;
    ctx->message.mail = clcf->mail;
    ctx->message.open = ngx_http_chatport_hours_open(clcf->hours, cscf->tz,
                                                     ngx_time());

    ctx->message.referrer = referrer;
    ngx_http_chatport_header_text(r->headers_in.user_agent,
                                  NGX_HTTP_CHATPORT_AGENT_MAX,
                                  &ctx->message.user_agent);

    rc = ngx_http_chatport_visitor_cookie(r, &ctx->vid);

    if (rc != NGX_OK) {
        /* a missing or malformed cookie: a new visitor, never its value */
        if (ngx_http_chatport_new_visitor(r->pool, &ctx->vid) != NGX_OK) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        ctx->new_visitor = 1;
    }

    /* the body reader's reference ends with the answer */
    ngx_http_chatport_call_posted(&ctx->call, ngx_http_chatport_append(ctx));
}


/*
 * NGX_OK: the answer comes from ngx_http_chatport_append_done();
 * NGX_DECLINED: Redis is unavailable; NGX_ERROR.
 */

static ngx_int_t
ngx_http_chatport_append(ngx_http_chatport_visitor_ctx_t *ctx)
{
    ngx_http_request_t  *r;

    r = ctx->call.request;

    if (ngx_http_chatport_visitor_cid(r->pool, &ctx->vid, &ctx->message.cid)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ctx->message.create = ctx->new_visitor;

    if (ctx->message.mail.len
        && ngx_http_chatport_console_link(r, &ctx->message.cid,
                                          &ctx->message.link)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_chatport_store_append(r->pool, &ctx->message,
                                          ngx_http_chatport_append_done, ctx,
                                          &ctx->call.cmd);
}


static void
ngx_http_chatport_append_done(void *data, redisReply *reply, ngx_int_t rc)
{
    ngx_http_chatport_visitor_ctx_t  *ctx = data;

    ngx_http_request_t                *r;
    ngx_http_chatport_error_t          err;
    ngx_http_chatport_store_status_e   status;

    r = ctx->call.request;
    ctx->call.cmd = NULL;

    status = ngx_http_chatport_store_status(reply, rc, r->connection->log);

    switch (status) {

    case NGX_HTTP_CHATPORT_STORE_OK:
    case NGX_HTTP_CHATPORT_STORE_REPEAT:
        rc = ngx_http_chatport_created(ctx, reply,
                                       status == NGX_HTTP_CHATPORT_STORE_OK);
        break;

    case NGX_HTTP_CHATPORT_STORE_RATE:
        rc = ngx_http_chatport_send_rate_limited(r, reply,
                                                 "too many new conversations, "
                                                 "try again later");
        break;

    case NGX_HTTP_CHATPORT_STORE_UNSAFE:
        ngx_http_chatport_store_error(status, ctx->call.unknown, &err);
        rc = ngx_http_chatport_send_error(r, err.status, err.code,
                                          err.message);
        break;

    case NGX_HTTP_CHATPORT_STORE_UNKNOWN:
        if (!ctx->new_visitor) {
            /* the conversation expired: start a new one, with a new id */
            if (ngx_http_chatport_new_visitor(r->pool, &ctx->vid) != NGX_OK) {
                rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
                break;
            }

            ctx->new_visitor = 1;
            rc = ngx_http_chatport_append(ctx);

            if (rc == NGX_OK) {
                return;
            }

            if (rc != NGX_DECLINED) {
                rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
                break;
            }
        }

        /* fall through */

    default:
        rc = ngx_http_chatport_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                          "unavailable",
                                          "the chat store is unavailable");
        break;
    }

    ngx_http_chatport_call_done(&ctx->call, rc);
}


/* stored: 0 for a repeated key, whose first post was told already */

static ngx_int_t
ngx_http_chatport_created(ngx_http_chatport_visitor_ctx_t *ctx,
    redisReply *reply, ngx_uint_t stored)
{
    ngx_str_t            id;
    ngx_http_request_t  *r;

    r = ctx->call.request;

    if (reply->type != REDIS_REPLY_STRING && reply->type != REDIS_REPLY_STATUS)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "chatport: unexpected reply from the append script");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    id.data = (u_char *) reply->str;
    id.len = reply->len;

    if (ctx->new_visitor) {
        if (stored
            && ngx_http_chatport_notify_conversation(ctx, &id) != NGX_OK)
        {
            /* a notification never fails the visitor's message */
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "chatport: cannot notify of a new conversation");
        }

        if (ngx_http_chatport_set_cookie(r, &ctx->vid) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return ngx_http_chatport_send_created(r, reply);
}


static ngx_int_t
ngx_http_chatport_notify_conversation(ngx_http_chatport_visitor_ctx_t *ctx,
    ngx_str_t *id)
{
    ngx_str_t                      event, link;
    ngx_http_request_t            *r;
    ngx_http_chatport_json_t       j;
    ngx_http_chatport_message_t   *m;
    ngx_http_chatport_loc_conf_t  *clcf;

    r = ctx->call.request;
    m = &ctx->message;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);

    if (clcf->notify.len == 0) {
        return NGX_OK;
    }

    if (ngx_http_chatport_console_link(r, &m->cid, &link) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_chatport_json_init(&j, r->pool);

    ngx_http_chatport_json_literal(&j,
                                   "{\"type\":\"conversation\",\"site\":");
    ngx_http_chatport_json_string(&j, &m->site);
    ngx_http_chatport_json_literal(&j, ",\"conversation\":");
    ngx_http_chatport_json_string(&j, &m->cid);
    ngx_http_chatport_json_literal(&j, ",\"page\":");
    ngx_http_chatport_json_string(&j, &m->page);
    ngx_http_chatport_json_literal(&j, ",\"referrer\":");
    ngx_http_chatport_json_string(&j, &m->referrer);
    ngx_http_chatport_json_literal(&j, ",\"user_agent\":");
    ngx_http_chatport_json_string(&j, &m->user_agent);
    ngx_http_chatport_json_literal(&j, ",\"message\":{\"id\":");
    ngx_http_chatport_json_string(&j, id);
    ngx_http_chatport_json_literal(&j, ",\"text\":");
    ngx_http_chatport_json_string(&j, &m->text);
    ngx_http_chatport_json_literal(&j, "},\"console\":");
    ngx_http_chatport_json_string(&j, &link);
    ngx_http_chatport_json_literal(&j, "}\n");

    if (ngx_http_chatport_json_result(&j, &event) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_chatport_notify(r, &event);
}


/*
 * A message's "text" and "page" from a JSON body, copied into the pool.
 * NGX_OK, or NGX_DONE when the request has been answered with the error.
 */

ngx_int_t
ngx_http_chatport_message_text(ngx_http_request_t *r, json_t *root,
    ngx_str_t *text, ngx_str_t *page)
{
    char                          *err;
    ngx_int_t                      rc, page_rc;
    ngx_uint_t                     status;
    ngx_http_chatport_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);

    rc = ngx_http_chatport_json_get_string(r->pool, root, "text", text);
    page_rc = ngx_http_chatport_json_get_string(r->pool, root, "page", page);

    status = NGX_HTTP_BAD_REQUEST;

    if (rc == NGX_DECLINED) {
        err = "missing_text";

    } else if (rc != NGX_OK) {
        err = "invalid_text";

    } else if (page_rc == NGX_ERROR) {
        err = "invalid_page";

    } else {
        err = ngx_http_chatport_check_text(text, clcf, &status);
    }

    if (err == NULL && page->len && !ngx_http_chatport_url(page)) {
        err = "invalid_page";
    }

    if (err == NULL) {
        return NGX_OK;
    }

    ngx_http_finalize_request(r,
        ngx_http_chatport_send_error(r, status, err,
                                     status == NGX_HTTP_BAD_REQUEST
                                     ? "\"text\" must be a non-empty string "
                                       "and \"page\" an http(s) URL of at "
                                       "most 2048 bytes"
                                     : "the text is longer than "
                                       "chatport_max_message"));
    return NGX_DONE;
}


/*
 * NULL when the text is fine, or an error code: empty, only white space,
 * control characters other than tab and line breaks, too long.
 */

static char *
ngx_http_chatport_check_text(ngx_str_t *text,
    ngx_http_chatport_loc_conf_t *clcf, ngx_uint_t *status)
{
    ngx_uint_t  blank;

    if (text->len > clcf->max_message) {
        *status = NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
        return "text_too_large";
    }

    if (ngx_http_chatport_utf8_text(text, 1, &blank) != NGX_OK) {
        return "invalid_text";
    }

    return blank ? "empty_text" : NULL;
}


static ngx_int_t
ngx_http_chatport_poll(ngx_http_request_t *r, ngx_str_t *arg)
{
    ngx_int_t                       rc;
    ngx_str_t                       after, vid, channel, known, seen;
    ngx_http_chatport_waiter_t     *w;
    ngx_http_chatport_poll_ctx_t   *ctx;
    ngx_http_chatport_stream_id_t   id;
    ngx_http_chatport_srv_conf_t   *cscf;
    ngx_http_chatport_loc_conf_t   *clcf;

    if (ngx_http_chatport_cursor(r, &after) != NGX_OK) {
        return ngx_http_chatport_send_error(r, NGX_HTTP_BAD_REQUEST,
                                            "invalid_cursor",
                                            "\"after\" is not a message id");
    }

    if (after.len == 0) {
        ngx_str_set(&after, "0-0");
    }

    if (ngx_http_arg(r, (u_char *) "seen", 4, &seen) != NGX_OK) {
        ngx_str_null(&seen);

    } else if (ngx_http_chatport_stream_id_parse(&seen, &id) != NGX_OK) {
        return ngx_http_chatport_send_error(r, NGX_HTTP_BAD_REQUEST,
                                            "invalid_seen",
                                            "\"seen\" is not a message id");
    }

    if (ngx_http_chatport_visitor_cookie(r, &vid) != NGX_OK) {
        return ngx_http_chatport_send_error(r, NGX_HTTP_FORBIDDEN,
                                            "unknown_visitor",
                                            "no conversation for this "
                                            "visitor");
    }

    cscf = ngx_http_get_module_srv_conf(r, ngx_http_chatport_module);
    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);

    ctx = ngx_palloc(r->pool, sizeof(ngx_http_chatport_poll_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->site = &cscf->site;
    ctx->history = clcf->history;

    /* the status the widget shows: a poll answers at once when it changed */
    ctx->known = (ngx_http_arg(r, (u_char *) "status", 6, &known) == NGX_OK
                  && known.len == 6
                  && ngx_strncmp(known.data, "closed", 6) == 0)
                 ? "closed" : "open";

    /* ... and the seen id it shows, when it tells (older widgets do not) */
    ctx->seen = seen;

    if (ngx_http_chatport_visitor_cid(r->pool, &vid, &ctx->cid) != NGX_OK
        || ngx_http_chatport_store_channel(r->pool, &cscf->site, &ctx->cid,
                                           &channel)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    w = ngx_http_chatport_waiter_create(r, &channel, &after,
                                        clcf->poll_timeout, "messages",
                                        ngx_http_chatport_poll_check);
    if (w == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    w->data = ctx;
    w->unknown = "unknown_visitor";
    w->events = 1;

    rc = ngx_http_chatport_waiter_start(w);

    if (rc == NGX_DECLINED) {
        return ngx_http_chatport_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                            "unavailable",
                                            "the chat store is unavailable");
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_DONE;
}


static ngx_int_t
ngx_http_chatport_poll_check(ngx_http_chatport_waiter_t *w)
{
    ngx_http_chatport_poll_ctx_t  *ctx = w->data;

    ngx_str_t                      images;
    ngx_http_chatport_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(w->request, ngx_http_chatport_module);

    if (ngx_http_chatport_upload_url(w->request->pool, &clcf->prefix,
                                     "images/", NULL, &images)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_chatport_store_read(w->request->pool, ctx->site,
                                        &ctx->cid, &w->cursor, ctx->history,
                                        0, ctx->known,
                                        ctx->seen.len ? &ctx->seen : NULL,
                                        &images,
                                        ngx_http_chatport_waiter_read_done, w,
                                        &w->cmd);
}
