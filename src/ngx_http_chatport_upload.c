
/*
 * ChatPort: photos in a conversation.
 *
 * POST P images (the visitor, into the conversation of the cookie, which
 * must exist: a photo never opens one) and POST A conversations/CID/images
 * (an operator) take the image's bytes as the body, up to
 * chatport_max_upload. What the bytes are decides, never the name or the
 * Content-Type: ngx_http_chatport_image_sniff() accepts JPEG, PNG, WebP
 * and GIF, whole, within the dimensions of ngx_http_chatport_image.h.
 *
 * The photo is a message of the conversation (its "image" field holds
 * the dimensions), stored by the append script with its bytes in the
 * conversation's hash of images, keyed by the message's id: every
 * message refreshes that hash's expiry with the conversation's, so the
 * photos go when the conversation goes. The site's quota
 * (chatport_upload_quota) is kept by the same script (src/lua/upload.lua).
 *
 * GET P images/ID and GET A conversations/CID/images/ID serve it to the
 * conversation's visitor and the site's operators only, with the type
 * its bytes say, not sniffed by the browser, and sandboxed.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_chatport.h"
#include "ngx_http_chatport_call.h"
#include "ngx_http_chatport_http.h"
#include "ngx_http_chatport_identity.h"
#include "ngx_http_chatport_image.h"
#include "ngx_http_chatport_names.h"
#include "ngx_http_chatport_notify.h"
#include "ngx_http_chatport_sites.h"
#include "ngx_http_chatport_store.h"
#include "ngx_http_chatport_upload.h"
#include "ngx_http_chatport_waiters.h"


typedef struct {
    ngx_http_chatport_call_t       call;
    ngx_http_chatport_message_t    message;
    ngx_str_t                      id;             /* a photo's, to GET */
} ngx_http_chatport_upload_ctx_t;


static void ngx_http_chatport_upload_visitor_body(ngx_http_request_t *r);
static void ngx_http_chatport_upload_agent_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_chatport_upload_read(ngx_http_request_t *r,
    ngx_http_client_body_handler_pt post);
static ngx_int_t ngx_http_chatport_upload_image(ngx_http_request_t *r,
    ngx_http_chatport_message_t *m);
static void ngx_http_chatport_upload_done(void *data, redisReply *reply,
    ngx_int_t rc);
static ngx_int_t ngx_http_chatport_upload_get(ngx_http_request_t *r,
    ngx_http_chatport_upload_ctx_t *ctx, ngx_str_t *id);
static void ngx_http_chatport_upload_got(void *data, redisReply *reply,
    ngx_int_t rc);


static ngx_str_t  ngx_http_chatport_upload_cache =
    ngx_string("private, max-age=86400");

static ngx_str_t  ngx_http_chatport_upload_nosniff = ngx_string("nosniff");

static ngx_str_t  ngx_http_chatport_upload_csp =
    ngx_string("default-src 'none'; sandbox");


ngx_int_t
ngx_http_chatport_upload_visitor(ngx_http_request_t *r, ngx_str_t *arg)
{
    return ngx_http_chatport_upload_read(r,
                                       ngx_http_chatport_upload_visitor_body);
}


ngx_int_t
ngx_http_chatport_upload_agent(ngx_http_request_t *r, ngx_str_t *arg)
{
    ngx_http_chatport_upload_ctx_t  *ctx;

    if (ngx_http_chatport_cid(r, arg) != NGX_OK) {
        return ngx_http_chatport_send_error(r, NGX_HTTP_FORBIDDEN,
                                            "unknown_conversation",
                                            "no such conversation here");
    }

    ctx = ngx_http_chatport_call_create(r,
                                        sizeof(ngx_http_chatport_upload_ctx_t),
                                        "unknown_conversation");
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->message.site = *ngx_http_chatport_request_site(r);
    ctx->message.cid = *arg;

    /* the body handler finds the conversation through the ctx */
    ngx_http_set_ctx(r, ctx, ngx_http_chatport_module);

    return ngx_http_chatport_upload_read(r,
                                         ngx_http_chatport_upload_agent_body);
}


/* a POST of this site, its body read whole (in memory) up to the limit */

static ngx_int_t
ngx_http_chatport_upload_read(ngx_http_request_t *r,
    ngx_http_client_body_handler_pt post)
{
    ngx_http_chatport_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);

    return ngx_http_chatport_read_post(r, clcf->max_upload, 0, post);
}


