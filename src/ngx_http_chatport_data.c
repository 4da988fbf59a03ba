
/*
 * ChatPort: data requests.
 *
 * GET A export?conversation=CID or ?email=ADDR answers everything stored
 * about it as JSON; POST A erase {"conversation": CID} or {"email": ADDR}
 * erases it (src/lua/erase.lua tells what that is). By email, they take
 * every conversation whose contact email it is and every form sent with
 * it, at most NGX_HTTP_CHATPORT_DATA_CONVS_MAX conversations a request:
 * the answer says when more are left. Each request is logged at "notice"
 * with the operator's login and the conversations' ids, never an email
 * address or a message's text.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_chatport.h"
#include "ngx_http_chatport_call.h"
#include "ngx_http_chatport_data.h"
#include "ngx_http_chatport_http.h"
#include "ngx_http_chatport_lua.h"
#include "ngx_http_chatport_mail.h"
#include "ngx_http_chatport_sites.h"
#include "ngx_http_chatport_store.h"
#include "ngx_http_chatport_upload.h"


/* conversations one request by email exports or erases */
#define NGX_HTTP_CHATPORT_DATA_CONVS_MAX  50
#define NGX_HTTP_CHATPORT_DATA_BODY_MAX   1024
#define NGX_HTTP_CHATPORT_EMAIL_MAX       254


typedef struct {
    ngx_http_chatport_call_t          call;
    ngx_str_t                         mode;    /* "conversation", "email" */
    ngx_str_t                         value;
} ngx_http_chatport_data_ctx_t;


static char *ngx_http_chatport_data_subject(ngx_http_request_t *r,
    ngx_int_t cid_rc, ngx_str_t *cid, ngx_int_t email_rc, ngx_str_t *email,
    ngx_http_chatport_data_ctx_t *ctx, char **message);
static void ngx_http_chatport_erase_body(ngx_http_request_t *r);
static void ngx_http_chatport_erase_done(void *data, redisReply *reply,
    ngx_int_t rc);
static void ngx_http_chatport_export_done(void *data, redisReply *reply,
    ngx_int_t rc);
static ngx_int_t ngx_http_chatport_data_unknown(
    ngx_http_chatport_data_ctx_t *ctx);
static ngx_int_t ngx_http_chatport_data_keys(ngx_pool_t *pool,
    ngx_str_t *site, ngx_str_t *keys, char **names, ngx_uint_t n);


static ngx_http_chatport_redis_script_t  ngx_http_chatport_erase_script =
    { ngx_string(NGX_HTTP_CHATPORT_LUA_DATA_FIND
                 NGX_HTTP_CHATPORT_LUA_INDEX
                 NGX_HTTP_CHATPORT_LUA_ERASE), { 0 }, 0 };

static ngx_http_chatport_redis_script_t  ngx_http_chatport_export_script =
    { ngx_string(NGX_HTTP_CHATPORT_LUA_MESSAGE
                 NGX_HTTP_CHATPORT_LUA_DATA_FIND
                 NGX_HTTP_CHATPORT_LUA_EXPORT), { 0 }, 0 };


/* the site's keys the scripts are given, in their KEYS order */

static char  *ngx_http_chatport_erase_keys[] = {
    "convs", "forms", "forms-done", "uploads", "upload-bytes", "mail-due",
    "mail-pending", "outbox", "inbox"
};

static char  *ngx_http_chatport_export_keys[] = {
    "convs", "forms", "forms-done"
};

static ngx_str_t  ngx_http_chatport_export_disposition =
    ngx_string("attachment; filename=\"chatport-export.json\"");


void
ngx_http_chatport_data_init(void)
{
    ngx_http_chatport_redis_script_init(&ngx_http_chatport_erase_script);
    ngx_http_chatport_redis_script_init(&ngx_http_chatport_export_script);
}


/*
 * Which conversation or email a request names: exactly one of them, well
 * formed. NULL, or the error's code (and *message).
 */

