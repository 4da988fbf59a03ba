
/*
 * ChatPort: the operators' view of the contact forms and their state.
 */


#ifndef _NGX_HTTP_CHATPORT_FORMS_H_INCLUDED_
#define _NGX_HTTP_CHATPORT_FORMS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_chatport_redis.h"


void ngx_http_chatport_forms_init(void);
ngx_int_t ngx_http_chatport_forms(ngx_http_request_t *r, ngx_str_t *arg);
ngx_int_t ngx_http_chatport_forms_store(ngx_pool_t *pool, ngx_str_t *site,
    ngx_str_t *after, ngx_http_chatport_redis_pt handler, void *data,
    ngx_http_chatport_redis_cmd_t **cmdp);
ngx_int_t ngx_http_chatport_form_state(ngx_http_request_t *r,
    ngx_str_t *arg);


#endif /* _NGX_HTTP_CHATPORT_FORMS_H_INCLUDED_ */