static void
ngx_http_chatport_upload_visitor_body(ngx_http_request_t *r)
{
    ngx_int_t                        rc;
    ngx_http_chatport_srv_conf_t    *cscf;
    ngx_http_chatport_loc_conf_t    *clcf;
    ngx_http_chatport_upload_ctx_t  *ctx;
    ngx_http_chatport_message_t      m;

    ngx_memzero(&m, sizeof(ngx_http_chatport_message_t));

    if (ngx_http_chatport_upload_image(r, &m) != NGX_OK) {
        return;
    }

    ctx = ngx_http_chatport_visitor_call(r,
                                       sizeof(ngx_http_chatport_upload_ctx_t),
                                       &m.cid);
    if (ctx == NULL) {
        return;
    }

    cscf = ngx_http_get_module_srv_conf(r, ngx_http_chatport_module);
    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);

    ctx->message = m;
    ctx->message.site = cscf->site;
    ngx_str_set(&ctx->message.from, "visitor");
    ctx->message.open = ngx_http_chatport_hours_open(clcf->hours, cscf->tz,
                                                     ngx_time());

    if (ctx->message.mail.len
        && ngx_http_chatport_console_link(r, &ctx->message.cid,
                                          &ctx->message.link)
           != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    rc = ngx_http_chatport_store_append(r->pool, &ctx->message,
                                        ngx_http_chatport_upload_done, ctx,
                                        &ctx->call.cmd);

    ngx_http_chatport_call_posted(&ctx->call, rc);
}


static void
ngx_http_chatport_upload_agent_body(ngx_http_request_t *r)
{
    ngx_int_t                        rc;
    ngx_http_chatport_upload_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_chatport_module);

    if (ngx_http_chatport_upload_image(r, &ctx->message) != NGX_OK) {
        return;
    }

    ngx_str_set(&ctx->message.from, "agent");
    ctx->message.agent = *ngx_http_chatport_operator(r);
    ngx_http_chatport_operator_name_set(r, &ctx->message);

    rc = ngx_http_chatport_store_append(r->pool, &ctx->message,
                                        ngx_http_chatport_upload_done, ctx,
                                        &ctx->call.cmd);

    ngx_http_chatport_call_posted(&ctx->call, rc);
}


/*
 * The body as a photo message of the location's settings, the request
 * answered when it is not one: NGX_OK, or NGX_DONE.
 */

static ngx_int_t
ngx_http_chatport_upload_image(ngx_http_request_t *r,
    ngx_http_chatport_message_t *m)
{
    u_char                        *p;
    ngx_int_t                      rc;
    ngx_str_t                      body;
    ngx_http_chatport_image_t      img;
    ngx_http_chatport_srv_conf_t  *cscf;
    ngx_http_chatport_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);
    cscf = ngx_http_get_module_srv_conf(r, ngx_http_chatport_module);

    rc = ngx_http_chatport_read_body(r, clcf->max_upload, &body);

    if (rc == NGX_HTTP_REQUEST_ENTITY_TOO_LARGE) {
        rc = ngx_http_chatport_send_error(r, rc, "body_too_large",
                                          "the photo is larger than "
                                          "chatport_max_upload");
        goto answered;
    }

    if (rc != NGX_OK) {
        rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        goto answered;
    }

    if (ngx_http_chatport_image_sniff(body.data, body.len, &img) != NGX_OK) {
        rc = ngx_http_chatport_send_error(r, NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                          "unsupported_image",
                                          "send a JPEG, PNG, WebP or GIF "
                                          "image");
        goto answered;
    }

    if (img.width > NGX_HTTP_CHATPORT_IMAGE_SIDE_MAX
        || img.height > NGX_HTTP_CHATPORT_IMAGE_SIDE_MAX
        || img.width * img.height > NGX_HTTP_CHATPORT_IMAGE_PIXELS_MAX)
    {
        rc = ngx_http_chatport_send_error(r,
                                          NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                          "image_too_large",
                                          "the image is larger than 10000 "
                                          "pixels a side or 50 megapixels");
        goto answered;
    }

    p = ngx_pnalloc(r->pool, sizeof("{\"width\":,\"height\":}")
                             + 2 * NGX_INT_T_LEN);
    if (p == NULL) {
        rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        goto answered;
    }

    m->image.data = p;
    m->image.len = ngx_sprintf(p, "{\"width\":%ui,\"height\":%ui}",
                               img.width, img.height)
                   - p;
    m->image_bytes = body;
    m->upload_quota = clcf->upload_quota;

    m->history = clcf->history;
    m->retention = clcf->retention;
    m->client = r->connection->addr_text;
    m->rate = &clcf->chat_rate;
    m->site_rate = &clcf->chat_site_rate;
    m->mail = clcf->mail;

    /* the operators' inbox event carries the photo's URL below A */
    if (cscf->agent_prefix.len
        && ngx_http_chatport_upload_url(r->pool, &cscf->agent_prefix,
                                        "conversations/", NULL,
                                        &m->image_base)
           != NGX_OK)
    {
        rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        goto answered;
    }

    return NGX_OK;