static char *
ngx_http_chatport_data_subject(ngx_http_request_t *r, ngx_int_t cid_rc,
    ngx_str_t *cid, ngx_int_t email_rc, ngx_str_t *email,
    ngx_http_chatport_data_ctx_t *ctx, char **message)
{
    if (cid_rc == NGX_DECLINED && email_rc == NGX_DECLINED) {
        *message = "give \"conversation\" or \"email\"";
        return "missing_subject";
    }

    if (cid_rc != NGX_DECLINED && email_rc != NGX_DECLINED) {
        *message = "give \"conversation\" or \"email\", not both";
        return "ambiguous_subject";
    }

    if (cid_rc != NGX_DECLINED) {
        if (cid_rc != NGX_OK || ngx_http_chatport_cid(r, cid) != NGX_OK) {
            *message = "\"conversation\" is not a conversation id";
            return "invalid_conversation";
        }

        ngx_str_set(&ctx->mode, "conversation");
        ctx->value = *cid;

        return NULL;
    }

    if (email_rc != NGX_OK || email->len > NGX_HTTP_CHATPORT_EMAIL_MAX
        || !ngx_http_chatport_mail_address(email))
    {
        *message = "\"email\" is not an email address";
        return "invalid_email";
    }

    /* the scripts compare addresses in lower case */
    ngx_strlow(email->data, email->data, email->len);

    ngx_str_set(&ctx->mode, "email");
    ctx->value = *email;

    return NULL;
}


ngx_int_t
ngx_http_chatport_erase(ngx_http_request_t *r, ngx_str_t *arg)
{
    return ngx_http_chatport_read_json(r, NGX_HTTP_CHATPORT_DATA_BODY_MAX,
                                       ngx_http_chatport_erase_body);
}


