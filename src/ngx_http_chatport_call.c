
/*
 * ChatPort: a request waiting for Redis.
 *
 * The request holds a reference while its command is under way; the
 * reply finalizes it. A request that goes away first (the client left)
 * cancels its command, so that the reply finds nobody to call.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_chatport.h"
#include "ngx_http_chatport_call.h"
#include "ngx_http_chatport_http.h"
#include "ngx_http_chatport_identity.h"
#include "ngx_http_chatport_json.h"


static void ngx_http_chatport_call_cleanup(void *data);


/* a ctx of size bytes that starts with an ngx_http_chatport_call_t */

void *
ngx_http_chatport_call_create(ngx_http_request_t *r, size_t size,
    char *unknown)
{
    ngx_pool_cleanup_t        *cln;
    ngx_http_chatport_call_t  *call;

    call = ngx_pcalloc(r->pool, size);
    if (call == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_chatport_call_cleanup;
    cln->data = call;

    call->request = r;
    call->unknown = unknown;

    return call;
}


/*
 * A call on the conversation of the visitor's cookie, with its cid; NULL
 * when the request has been answered (403 without a conversation).
 */

void *
ngx_http_chatport_visitor_call(ngx_http_request_t *r, size_t size,
    ngx_str_t *cid)
{
    ngx_str_t  vid;
    void      *ctx;

    if (ngx_http_chatport_visitor_cookie(r, &vid) != NGX_OK) {
        ngx_http_finalize_request(r,
            ngx_http_chatport_send_error(r, NGX_HTTP_FORBIDDEN,
                                         "unknown_visitor",
                                         "no conversation for this "
                                         "visitor"));
        return NULL;
    }

    ctx = ngx_http_chatport_call_create(r, size, "unknown_visitor");

    if (ctx == NULL
        || ngx_http_chatport_visitor_cid(r->pool, &vid, cid) != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return NULL;
    }

    return ctx;
}


static void
ngx_http_chatport_call_cleanup(void *data)
{
    ngx_http_chatport_call_t  *call = data;

    if (call->cmd) {
        ngx_http_chatport_redis_cancel(call->cmd);
        call->cmd = NULL;
    }
}


/*
 * What a content handler returns after starting a store command with
 * result rc: NGX_DONE while it runs, or the answer when it could not start.
 */

ngx_int_t
ngx_http_chatport_call_started(ngx_http_chatport_call_t *call, ngx_int_t rc)
{
    if (rc == NGX_OK) {
        call->request->main->count++;
        return NGX_DONE;
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_chatport_send_error(call->request,
                                            NGX_HTTP_SERVICE_UNAVAILABLE,
                                            "unavailable",
                                            "the chat store is unavailable");
    }

    return NGX_HTTP_INTERNAL_SERVER_ERROR;
}


/*
 * The same for a body handler, which finalizes the request itself: nothing
 * while the command runs, the answer when it could not start.
 */

void
ngx_http_chatport_call_posted(ngx_http_chatport_call_t *call, ngx_int_t rc)
{
    if (rc == NGX_OK) {
        return;
    }

    ngx_http_finalize_request(call->request,
                              ngx_http_chatport_call_started(call, rc));
}


void
ngx_http_chatport_call_done(ngx_http_chatport_call_t *call, ngx_int_t rc)
{
    ngx_connection_t  *c;

    c = call->request->connection;
    call->cmd = NULL;

    ngx_http_finalize_request(call->request, rc);
    ngx_http_run_posted_requests(c);
}


/* a reply that is the answer's JSON, or {count, JSON} */

/* a store's failure answered with its JSON error, and the call done */

void
ngx_http_chatport_call_failed(ngx_http_chatport_call_t *call,
    ngx_http_chatport_store_status_e status)
{
    ngx_http_chatport_error_t  err;

    ngx_http_chatport_store_error(status, call->unknown, &err);
    ngx_http_chatport_call_done(call,
                                ngx_http_chatport_send_error(call->request,
                                                             err.status,
                                                             err.code,
                                                             err.message));
}


void
ngx_http_chatport_call_json(void *data, redisReply *reply, ngx_int_t rc)
{
    ngx_http_chatport_call_t  *call = data;

    ngx_int_t                          count;
    ngx_str_t                          body;
    ngx_http_chatport_error_t          err;
    ngx_http_chatport_store_status_e   status;

    call->cmd = NULL;

    status = ngx_http_chatport_reply_json(reply, rc, call->request, 0,
                                          &count, &body);

    if (status == NGX_HTTP_CHATPORT_STORE_OK) {
        rc = ngx_http_chatport_send_json(call->request, NGX_HTTP_OK, &body);

    } else {
        ngx_http_chatport_store_error(status, call->unknown, &err);
        rc = ngx_http_chatport_send_error(call->request, err.status,
                                          err.code, err.message);
    }

    ngx_http_chatport_call_done(call, rc);
}


/* a command whose success is answered 204 */

void
ngx_http_chatport_call_empty(void *data, redisReply *reply, ngx_int_t rc)
{
    ngx_http_chatport_call_t  *call = data;

    ngx_str_t                          empty;
    ngx_http_chatport_error_t          err;
    ngx_http_chatport_store_status_e   status;

    call->cmd = NULL;

    status = ngx_http_chatport_store_status(reply, rc,
                                            call->request->connection->log);

    /* a repeated key: the first post was stored, the answer is the same */
    if (status == NGX_HTTP_CHATPORT_STORE_OK
        || status == NGX_HTTP_CHATPORT_STORE_REPEAT)
    {
        ngx_str_null(&empty);
        rc = ngx_http_chatport_send_json(call->request, NGX_HTTP_NO_CONTENT,
                                         &empty);

    } else {
        ngx_http_chatport_store_error(status, call->unknown, &err);
        rc = ngx_http_chatport_send_error(call->request, err.status,
                                          err.code, err.message);
    }

    ngx_http_chatport_call_done(call, rc);
}


/*
 * The JSON of a reply, copied into the request's pool: a string, or
 * {count, string} from the read scripts (count -1 otherwise). found_only:
 * a read that found nothing gives an empty body, for a poll that parks
 * instead of answering it (the copy would stay as long as the poll).
 */

ngx_http_chatport_store_status_e
ngx_http_chatport_reply_json(redisReply *reply, ngx_int_t rc,
    ngx_http_request_t *r, ngx_uint_t found_only, ngx_int_t *count,
    ngx_str_t *body)
{
    redisReply                        *text;
    ngx_http_chatport_store_status_e   status;

    status = ngx_http_chatport_store_status(reply, rc, r->connection->log);

    if (status != NGX_HTTP_CHATPORT_STORE_OK) {
        return status;
    }

    *count = -1;
    text = reply;

    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2
        && reply->element[0]->type == REDIS_REPLY_INTEGER)
    {
        *count = reply->element[0]->integer;
        text = reply->element[1];
    }

    if (text->type != REDIS_REPLY_STRING) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "chatport: unexpected reply type %d from a script",
                      text->type);
        return NGX_HTTP_CHATPORT_STORE_UNAVAILABLE;
    }

    if (found_only && *count == 0) {
        ngx_str_null(body);
        return NGX_HTTP_CHATPORT_STORE_OK;
    }

    body->len = text->len;
    body->data = ngx_pnalloc(r->pool, text->len);

    if (body->data == NULL) {
        return NGX_HTTP_CHATPORT_STORE_UNAVAILABLE;
    }

    ngx_memcpy(body->data, text->str, text->len);

    return NGX_HTTP_CHATPORT_STORE_OK;
}


