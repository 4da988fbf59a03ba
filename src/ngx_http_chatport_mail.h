
/*
 * ChatPort: a mail of the outbox as an RFC 5322 message: UTF-8 subject
 * (RFC 2047) and body (base64), threading headers, nothing of the
 * visitor's ever raw in a header.
 */


#ifndef _NGX_HTTP_CHATPORT_MAIL_H_INCLUDED_
#define _NGX_HTTP_CHATPORT_MAIL_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include <jansson.h>


typedef struct {
    ngx_str_t                     from;        /* the envelope's, */
    ngx_str_t                    *to;          /* ... recipients, each
                                                  null-terminated */
    ngx_uint_t                    nto;
    ngx_str_t                     message;     /* headers and body, CRLF */
} ngx_http_chatport_mail_t;


/*
 * An outbox entry (its JSON is described in ngx_http_chatport_mail.c) as
 * a mail; everything in the pool. NGX_DECLINED: the entry cannot make a
 * mail (no valid recipient, a malformed entry), with the reason logged.
 */
ngx_int_t ngx_http_chatport_mail_render(ngx_pool_t *pool, json_t *entry,
    ngx_http_chatport_mail_t *mail, ngx_log_t *log);

/* a plain addr-spec that may go in a header and an SMTP envelope */
ngx_uint_t ngx_http_chatport_mail_address(ngx_str_t *addr);


#endif /* _NGX_HTTP_CHATPORT_MAIL_H_INCLUDED_ */