static void
ngx_http_chatport_erase_body(ngx_http_request_t *r)
{
    char                          *code, *message;
    json_t                        *root;
    ngx_int_t                      rc, cid_rc, email_rc;
    ngx_str_t                      cid, email, a[14];
    ngx_str_t                     *site;
    ngx_http_chatport_data_ctx_t  *ctx;

    root = ngx_http_chatport_body_json(r, NGX_HTTP_CHATPORT_DATA_BODY_MAX);
    if (root == NULL) {
        return;
    }

    cid_rc = ngx_http_chatport_json_get_string(r->pool, root, "conversation",
                                               &cid);
    email_rc = ngx_http_chatport_json_get_string(r->pool, root, "email",
                                                 &email);

    json_decref(root);

    ctx = ngx_http_chatport_call_create(r,
                                        sizeof(ngx_http_chatport_data_ctx_t),
                                        "unknown_conversation");
    if (ctx == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    code = ngx_http_chatport_data_subject(r, cid_rc, &cid, email_rc, &email,
                                          ctx, &message);
    if (code) {
        ngx_http_finalize_request(r,
            ngx_http_chatport_send_error(r, NGX_HTTP_BAD_REQUEST, code,
                                         message));
        return;
    }

    site = ngx_http_chatport_request_site(r);

    if (ngx_http_chatport_data_keys(r->pool, site, a,
                                    ngx_http_chatport_erase_keys, 9)
        != NGX_OK
        || ngx_http_chatport_store_key(r->pool, &a[9], "chatport:{%V}:conv:",
                                       site)
           != NGX_OK
        || ngx_http_chatport_store_key(r->pool, &a[10], "chatport:{%V}:idx:",
                                       site)
           != NGX_OK
        || ngx_http_chatport_store_number(r->pool, &a[13],
                                          NGX_HTTP_CHATPORT_DATA_CONVS_MAX)
           != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    a[11] = ctx->mode;
    a[12] = ctx->value;

    rc = ngx_http_chatport_store_call(r->pool, &ngx_http_chatport_erase_script,
                                      a, 9, 14, ngx_http_chatport_erase_done,
                                      ctx, &ctx->call.cmd);

    ngx_http_chatport_call_posted(&ctx->call, rc);
}


/* {erased, more, cid, ...}: 204 when nothing is left, else what was done */

static void
ngx_http_chatport_erase_done(void *data, redisReply *reply, ngx_int_t rc)
{
    ngx_http_chatport_data_ctx_t  *ctx = data;

    size_t                             i;
    ngx_str_t                          empty, *operator;
    redisReply                        *e;
    ngx_http_request_t                *r;
    ngx_http_chatport_json_t           j;
    ngx_http_chatport_store_status_e   status;

    r = ctx->call.request;
    ctx->call.cmd = NULL;

    status = ngx_http_chatport_store_status(reply, rc, r->connection->log);

    if (status == NGX_HTTP_CHATPORT_STORE_UNKNOWN) {
        ngx_http_chatport_call_done(&ctx->call,
                                    ngx_http_chatport_data_unknown(ctx));
        return;
    }

    if (status != NGX_HTTP_CHATPORT_STORE_OK
        || reply->type != REDIS_REPLY_ARRAY || reply->elements < 2
        || reply->element[0]->type != REDIS_REPLY_INTEGER
        || reply->element[1]->type != REDIS_REPLY_INTEGER)
    {
        ngx_http_chatport_call_done(&ctx->call,
            ngx_http_chatport_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                         "unavailable",
                                         "the chat store is unavailable"));
        return;
    }

    operator = ngx_http_chatport_operator(r);

    for (i = 2; i < reply->elements; i++) {
        e = reply->element[i];

        if (e->type == REDIS_REPLY_STRING) {
            ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                          "chatport: operator \"%V\" erased conversation "
                          "%*s (by %V)", operator, e->len, e->str,
                          &ctx->mode);
        }
    }

    if (reply->elements == 2) {
        /* only forms, of an email */
        ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                      "chatport: operator \"%V\" erased the forms of an "
                      "email", operator);
    }

    if (reply->element[1]->integer == 0) {
        ngx_str_null(&empty);
        ngx_http_chatport_call_done(&ctx->call,
            ngx_http_chatport_send_json(r, NGX_HTTP_NO_CONTENT, &empty));
        return;
    }

    ngx_http_chatport_json_init(&j, r->pool);
    ngx_http_chatport_json_literal(&j, "{\"erased\":");
    ngx_http_chatport_json_int(&j, reply->element[0]->integer);
    ngx_http_chatport_json_literal(&j, ",\"more\":true}\n");

    ngx_http_chatport_call_done(&ctx->call,
                                ngx_http_chatport_send_built(r, NGX_HTTP_OK,
                                                             &j));
}