answered:

    ngx_http_finalize_request(r, rc);
    return NGX_DONE;
}


static void
ngx_http_chatport_upload_done(void *data, redisReply *reply, ngx_int_t rc)
{
    ngx_http_chatport_upload_ctx_t  *ctx = data;

    ngx_http_request_t                *r;
    ngx_http_chatport_error_t          err;
    ngx_http_chatport_store_status_e   status;

    r = ctx->call.request;

    status = ngx_http_chatport_store_status(reply, rc, r->connection->log);

    if (status == NGX_HTTP_CHATPORT_STORE_OK
        && reply->type == REDIS_REPLY_STRING)
    {
        rc = ngx_http_chatport_send_created(r, reply);

    } else if (status == NGX_HTTP_CHATPORT_STORE_QUOTA) {
        rc = ngx_http_chatport_send_error(r, NGX_HTTP_INSUFFICIENT_STORAGE,
                                          "quota_exceeded",
                                          "the site's photos fill "
                                          "chatport_upload_quota: try "
                                          "again when older conversations "
                                          "have expired");

    } else {
        ngx_http_chatport_store_error(status, ctx->call.unknown, &err);
        rc = ngx_http_chatport_send_error(r, err.status, err.code,
                                          err.message);
    }

    ngx_http_chatport_call_done(&ctx->call, rc);
}


