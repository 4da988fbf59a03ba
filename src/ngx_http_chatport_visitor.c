
/*
 * ChatPort: the visitor's endpoints below the "chatport" location.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <ngx_sha1.h>

#include "ngx_http_chatport.h"
#include "ngx_http_chatport_assets.h"
#include "ngx_http_chatport_http.h"
#include "ngx_http_chatport_json.h"
#include "ngx_http_chatport_store.h"
#include "ngx_http_chatport_waiters.h"

#include <sys/random.h>


#define NGX_HTTP_CHATPORT_VID_LEN      32       /* hex of 128 bits */
#define NGX_HTTP_CHATPORT_PAGE_MAX     2048
#define NGX_HTTP_CHATPORT_REFERRER_MAX 2048
#define NGX_HTTP_CHATPORT_AGENT_MAX    512      /* User-Agent kept */

/* a body may hold the text escaped, the page and a little JSON */
#define ngx_http_chatport_body_limit(clcf)                                   \
    (2 * (clcf)->max_message + 8192)


typedef struct {
    ngx_http_request_t              *request;
    ngx_http_chatport_message_t      message;
    ngx_str_t                        vid;
    ngx_uint_t                       new_visitor;   /* unsigned:1 */
    ngx_http_chatport_redis_cmd_t   *cmd;
} ngx_http_chatport_visitor_ctx_t;


static ngx_int_t ngx_http_chatport_widget_js(ngx_http_request_t *r);
static ngx_int_t ngx_http_chatport_widget_css(ngx_http_request_t *r);
static ngx_int_t ngx_http_chatport_config(ngx_http_request_t *r);
static ngx_int_t ngx_http_chatport_messages(ngx_http_request_t *r);
static ngx_int_t ngx_http_chatport_poll(ngx_http_request_t *r);

static void ngx_http_chatport_post_body(ngx_http_request_t *r);
static char *ngx_http_chatport_check_text(ngx_str_t *text,
    ngx_http_chatport_loc_conf_t *clcf, ngx_uint_t *status);
static ngx_int_t ngx_http_chatport_append(
    ngx_http_chatport_visitor_ctx_t *ctx);
static void ngx_http_chatport_append_done(void *data, redisReply *reply,
    ngx_int_t rc);
static ngx_int_t ngx_http_chatport_created(
    ngx_http_chatport_visitor_ctx_t *ctx, redisReply *reply);
static void ngx_http_chatport_history_done(void *data, redisReply *reply,
    ngx_int_t rc);
static ngx_int_t ngx_http_chatport_poll_check(ngx_http_chatport_waiter_t *w);
static void ngx_http_chatport_poll_done(void *data, redisReply *reply,
    ngx_int_t rc);

static ngx_http_chatport_visitor_ctx_t *ngx_http_chatport_visitor_ctx(
    ngx_http_request_t *r);
static void ngx_http_chatport_visitor_cleanup(void *data);
static ngx_int_t ngx_http_chatport_cursor(ngx_http_request_t *r,
    ngx_str_t *cursor);
static ngx_int_t ngx_http_chatport_visitor_cookie(ngx_http_request_t *r,
    ngx_str_t *vid);
static ngx_int_t ngx_http_chatport_new_visitor(ngx_pool_t *pool,
    ngx_str_t *vid);
static ngx_int_t ngx_http_chatport_visitor_cid(ngx_pool_t *pool,
    ngx_str_t *vid, ngx_str_t *cid);
static ngx_int_t ngx_http_chatport_store_reply(ngx_http_request_t *r,
    redisReply *reply, ngx_int_t rc, ngx_str_t *body);
static void ngx_http_chatport_header_text(ngx_table_elt_t *h, size_t max,
    ngx_str_t *text);


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

static ngx_str_t  ngx_http_chatport_lang_names[] = {
    ngx_string("auto"),
    ngx_string("en"),
    ngx_string("ja")
};

static ngx_str_t  ngx_http_chatport_config_cache =
    ngx_string("public, max-age=5");


ngx_int_t
ngx_http_chatport_visitor_handler(ngx_http_request_t *r)
{
    ngx_http_chatport_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);

    return ngx_http_chatport_dispatch(r, &clcf->prefix,
                                      ngx_http_chatport_visitor_routes);
}