ngx_int_t
ngx_http_chatport_export(ngx_http_request_t *r, ngx_str_t *arg)
{
    char                          *code, *message;
    u_char                        *p;
    ngx_int_t                      rc, cid_rc, email_rc;
    ngx_str_t                      cid, email, raw, a[8];
    ngx_str_t                     *site;
    ngx_http_chatport_loc_conf_t  *clcf;
    ngx_http_chatport_data_ctx_t  *ctx;

    cid_rc = ngx_http_arg(r, (u_char *) "conversation", 12, &cid);
    email_rc = ngx_http_arg(r, (u_char *) "email", 5, &raw);

    if (email_rc == NGX_OK) {
        /* "a%40b.example": the address unescaped */
        email.data = ngx_pnalloc(r->pool, raw.len);
        if (email.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        p = email.data;
        ngx_unescape_uri(&p, &raw.data, raw.len, 0);
        email.len = p - email.data;
    }

    ctx = ngx_http_chatport_call_create(r,
                                        sizeof(ngx_http_chatport_data_ctx_t),
                                        "unknown_conversation");
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    code = ngx_http_chatport_data_subject(r, cid_rc, &cid, email_rc, &email,
                                          ctx, &message);
    if (code) {
        return ngx_http_chatport_send_error(r, NGX_HTTP_BAD_REQUEST, code,
                                            message);
    }

    site = ngx_http_chatport_request_site(r);
    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);

    if (ngx_http_chatport_data_keys(r->pool, site, a,
                                    ngx_http_chatport_export_keys, 3)
        != NGX_OK
        || ngx_http_chatport_store_key(r->pool, &a[3], "chatport:{%V}:conv:",
                                       site)
           != NGX_OK
        || ngx_http_chatport_store_number(r->pool, &a[6],
                                          NGX_HTTP_CHATPORT_DATA_CONVS_MAX)
           != NGX_OK
        || ngx_http_chatport_upload_url(r->pool, &clcf->agent_prefix,
                                        "conversations/", NULL, &a[7])
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    a[4] = ctx->mode;
    a[5] = ctx->value;

    rc = ngx_http_chatport_store_call(r->pool,
                                      &ngx_http_chatport_export_script,
                                      a, 3, 8, ngx_http_chatport_export_done,
                                      ctx, &ctx->call.cmd);

    return ngx_http_chatport_call_started(&ctx->call, rc);
}


static void
ngx_http_chatport_export_done(void *data, redisReply *reply, ngx_int_t rc)
{
    ngx_http_chatport_data_ctx_t  *ctx = data;

    ngx_int_t                          count;
    ngx_str_t                          body, *operator;
    ngx_http_request_t                *r;
    ngx_http_chatport_error_t          err;
    ngx_http_chatport_store_status_e   status;

    r = ctx->call.request;
    ctx->call.cmd = NULL;

    status = ngx_http_chatport_reply_json(reply, rc, r, 0, &count, &body);

    if (status == NGX_HTTP_CHATPORT_STORE_UNKNOWN) {
        ngx_http_chatport_call_done(&ctx->call,
                                    ngx_http_chatport_data_unknown(ctx));
        return;
    }

    if (status != NGX_HTTP_CHATPORT_STORE_OK) {
        ngx_http_chatport_store_error(status, NULL, &err);
        ngx_http_chatport_call_done(&ctx->call,
            ngx_http_chatport_send_error(r, err.status, err.code,
                                         err.message));
        return;
    }

    operator = ngx_http_chatport_operator(r);

    if (ctx->mode.len == 5) {
        ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                      "chatport: operator \"%V\" exported an email's data "
                      "(%i conversations)", operator, count);

    } else {
        ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                      "chatport: operator \"%V\" exported conversation %V",
                      operator, &ctx->value);
    }

    if (ngx_http_chatport_add_header(r, "Content-Disposition",
                                     &ngx_http_chatport_export_disposition)
        != NGX_OK)
    {
        ngx_http_chatport_call_done(&ctx->call,
                                    NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_chatport_call_done(&ctx->call,
                                ngx_http_chatport_send_json(r, NGX_HTTP_OK,
                                                            &body));
}


/* 404: nothing is stored about the conversation or the email */

static ngx_int_t
ngx_http_chatport_data_unknown(ngx_http_chatport_data_ctx_t *ctx)
{
    ngx_http_request_t  *r;

    r = ctx->call.request;

    if (ctx->mode.len == 5) {
        return ngx_http_chatport_send_error(r, NGX_HTTP_NOT_FOUND,
                                            "unknown_email",
                                            "nothing is stored about this "
                                            "email here");
    }

    return ngx_http_chatport_send_error(r, NGX_HTTP_NOT_FOUND,
                                        "unknown_conversation",
                                        "no such conversation here");
}


static ngx_int_t
ngx_http_chatport_data_keys(ngx_pool_t *pool, ngx_str_t *site,
    ngx_str_t *keys, char **names, ngx_uint_t n)
{
    ngx_uint_t  i;

    for (i = 0; i < n; i++) {
        if (ngx_http_chatport_store_key(pool, &keys[i], "chatport:{%V}:%s",
                                        site, names[i])
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}
