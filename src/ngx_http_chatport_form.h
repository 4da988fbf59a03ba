
/*
 * ChatPort: the contact form.
 */


#ifndef _NGX_HTTP_CHATPORT_FORM_H_INCLUDED_
#define _NGX_HTTP_CHATPORT_FORM_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_chatport_json.h"


#define NGX_HTTP_CHATPORT_FORM_PAIRS_MAX  64
#define NGX_HTTP_CHATPORT_HONEYPOT        "website"


typedef enum {
    NGX_HTTP_CHATPORT_FIELD_TEXT = 0,
    NGX_HTTP_CHATPORT_FIELD_TEXTAREA,
    NGX_HTTP_CHATPORT_FIELD_EMAIL,
    NGX_HTTP_CHATPORT_FIELD_TEL
} ngx_http_chatport_field_type_e;


typedef struct {
    ngx_str_t                        name;
    ngx_http_chatport_field_type_e   type;
    size_t                           max;
    ngx_uint_t                       required;   /* unsigned:1 */
    ngx_str_t                        label[3];   /* by lang_e; [auto]:
                                                    any language */
} ngx_http_chatport_form_field_t;


char *ngx_http_chatport_form_field_parse(ngx_conf_t *cf, ngx_array_t **fields);
ngx_array_t *ngx_http_chatport_form_default_fields(ngx_conf_t *cf);
void ngx_http_chatport_form_fields_json(ngx_http_chatport_json_t *j,
    ngx_array_t *fields, ngx_uint_t lang);
ngx_int_t ngx_http_chatport_form(ngx_http_request_t *r, ngx_str_t *arg);
ngx_int_t ngx_http_chatport_forms(ngx_http_request_t *r, ngx_str_t *arg);
char *ngx_http_chatport_form_check(ngx_http_chatport_form_field_t *f,
    ngx_str_t *value);
ngx_int_t ngx_http_chatport_send_fields_error(ngx_http_request_t *r,
    ngx_str_t *fields);


#endif /* _NGX_HTTP_CHATPORT_FORM_H_INCLUDED_ */