static ngx_int_t
ngx_http_chatport_widget_js(ngx_http_request_t *r)
{
    return ngx_http_chatport_asset_send(r, "widget.js");
}


static ngx_int_t
ngx_http_chatport_widget_css(ngx_http_request_t *r)
{
    return ngx_http_chatport_asset_send(r, "widget.css");
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


static ngx_int_t
ngx_http_chatport_config(ngx_http_request_t *r)
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

    /* operators' presence comes with the operator endpoints */
    ngx_http_chatport_json_literal(&j, ",\"online\":");
    ngx_http_chatport_json_bool(&j, 0);

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

    ngx_http_chatport_json_literal(&j,
        ",\"form\":{\"fields\":["
        "{\"name\":\"name\",\"type\":\"text\",\"required\":false},"
        "{\"name\":\"email\",\"type\":\"email\",\"required\":true},"
        "{\"name\":\"message\",\"type\":\"textarea\",\"required\":true}"
        "]}}\n");

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
ngx_http_chatport_messages(ngx_http_request_t *r)
{
    ngx_int_t                         rc;
    ngx_str_t                         after, vid, body;
    ngx_http_chatport_json_t          j;
    ngx_http_chatport_srv_conf_t     *cscf;
    ngx_http_chatport_loc_conf_t     *clcf;
    ngx_http_chatport_visitor_ctx_t  *ctx;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);

    if (r->method == NGX_HTTP_POST) {

        if (ngx_http_chatport_same_origin(r) != NGX_OK) {
            return ngx_http_chatport_send_error(r, NGX_HTTP_FORBIDDEN,
                                                "cross_origin",
                                                "requests from other sites "
                                                "are refused");
        }

        if (ngx_http_chatport_json_request(r) != NGX_OK) {
            return ngx_http_chatport_send_error(r,
                                            NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                            "unsupported_media_type",
                                            "send application/json");
        }

        if (r->headers_in.content_length_n
            > (off_t) ngx_http_chatport_body_limit(clcf))
        {
            return ngx_http_chatport_send_error(r,
                                          NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                          "body_too_large",
                                          "the request body is too large");
        }

        r->request_body_in_single_buf = 1;

        rc = ngx_http_read_client_request_body(r, ngx_http_chatport_post_body);

        if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
            return rc;
        }

        return NGX_DONE;
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
        ngx_http_chatport_json_literal(&j, "{\"messages\":[],\"cursor\":");

        if (after.len == 0) {
            ngx_str_set(&after, "0-0");
        }

        ngx_http_chatport_json_string(&j, &after);
        ngx_http_chatport_json_literal(&j, "}\n");

        if (ngx_http_chatport_json_result(&j, &body) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_chatport_send_json(r, NGX_HTTP_OK, &body);
    }

    if (rc != NGX_OK) {
        return ngx_http_chatport_send_error(r, NGX_HTTP_FORBIDDEN,
                                            "unknown_visitor",
                                            "no conversation for this "
                                            "visitor");
    }

    ctx = ngx_http_chatport_visitor_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cscf = ngx_http_get_module_srv_conf(r, ngx_http_chatport_module);

    if (ngx_http_chatport_visitor_cid(r->pool, &vid, &ctx->message.cid)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_chatport_store_read(r->pool, &cscf->site, &ctx->message.cid,
                                      &after, clcf->history,
                                      ngx_http_chatport_history_done, ctx,
                                      &ctx->cmd);
    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_chatport_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                            "unavailable",
                                            "the chat store is unavailable");
    }

    r->main->count++;

    return NGX_DONE;
}


static void
ngx_http_chatport_history_done(void *data, redisReply *reply, ngx_int_t rc)
{
    ngx_http_chatport_visitor_ctx_t  *ctx = data;

    ngx_str_t            body;
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = ctx->request;
    c = r->connection;
    ctx->cmd = NULL;

    rc = ngx_http_chatport_store_reply(r, reply, rc, &body);

    if (rc == NGX_OK) {
        rc = ngx_http_chatport_send_json(r, NGX_HTTP_OK, &body);
    }

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}


/*
 * A read script's reply, {count, JSON}, as an answer's body; any other
 * outcome is sent as an error and its status returned.
 */

