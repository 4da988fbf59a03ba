
/*
 * ChatPort: the widget's customisation (texts, field labels, position,
 * privacy notice).
 */


#ifndef _NGX_HTTP_CHATPORT_CUSTOM_H_INCLUDED_
#define _NGX_HTTP_CHATPORT_CUSTOM_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_chatport_json.h"


#define NGX_HTTP_CHATPORT_LABEL_MAX    128     /* a form field's label */
#define NGX_HTTP_CHATPORT_BOTTOM_MAX   1000    /* the launcher's offset, px */


typedef struct {
    ngx_str_t                 offline;         /* "": the widget's own */
    ngx_str_t                 thanks;
    ngx_str_t                 privacy_url;     /* "": no notice */
    ngx_uint_t                position;        /* NGX_CONF_UNSET_UINT */
    ngx_int_t                 bottom;          /* px */
} ngx_http_chatport_custom_conf_t;


char *ngx_http_chatport_text_check(ngx_str_t *text);
ngx_int_t ngx_http_chatport_label_parse(ngx_str_t *arg, ngx_str_t *labels,
    char **err);
ngx_str_t *ngx_http_chatport_label(ngx_str_t *labels, ngx_uint_t lang);
char *ngx_http_chatport_position(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
void ngx_http_chatport_custom_merge(ngx_http_chatport_custom_conf_t *conf,
    ngx_http_chatport_custom_conf_t *prev);
ngx_uint_t ngx_http_chatport_custom_lang(ngx_http_request_t *r,
    ngx_uint_t lang);
void ngx_http_chatport_custom_json(ngx_http_chatport_json_t *j,
    ngx_http_chatport_custom_conf_t *conf);


#endif /* _NGX_HTTP_CHATPORT_CUSTOM_H_INCLUDED_ */