void
ngx_http_chatport_store_error(ngx_http_chatport_store_status_e status,
    char *unknown, ngx_http_chatport_error_t *err)
{
    switch (status) {

    case NGX_HTTP_CHATPORT_STORE_UNKNOWN:
        err->status = NGX_HTTP_FORBIDDEN;
        err->code = unknown;
        err->message = "no such conversation here";
        break;

    case NGX_HTTP_CHATPORT_STORE_CURSOR:
        err->status = NGX_HTTP_BAD_REQUEST;
        err->code = "invalid_cursor";
        err->message = "\"after\" is not a message id of this conversation";
        break;

    case NGX_HTTP_CHATPORT_STORE_UNSAFE:
        err->status = NGX_HTTP_SERVICE_UNAVAILABLE;
        err->code = "not_replicated";
        err->message = "the message is stored but not yet safe (too few "
                       "Redis replicas have it): resend it with the same "
                       "\"key\"";
        break;

    default:
        err->status = NGX_HTTP_SERVICE_UNAVAILABLE;
        err->code = "unavailable";
        err->message = "the chat store is unavailable";
        break;
    }
}


/* 201 {"id": "<the stream id a write script returned>"} */

ngx_int_t
ngx_http_chatport_send_created(ngx_http_request_t *r, redisReply *reply)
{
    ngx_str_t                 id;
    ngx_http_chatport_json_t  j;

    id.data = (u_char *) reply->str;
    id.len = reply->len;

    ngx_http_chatport_json_init(&j, r->pool);
    ngx_http_chatport_json_literal(&j, "{\"id\":");
    ngx_http_chatport_json_string(&j, &id);
    ngx_http_chatport_json_literal(&j, "}\n");

    return ngx_http_chatport_send_built(r, NGX_HTTP_CREATED, &j);
}


/* 429 with Retry-After in whole seconds, from a script's "RATE <ms>" */

ngx_int_t
ngx_http_chatport_send_rate_limited(ngx_http_request_t *r, redisReply *reply,
    char *message)
{
    ngx_int_t  ms;
    ngx_str_t  retry;

    ms = (reply->len > 5) ? ngx_atoi((u_char *) reply->str + 5, reply->len - 5)
                          : NGX_ERROR;

    retry.data = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
    if (retry.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    retry.len = ngx_sprintf(retry.data, "%i",
                            ms == NGX_ERROR ? 60 : (ms + 999) / 1000)
                - retry.data;

    if (ngx_http_chatport_add_header(r, "Retry-After", &retry) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_chatport_send_error(r, NGX_HTTP_TOO_MANY_REQUESTS,
                                        "rate_limited", message);
}