static ngx_int_t
ngx_http_chatport_store_reply(ngx_http_request_t *r, redisReply *reply,
    ngx_int_t rc, ngx_str_t *body)
{
    switch (ngx_http_chatport_store_status(reply, rc, r->connection->log)) {

    case NGX_HTTP_CHATPORT_STORE_OK:
        if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2
            || reply->element[1]->type != REDIS_REPLY_STRING)
        {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "chatport: unexpected reply from the read script");
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        body->len = reply->element[1]->len;
        body->data = ngx_pnalloc(r->pool, body->len);

        if (body->data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_memcpy(body->data, reply->element[1]->str, body->len);

        return NGX_OK;

    case NGX_HTTP_CHATPORT_STORE_UNKNOWN:
        return ngx_http_chatport_send_error(r, NGX_HTTP_FORBIDDEN,
                                            "unknown_visitor",
                                            "no conversation for this "
                                            "visitor");

    case NGX_HTTP_CHATPORT_STORE_CURSOR:
        return ngx_http_chatport_send_error(r, NGX_HTTP_BAD_REQUEST,
                                            "invalid_cursor",
                                            "\"after\" is not a message id "
                                            "of this conversation");

    default:
        return ngx_http_chatport_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                            "unavailable",
                                            "the chat store is unavailable");
    }
}


static void
ngx_http_chatport_post_body(ngx_http_request_t *r)
{
    char                             *err;
    json_t                           *root;
    ngx_int_t                         rc, page_rc;
    ngx_str_t                         body, text, page;
    ngx_uint_t                        status, i;
    ngx_http_chatport_srv_conf_t     *cscf;
    ngx_http_chatport_loc_conf_t     *clcf;
    ngx_http_chatport_visitor_ctx_t  *ctx;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);
    cscf = ngx_http_get_module_srv_conf(r, ngx_http_chatport_module);

    rc = ngx_http_chatport_read_body(r, ngx_http_chatport_body_limit(clcf),
                                     &body);

    if (rc == NGX_HTTP_REQUEST_ENTITY_TOO_LARGE) {
        ngx_http_finalize_request(r,
            ngx_http_chatport_send_error(r, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                         "body_too_large",
                                         "the request body is too large"));
        return;
    }

    if (rc != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    root = ngx_http_chatport_json_parse(&body);

    if (root == NULL) {
        ngx_http_finalize_request(r,
            ngx_http_chatport_send_error(r, NGX_HTTP_BAD_REQUEST,
                                         "invalid_json",
                                         "the body is not a JSON object"));
        return;
    }

    /* both are copied into the pool: the JSON is freed right away */
    rc = ngx_http_chatport_json_get_string(r->pool, root, "text", &text);
    page_rc = ngx_http_chatport_json_get_string(r->pool, root, "page",
                                                &page);

    json_decref(root);

    status = NGX_HTTP_BAD_REQUEST;

    if (rc == NGX_DECLINED) {
        err = "missing_text";

    } else if (rc != NGX_OK) {
        err = "invalid_text";

    } else if (page_rc == NGX_ERROR) {
        err = "invalid_page";

    } else {
        err = ngx_http_chatport_check_text(&text, clcf, &status);
    }

    if (err == NULL && page.len) {
        if (page.len > NGX_HTTP_CHATPORT_PAGE_MAX
            || !(ngx_strncmp(page.data, "https://", 8) == 0
                 || ngx_strncmp(page.data, "http://", 7) == 0))
        {
            err = "invalid_page";
        }

        for (i = 0; err == NULL && i < page.len; i++) {
            if (page.data[i] < 0x20 || page.data[i] == 0x7f) {
                err = "invalid_page";
            }
        }
    }

    if (err) {
        ngx_http_finalize_request(r,
            ngx_http_chatport_send_error(r, status, err,
                                         status == NGX_HTTP_BAD_REQUEST
                                         ? "\"text\" must be a non-empty "
                                           "string and \"page\" an http(s) "
                                           "URL of at most 2048 bytes"
                                         : "the text is longer than "
                                           "chatport_max_message"));
        return;
    }

    ctx = ngx_http_chatport_visitor_ctx(r);
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

    ngx_http_chatport_header_text(r->headers_in.referer,
                                  NGX_HTTP_CHATPORT_REFERRER_MAX,
                                  &ctx->message.referrer);
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

    rc = ngx_http_chatport_append(ctx);

    if (rc != NGX_OK) {
        ngx_http_finalize_request(r, rc);
    }

    /* the body reader's reference ends with the answer */
}


