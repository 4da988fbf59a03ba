
/*
 * ChatPort: notifications.
 *
 * On a new conversation and on a form submission the event goes, as JSON,
 * to the chatport_notify location in a POST subrequest. The subrequest
 * runs in the background: the visitor's answer never waits for it, and its
 * failure is only logged. It carries none of the visitor's headers (their
 * cookie stays theirs): only Content-Type and the body.
 *
 * Like nginx's mirror module, the subrequest is header-only: a background
 * subrequest's body (the webhook's answer, an error page) would be held
 * by the postpone filter for good, and the visitor's request, and so its
 * connection, would never be finished.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_chatport.h"
#include "ngx_http_chatport_notify.h"


static ngx_int_t ngx_http_chatport_notify_done(ngx_http_request_t *r,
    void *data, ngx_int_t rc);


static ngx_str_t  ngx_http_chatport_notify_method = ngx_string("POST");


ngx_int_t
ngx_http_chatport_notify(ngx_http_request_t *r, ngx_str_t *event)
{
    ngx_buf_t                     *b;
    ngx_chain_t                   *cl;
    ngx_table_elt_t               *h;
    ngx_http_request_t            *sr;
    ngx_http_request_body_t       *rb;
    ngx_http_post_subrequest_t    *ps;
    ngx_http_chatport_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);

    if (clcf->notify.len == 0) {
        return NGX_OK;
    }

    ps = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));
    rb = ngx_pcalloc(r->pool, sizeof(ngx_http_request_body_t));
    b = ngx_calloc_buf(r->pool);
    cl = ngx_alloc_chain_link(r->pool);

    if (ps == NULL || rb == NULL || b == NULL || cl == NULL) {
        return NGX_ERROR;
    }

    /* the flag: nginx may finalize a failed subrequest more than once */
    ps->handler = ngx_http_chatport_notify_done;
    ps->data = ngx_pcalloc(r->pool, sizeof(ngx_uint_t));

    if (ps->data == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_subrequest(r, &clcf->notify, NULL, &sr, ps,
                            NGX_HTTP_SUBREQUEST_BACKGROUND)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    sr->header_only = 1;

    b->pos = event->data;
    b->last = event->data + event->len;
    b->memory = 1;
    b->last_buf = 1;

    cl->buf = b;
    cl->next = NULL;
    rb->bufs = cl;

    sr->method = NGX_HTTP_POST;
    sr->method_name = ngx_http_chatport_notify_method;
    sr->request_body = rb;

    /* the subrequest's own headers: the event's type and length only */

    ngx_memzero(&sr->headers_in, sizeof(ngx_http_headers_in_t));

    if (ngx_list_init(&sr->headers_in.headers, r->pool, 2,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    h = ngx_list_push(&sr->headers_in.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Content-Type");
    ngx_str_set(&h->value, "application/json");
    h->lowcase_key = (u_char *) "content-type";

    sr->headers_in.content_type = h;
    sr->headers_in.content_length_n = event->len;
    sr->headers_in.server = r->headers_in.server;
    sr->headers_in.host = r->headers_in.host;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "chatport notify \"%V\"", &clcf->notify);

    return NGX_OK;
}


static ngx_int_t
ngx_http_chatport_notify_done(ngx_http_request_t *r, void *data,
    ngx_int_t rc)
{
    ngx_uint_t  *logged = data;

    if (*logged) {
        return rc;
    }

    if (rc != NGX_OK || r->headers_out.status >= NGX_HTTP_SPECIAL_RESPONSE
        || r->headers_out.status < NGX_HTTP_OK)
    {
        *logged = 1;

        /* a subrequest that ended in an error has no status of its own */
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "chatport: notification to \"%V\" failed: status %i",
                      &r->uri,
                      r->headers_out.status ? (ngx_int_t) r->headers_out.status
                                            : rc);
    }

    return rc;
}


/*
 * "https://shop.example/chatport/agent/#CID": from chatport_console_url,
 * or from the server's first name, the port the request came in on and
 * the first chatport_agent location; never from a request header (a Host
 * of "shop.example:1@evil.example" is served by shop.example). No link
 * when the server's name is a wildcard, a regex or empty.
 */

ngx_int_t
ngx_http_chatport_console_link(ngx_http_request_t *r, ngx_str_t *cid,
    ngx_str_t *link)
{
    u_char                        *p;
    ngx_str_t                     *name;
    in_port_t                      port, standard;
    ngx_http_core_srv_conf_t      *core;
    ngx_http_chatport_srv_conf_t  *cscf;

    cscf = ngx_http_get_module_srv_conf(r, ngx_http_chatport_module);

    ngx_str_null(link);

    if (cscf->console_url.len) {
        link->data = ngx_pnalloc(r->pool, cscf->console_url.len + 1
                                          + cid->len);
        if (link->data == NULL) {
            return NGX_ERROR;
        }

        link->len = ngx_sprintf(link->data, "%V#%V", &cscf->console_url, cid)
                    - link->data;
        return NGX_OK;
    }

    core = ngx_http_get_module_srv_conf(r, ngx_http_core_module);
    name = &core->server_name;

    if (cscf->agent_prefix.len == 0 || name->len == 0 || name->data[0] == '~'
        || ngx_strlchr(name->data, name->data + name->len, '*') != NULL)
    {
        return NGX_OK;
    }

    if (ngx_connection_local_sockaddr(r->connection, NULL, 0) != NGX_OK) {
        return NGX_ERROR;
    }

    port = ngx_inet_get_port(r->connection->local_sockaddr);
    standard = 80;

#if (NGX_HTTP_SSL)
    if (r->connection->ssl) {
        standard = 443;
    }
#endif

    link->data = ngx_pnalloc(r->pool, sizeof("https://:65535#") - 1
                                      + name->len + cscf->agent_prefix.len
                                      + cid->len);
    if (link->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(link->data, "%s://%V", standard == 443 ? "https" : "http",
                    name);

    if (port != standard) {
        p = ngx_sprintf(p, ":%ui", (ngx_uint_t) port);
    }

    link->len = ngx_sprintf(p, "%V#%V", &cscf->agent_prefix, cid)
                - link->data;

    return NGX_OK;
}
