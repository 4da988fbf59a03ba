
/*
 * ChatPort: POST P seen {"id"}.
 *
 * The widget tells which operators' messages it has shown (delivered to
 * a poll and displayed to the visitor): a reply seen needs no mail, and
 * the operators learn it through their inbox ({"type": "seen"}).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_chatport.h"
#include "ngx_http_chatport_call.h"
#include "ngx_http_chatport_http.h"
#include "ngx_http_chatport_json.h"
#include "ngx_http_chatport_seen.h"
#include "ngx_http_chatport_store.h"
#include "ngx_http_chatport_waiters.h"


#define NGX_HTTP_CHATPORT_SEEN_BODY_MAX  1024


typedef struct {
    ngx_http_chatport_call_t        call;
} ngx_http_chatport_seen_ctx_t;


static void ngx_http_chatport_seen_body(ngx_http_request_t *r);


ngx_int_t
ngx_http_chatport_seen(ngx_http_request_t *r, ngx_str_t *arg)
{
    return ngx_http_chatport_read_json(r, NGX_HTTP_CHATPORT_SEEN_BODY_MAX,
                                       ngx_http_chatport_seen_body);
}


static void
ngx_http_chatport_seen_body(ngx_http_request_t *r)
{
    json_t                          *root;
    ngx_int_t                        rc;
    ngx_str_t                        id, cid;
    ngx_http_chatport_srv_conf_t    *cscf;
    ngx_http_chatport_loc_conf_t    *clcf;
    ngx_http_chatport_seen_ctx_t    *ctx;
    ngx_http_chatport_stream_id_t    parsed;

    root = ngx_http_chatport_body_json(r, NGX_HTTP_CHATPORT_SEEN_BODY_MAX);
    if (root == NULL) {
        return;
    }

    rc = ngx_http_chatport_json_get_string(r->pool, root, "id", &id);
    json_decref(root);

    if (rc != NGX_OK || ngx_http_chatport_stream_id_parse(&id, &parsed)
                        != NGX_OK)
    {
        ngx_http_finalize_request(r,
            ngx_http_chatport_send_error(r, NGX_HTTP_BAD_REQUEST,
                                         "invalid_id",
                                         "\"id\" must be a message id"));
        return;
    }

    ctx = ngx_http_chatport_visitor_call(r,
                                         sizeof(ngx_http_chatport_seen_ctx_t),
                                         &cid);
    if (ctx == NULL) {
        return;
    }

    cscf = ngx_http_get_module_srv_conf(r, ngx_http_chatport_module);
    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);

    rc = ngx_http_chatport_store_seen(r->pool, &cscf->site, &cid, &id,
                                      clcf->retention,
                                      ngx_http_chatport_call_empty, ctx,
                                      &ctx->call.cmd);

    ngx_http_chatport_call_posted(&ctx->call, rc);
}