/* NGX_OK: the answer comes from ngx_http_chatport_append_done() */

static ngx_int_t
ngx_http_chatport_append(ngx_http_chatport_visitor_ctx_t *ctx)
{
    ngx_int_t            rc;
    ngx_http_request_t  *r;

    r = ctx->request;

    if (ngx_http_chatport_visitor_cid(r->pool, &ctx->vid, &ctx->message.cid)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->message.create = ctx->new_visitor;

    rc = ngx_http_chatport_store_append(r->pool, &ctx->message,
                                        ngx_http_chatport_append_done, ctx,
                                        &ctx->cmd);
    if (rc == NGX_DECLINED) {
        return ngx_http_chatport_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                            "unavailable",
                                            "the chat store is unavailable");
    }

    return rc == NGX_OK ? NGX_OK : NGX_HTTP_INTERNAL_SERVER_ERROR;
}


static void
ngx_http_chatport_append_done(void *data, redisReply *reply, ngx_int_t rc)
{
    ngx_http_chatport_visitor_ctx_t  *ctx = data;

    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = ctx->request;
    c = r->connection;
    ctx->cmd = NULL;

    switch (ngx_http_chatport_store_status(reply, rc, c->log)) {

    case NGX_HTTP_CHATPORT_STORE_OK:
        rc = ngx_http_chatport_created(ctx, reply);
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

            break;
        }

        /* fall through */

    default:
        rc = ngx_http_chatport_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                          "unavailable",
                                          "the chat store is unavailable");
        break;
    }

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}


