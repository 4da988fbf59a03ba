
/*
 * ChatPort: chatport_operator LOGIN "Display Name", the name visitors and
 * the other operators see instead of an operator's login.
 */


#ifndef _NGX_HTTP_CHATPORT_NAMES_H_INCLUDED_
#define _NGX_HTTP_CHATPORT_NAMES_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_chatport_json.h"
#include "ngx_http_chatport_store.h"


#define NGX_HTTP_CHATPORT_LOGIN_MAX   64      /* bytes */
#define NGX_HTTP_CHATPORT_NAME_MAX    64      /* characters */


typedef struct {
    ngx_str_t                 login;
    ngx_str_t                 name;
} ngx_http_chatport_operator_name_t;


char *ngx_http_chatport_operator_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_chatport_login_valid(ngx_str_t *login);
ngx_str_t *ngx_http_chatport_operator_name(ngx_http_request_t *r,
    ngx_str_t *login);
void ngx_http_chatport_operator_name_set(ngx_http_request_t *r,
    ngx_http_chatport_message_t *m);
void ngx_http_chatport_names_json(ngx_http_request_t *r,
    ngx_http_chatport_json_t *j, ngx_str_t *login);


#endif /* _NGX_HTTP_CHATPORT_NAMES_H_INCLUDED_ */
