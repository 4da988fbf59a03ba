
/*
 * ChatPort: one operator location for several sites
 * ("chatport_agent_sites"): the site a request is about, and lists of
 * every listed site merged into one answer.
 */


#ifndef _NGX_HTTP_CHATPORT_SITES_H_INCLUDED_
#define _NGX_HTTP_CHATPORT_SITES_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_chatport_list.h"


char *ngx_http_chatport_agent_sites(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_chatport_site_name(ngx_str_t *name);

ngx_int_t ngx_http_chatport_sites_check(ngx_http_request_t *r,
    ngx_str_t *rest);
ngx_str_t *ngx_http_chatport_request_site(ngx_http_request_t *r);
ngx_str_t *ngx_http_chatport_sites_first(ngx_http_request_t *r);
ngx_str_t *ngx_http_chatport_sites_find(ngx_http_request_t *r,
    ngx_str_t *name);

ngx_int_t ngx_http_chatport_sites_conversations(ngx_http_request_t *r,
    ngx_http_chatport_list_t *list, ngx_str_t *images);
ngx_int_t ngx_http_chatport_sites_forms(ngx_http_request_t *r);


#endif /* _NGX_HTTP_CHATPORT_SITES_H_INCLUDED_ */