ngx_int_t
ngx_http_chatport_upload_visitor_get(ngx_http_request_t *r, ngx_str_t *arg)
{
    ngx_str_t                        vid;
    ngx_http_chatport_upload_ctx_t  *ctx;

    if (ngx_http_chatport_visitor_cookie(r, &vid) != NGX_OK) {
        return ngx_http_chatport_send_error(r, NGX_HTTP_FORBIDDEN,
                                            "unknown_visitor",
                                            "no conversation for this "
                                            "visitor");
    }

    ctx = ngx_http_chatport_call_create(r,
                                        sizeof(ngx_http_chatport_upload_ctx_t),
                                        "unknown_visitor");
    if (ctx == NULL
        || ngx_http_chatport_visitor_cid(r->pool, &vid, &ctx->message.cid)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_chatport_upload_get(r, ctx, arg);
}


/* the cid is the path segment before "/images/" and the photo's id */

ngx_int_t
ngx_http_chatport_upload_agent_get(ngx_http_request_t *r, ngx_str_t *arg)
{
    size_t                           before;
    ngx_str_t                        cid;
    ngx_http_chatport_upload_ctx_t  *ctx;

    before = (sizeof("/images/") - 1) + NGX_HTTP_CHATPORT_CID_LEN;

    if ((size_t) (arg->data - r->uri.data) <= before) {
        goto unknown;
    }

    cid.len = NGX_HTTP_CHATPORT_CID_LEN;
    cid.data = arg->data - before;

    if (cid.data[-1] != '/' || ngx_http_chatport_cid(r, &cid) != NGX_OK) {
        goto unknown;
    }

    ctx = ngx_http_chatport_call_create(r,
                                        sizeof(ngx_http_chatport_upload_ctx_t),
                                        "unknown_conversation");
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->message.cid = cid;

    return ngx_http_chatport_upload_get(r, ctx, arg);

unknown:

    return ngx_http_chatport_send_error(r, NGX_HTTP_FORBIDDEN,
                                        "unknown_conversation",
                                        "no such conversation here");
}


static ngx_int_t
ngx_http_chatport_upload_get(ngx_http_request_t *r,
    ngx_http_chatport_upload_ctx_t *ctx, ngx_str_t *id)
{
    ngx_int_t                       rc;
    ngx_str_t                       key;
    ngx_http_chatport_stream_id_t   parsed;
    const char                     *argv[3];
    size_t                          lens[3];

    if (ngx_http_chatport_stream_id_parse(id, &parsed) != NGX_OK) {
        return ngx_http_chatport_send_error(r, NGX_HTTP_NOT_FOUND,
                                            "not_found", "no such photo");
    }

    ctx->id = *id;

    if (ngx_http_chatport_store_channel(r->pool,
                                        ngx_http_chatport_request_site(r),
                                        &ctx->message.cid, &key)
        != NGX_OK
        || ngx_http_chatport_store_key(r->pool, &key, "%V:images", &key)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    argv[0] = "HGET";
    lens[0] = 4;
    argv[1] = (const char *) key.data;
    lens[1] = key.len;
    argv[2] = (const char *) id->data;
    lens[2] = id->len;

    rc = ngx_http_chatport_redis_command(ngx_http_chatport_upload_got, ctx,
                                         &ctx->call.cmd, 3, argv, lens);

    return ngx_http_chatport_call_started(&ctx->call, rc);
}


static void
ngx_http_chatport_upload_got(void *data, redisReply *reply, ngx_int_t rc)
{
    ngx_http_chatport_upload_ctx_t  *ctx = data;

    u_char                     *p;
    ngx_str_t                   body, etag;
    ngx_table_elt_t            *h;
    ngx_http_request_t         *r;
    ngx_http_chatport_image_t   img;

    r = ctx->call.request;

    if (ngx_http_chatport_store_status(reply, rc, r->connection->log)
        != NGX_HTTP_CHATPORT_STORE_OK)
    {
        rc = ngx_http_chatport_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                          "unavailable",
                                          "the chat store is unavailable");
        goto done;
    }

    /* a photo of another conversation is not in this one's hash */
    if (reply->type != REDIS_REPLY_STRING
        || ngx_http_chatport_image_sniff((u_char *) reply->str, reply->len,
                                         &img)
           != NGX_OK)
    {
        rc = ngx_http_chatport_send_error(r, NGX_HTTP_FORBIDDEN,
                                          ctx->call.unknown,
                                          "no such photo in this "
                                          "conversation");
        goto done;
    }

    body.len = reply->len;
    body.data = ngx_pnalloc(r->pool, body.len);
    p = ngx_pnalloc(r->pool, ctx->id.len + 2);

    if (body.data == NULL || p == NULL) {
        rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        goto done;
    }

    ngx_memcpy(body.data, reply->str, body.len);

    /* a photo never changes: its id is its version */
    etag.data = p;
    etag.len = ngx_sprintf(p, "\"%V\"", &ctx->id) - p;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        goto done;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "ETag");
    h->value = etag;
    r->headers_out.etag = h;

    if (ngx_http_chatport_add_header(r, "Cache-Control",
                                     &ngx_http_chatport_upload_cache)
        != NGX_OK
        || ngx_http_chatport_add_header(r, "X-Content-Type-Options",
                                        &ngx_http_chatport_upload_nosniff)
           != NGX_OK
        || ngx_http_chatport_add_header(r, "Content-Security-Policy",
                                        &ngx_http_chatport_upload_csp)
           != NGX_OK)
    {
        rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        goto done;
    }

    rc = ngx_http_chatport_send(r, NGX_HTTP_OK,
                                ngx_http_chatport_image_type(&img), &body);

done:

    ngx_http_chatport_call_done(&ctx->call, rc);
}


/*
 * The URL of photos up to their id: prefix, a "/" when it has none,
 * path, and "CID/images/" with a cid.
 */

ngx_int_t
ngx_http_chatport_upload_url(ngx_pool_t *pool, ngx_str_t *prefix,
    char *path, ngx_str_t *cid, ngx_str_t *url)
{
    u_char  *p;
    size_t   len;

    len = prefix->len + 1 + ngx_strlen(path)
          + (cid ? cid->len + sizeof("/images/") : 0);

    p = ngx_pnalloc(pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    url->data = p;
    p = ngx_cpymem(p, prefix->data, prefix->len);

    if (prefix->len == 0 || prefix->data[prefix->len - 1] != '/') {
        *p++ = '/';
    }

    p = ngx_cpymem(p, path, ngx_strlen(path));

    if (cid) {
        p = ngx_sprintf(p, "%V/images/", cid);
    }

    url->len = p - url->data;

    return NGX_OK;
}
