
/*
 * ChatPort: Redis Cluster, the slot map and which node a command goes to.
 */


#ifndef _NGX_HTTP_CHATPORT_CLUSTER_H_INCLUDED_
#define _NGX_HTTP_CHATPORT_CLUSTER_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include <hiredis/async.h>

#include "ngx_http_chatport.h"


/* nodes a worker knows at most: masters, replicas and seeds */
#define NGX_HTTP_CHATPORT_CLUSTER_NODES  64


void ngx_http_chatport_cluster_init(ngx_http_chatport_main_conf_t *cmcf);
ngx_uint_t ngx_http_chatport_cluster_seeds(void);
ngx_int_t ngx_http_chatport_cluster_route(int argc, const char **argv,
    const size_t *argvlen);
ngx_int_t ngx_http_chatport_cluster_redirect(const char *err, size_t len,
    ngx_uint_t *ask);
ngx_http_chatport_addr_t *ngx_http_chatport_cluster_addr(ngx_uint_t node);
ngx_http_chatport_addr_t *ngx_http_chatport_cluster_sub_next(void);
void ngx_http_chatport_cluster_refresh(void);
void ngx_http_chatport_cluster_link_ready(redisAsyncContext *ac);


#endif /* _NGX_HTTP_CHATPORT_CLUSTER_H_INCLUDED_ */
