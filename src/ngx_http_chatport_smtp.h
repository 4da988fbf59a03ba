
/*
 * ChatPort: SMTP through libcurl's multi-socket interface, driven by
 * nginx's own event loop: curl's sockets are nginx connections, curl's
 * timer an nginx timer. A worker never waits on the server.
 */


#ifndef _NGX_HTTP_CHATPORT_SMTP_H_INCLUDED_
#define _NGX_HTTP_CHATPORT_SMTP_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


typedef struct {
    ngx_str_t                     url;         /* as written, for logs */
    ngx_str_t                     curl_url;    /* null-terminated */
    ngx_str_t                     resolve;     /* "host:port:addr", or "" */
    ngx_uint_t                    implicit_tls;  /* smtps:// */
    ngx_str_t                     user;        /* null-terminated, or "" */
    ngx_str_t                     password;    /* null-terminated, or "" */
    ngx_str_t                     ca;          /* null-terminated, or "" */
    ngx_msec_t                    timeout;     /* a whole transaction */
} ngx_http_chatport_smtp_conf_t;


/*
 * The end of a send: NGX_OK when the server accepted the mail, NGX_AGAIN
 * for a failure worth a retry (no connection, a 4xx, a timeout, a login
 * refused), NGX_DECLINED when the server refused the mail itself for good
 * (a 5xx to the sender, a recipient or the data). error: a line for the
 * log and the console, valid only during the call.
 */
typedef void (*ngx_http_chatport_smtp_done_pt)(void *data, ngx_int_t rc,
    ngx_str_t *error);


char *ngx_http_chatport_smtp_url(ngx_conf_t *cf,
    ngx_http_chatport_smtp_conf_t *conf, ngx_str_t *url);
ngx_int_t ngx_http_chatport_smtp_init(ngx_cycle_t *cycle,
    ngx_http_chatport_smtp_conf_t *conf);
void ngx_http_chatport_smtp_exit(void);

/*
 * Starts a send; the handler is called once, never from inside this
 * call. from, to and mail (the whole message, CRLF lines) stay the
 * caller's and must live until then. NGX_ERROR (no memory, or no
 * chatport_smtp): nothing started and the handler is not called. At
 * worker exit, sends under way end without their handler.
 */
ngx_int_t ngx_http_chatport_smtp_send(ngx_str_t *from, ngx_str_t *to,
    ngx_uint_t nto, ngx_str_t *mail, ngx_http_chatport_smtp_done_pt handler,
    void *data);


#endif /* _NGX_HTTP_CHATPORT_SMTP_H_INCLUDED_ */
