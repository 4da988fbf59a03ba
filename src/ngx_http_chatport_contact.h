
/*
 * ChatPort: the visitor's contact details, asked for inside the chat.
 */


#ifndef _NGX_HTTP_CHATPORT_CONTACT_H_INCLUDED_
#define _NGX_HTTP_CHATPORT_CONTACT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


ngx_int_t ngx_http_chatport_contact(ngx_http_request_t *r, ngx_str_t *arg);


#endif /* _NGX_HTTP_CHATPORT_CONTACT_H_INCLUDED_ */