static ngx_int_t
ngx_http_chatport_created(ngx_http_chatport_visitor_ctx_t *ctx,
    redisReply *reply)
{
    ngx_str_t                      id, body, cookie;
    ngx_http_request_t            *r;
    ngx_http_chatport_json_t       j;
    ngx_http_chatport_loc_conf_t  *clcf;

    r = ctx->request;

    if (reply->type != REDIS_REPLY_STRING) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "chatport: unexpected reply from the append script");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    id.data = (u_char *) reply->str;
    id.len = reply->len;

    ngx_http_chatport_json_init(&j, r->pool);
    ngx_http_chatport_json_literal(&j, "{\"id\":");
    ngx_http_chatport_json_string(&j, &id);
    ngx_http_chatport_json_literal(&j, "}\n");

    if (ngx_http_chatport_json_result(&j, &body) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->new_visitor) {
        clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);

        cookie.data = ngx_pnalloc(r->pool, sizeof("chatport_vid=; Path=/; "
                                                  "Max-Age=; HttpOnly; "
                                                  "SameSite=Lax; Secure")
                                           + ctx->vid.len + NGX_TIME_T_LEN);
        if (cookie.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        cookie.len = ngx_sprintf(cookie.data,
                                 "chatport_vid=%V; Path=/; Max-Age=%T; "
                                 "HttpOnly; SameSite=Lax%s",
                                 &ctx->vid, clcf->retention,
#if (NGX_HTTP_SSL)
                                 r->connection->ssl ? "; Secure" :
#endif
                                 "")
                     - cookie.data;

        if (ngx_http_chatport_add_header(r, "Set-Cookie", &cookie) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return ngx_http_chatport_send_json(r, NGX_HTTP_CREATED, &body);
}


/*
 * NULL when the text is fine, or an error code: empty, only white space,
 * control characters other than tab and line breaks, too long.
 */

static char *
ngx_http_chatport_check_text(ngx_str_t *text,
    ngx_http_chatport_loc_conf_t *clcf, ngx_uint_t *status)
{
    u_char      *p, *last, *next;
    uint32_t     ch;
    ngx_uint_t   blank;

    if (text->len > clcf->max_message) {
        *status = NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
        return "text_too_large";
    }

    blank = 1;
    p = text->data;
    last = p + text->len;

    while (p < last) {
        next = p;

        /* ngx_utf8_decode() takes multibyte sequences only */
        if (*p < 0x80) {
            ch = *next++;

        } else {
            ch = ngx_utf8_decode(&next, last - p);
        }

        if (ch > 0x10ffff) {
            return "invalid_text";
        }

        if ((ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r')
            || ch == 0x7f)
        {
            return "invalid_text";
        }

        /* ASCII white space, no-break space, ideographic space */
        if (!(ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r'
              || ch == 0xa0 || ch == 0x3000))
        {
            blank = 0;
        }

        p = next;
    }

    return blank ? "empty_text" : NULL;
}


static ngx_int_t
ngx_http_chatport_poll(ngx_http_request_t *r)
{
    ngx_int_t                         rc;
    ngx_str_t                         after, vid, channel;
    ngx_http_chatport_waiter_t       *w;
    ngx_http_chatport_srv_conf_t     *cscf;
    ngx_http_chatport_loc_conf_t     *clcf;
    ngx_http_chatport_visitor_ctx_t  *ctx;

    if (ngx_http_chatport_cursor(r, &after) != NGX_OK) {
        return ngx_http_chatport_send_error(r, NGX_HTTP_BAD_REQUEST,
                                            "invalid_cursor",
                                            "\"after\" is not a message id");
    }

    if (after.len == 0) {
        ngx_str_set(&after, "0-0");
    }

    if (ngx_http_chatport_visitor_cookie(r, &vid) != NGX_OK) {
        return ngx_http_chatport_send_error(r, NGX_HTTP_FORBIDDEN,
                                            "unknown_visitor",
                                            "no conversation for this "
                                            "visitor");
    }

    cscf = ngx_http_get_module_srv_conf(r, ngx_http_chatport_module);
    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_chatport_visitor_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->request = r;
    ctx->message.site = cscf->site;
    ctx->message.history = clcf->history;

    if (ngx_http_chatport_visitor_cid(r->pool, &vid, &ctx->message.cid)
        != NGX_OK
        || ngx_http_chatport_store_channel(r->pool, &cscf->site,
                                           &ctx->message.cid, &channel)
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
    ngx_http_chatport_visitor_ctx_t  *ctx = w->data;

    return ngx_http_chatport_store_read(w->request->pool, &ctx->message.site,
                                        &ctx->message.cid, &w->cursor,
                                        ctx->message.history,
                                        ngx_http_chatport_poll_done, w,
                                        &w->cmd);
}


static void
ngx_http_chatport_poll_done(void *data, redisReply *reply, ngx_int_t rc)
{
    ngx_http_chatport_waiter_t  *w = data;

    ngx_str_t  body;

    switch (ngx_http_chatport_store_status(reply, rc,
                                           w->request->connection->log))
    {
    case NGX_HTTP_CHATPORT_STORE_OK:
        if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2
            || reply->element[0]->type != REDIS_REPLY_INTEGER
            || reply->element[1]->type != REDIS_REPLY_STRING)
        {
            ngx_http_chatport_waiter_fail(w, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                          "internal", "unexpected reply");
            return;
        }

        body.len = reply->element[1]->len;
        body.data = ngx_pnalloc(w->request->pool, body.len);

        if (body.data == NULL) {
            ngx_http_chatport_waiter_fail(w, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                          "internal", "out of memory");
            return;
        }

        ngx_memcpy(body.data, reply->element[1]->str, body.len);

        ngx_http_chatport_waiter_checked(w, reply->element[0]->integer > 0,
                                         &body);
        return;

    case NGX_HTTP_CHATPORT_STORE_UNKNOWN:
        ngx_http_chatport_waiter_fail(w, NGX_HTTP_FORBIDDEN,
                                      "unknown_visitor",
                                      "no conversation for this visitor");
        return;

    case NGX_HTTP_CHATPORT_STORE_CURSOR:
        ngx_http_chatport_waiter_fail(w, NGX_HTTP_BAD_REQUEST,
                                      "invalid_cursor",
                                      "\"after\" is not a message id of "
                                      "this conversation");
        return;

    default:
        ngx_http_chatport_waiter_fail(w, NGX_HTTP_SERVICE_UNAVAILABLE,
                                      "unavailable",
                                      "the chat store is unavailable");
        return;
    }
}


static ngx_http_chatport_visitor_ctx_t *
ngx_http_chatport_visitor_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t               *cln;
    ngx_http_chatport_visitor_ctx_t  *ctx;

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_chatport_visitor_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_chatport_visitor_cleanup;
    cln->data = ctx;

    ctx->request = r;

    return ctx;
}


/* a request that goes away first must not be called back by Redis */

static void
ngx_http_chatport_visitor_cleanup(void *data)
{
    ngx_http_chatport_visitor_ctx_t  *ctx = data;

    if (ctx->cmd) {
        ngx_http_chatport_redis_cancel(ctx->cmd);
        ctx->cmd = NULL;
    }
}


/* ?after=ID: NGX_OK with an empty cursor when absent */

static ngx_int_t
ngx_http_chatport_cursor(ngx_http_request_t *r, ngx_str_t *cursor)
{
    ngx_http_chatport_stream_id_t  id;

    if (ngx_http_arg(r, (u_char *) "after", 5, cursor) != NGX_OK) {
        ngx_str_null(cursor);
        return NGX_OK;
    }

    return ngx_http_chatport_stream_id_parse(cursor, &id);
}


/* NGX_OK: a well-formed id; NGX_DECLINED: none; NGX_ERROR: malformed */

static ngx_int_t
ngx_http_chatport_visitor_cookie(ngx_http_request_t *r, ngx_str_t *vid)
{
    ngx_str_t   name = ngx_string("chatport_vid");
    ngx_uint_t  i;

    if (ngx_http_parse_multi_header_lines(&r->headers_in.cookies, &name, vid)
        == NGX_DECLINED)
    {
        return NGX_DECLINED;
    }

    if (vid->len != NGX_HTTP_CHATPORT_VID_LEN) {
        return NGX_ERROR;
    }

    for (i = 0; i < vid->len; i++) {
        if (!((vid->data[i] >= '0' && vid->data[i] <= '9')
              || (vid->data[i] >= 'a' && vid->data[i] <= 'f')))
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_chatport_new_visitor(ngx_pool_t *pool, ngx_str_t *vid)
{
    u_char  random[NGX_HTTP_CHATPORT_VID_LEN / 2];

    if (getrandom(random, sizeof(random), 0) != (ssize_t) sizeof(random)) {
        ngx_log_error(NGX_LOG_ALERT, pool->log, ngx_errno,
                      "chatport: getrandom() failed");
        return NGX_ERROR;
    }

    vid->data = ngx_pnalloc(pool, NGX_HTTP_CHATPORT_VID_LEN);
    if (vid->data == NULL) {
        return NGX_ERROR;
    }

    vid->len = ngx_hex_dump(vid->data, random, sizeof(random)) - vid->data;

    return NGX_OK;
}


/*
 * The conversation id is a one-way function of the visitor's secret id:
 * the visitor's requests find their conversation without a lookup, and
 * knowing a CID (as operators and notifications do) gives no way back.
 */

static ngx_int_t
ngx_http_chatport_visitor_cid(ngx_pool_t *pool, ngx_str_t *vid,
    ngx_str_t *cid)
{
    u_char      digest[20];
    ngx_sha1_t  sha1;

    cid->data = ngx_pnalloc(pool, NGX_HTTP_CHATPORT_CID_LEN);
    if (cid->data == NULL) {
        return NGX_ERROR;
    }

    ngx_sha1_init(&sha1);
    ngx_sha1_update(&sha1, "chatport conversation ", 22);
    ngx_sha1_update(&sha1, vid->data, vid->len);
    ngx_sha1_final(digest, &sha1);

    cid->len = ngx_hex_dump(cid->data, digest, NGX_HTTP_CHATPORT_CID_LEN / 2)
               - cid->data;

    return NGX_OK;
}


/*
 * A request header as stored text: its longest prefix of at most max bytes
 * that is valid UTF-8 without control characters.
 */

static void
ngx_http_chatport_header_text(ngx_table_elt_t *h, size_t max,
    ngx_str_t *text)
{
    u_char  *p, *next, *last;

    ngx_str_null(text);

    if (h == NULL) {
        return;
    }

    p = h->value.data;
    last = p + h->value.len;

    while (p < last) {
        next = p;

        if (*p < 0x80) {
            if (*p < 0x20 || *p == 0x7f) {
                break;
            }

            next++;

        } else if (ngx_utf8_decode(&next, last - p) > 0x10ffff) {
            break;
        }

        if ((size_t) (next - h->value.data) > max) {
            break;
        }

        p = next;
    }

    text->data = h->value.data;
    text->len = p - h->value.data;
}
