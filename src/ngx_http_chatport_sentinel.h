
/*
 * ChatPort: finding the Redis master through Redis Sentinel, and
 * following it across failovers.
 */


#ifndef _NGX_HTTP_CHATPORT_SENTINEL_H_INCLUDED_
#define _NGX_HTTP_CHATPORT_SENTINEL_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include <hiredis/async.h>

#include "ngx_http_chatport.h"


void ngx_http_chatport_sentinel_init(ngx_http_chatport_main_conf_t *cmcf);
ngx_http_chatport_addr_t *ngx_http_chatport_sentinel_next(void);
void ngx_http_chatport_sentinel_ready(redisAsyncContext *ac);


#endif /* _NGX_HTTP_CHATPORT_SENTINEL_H_INCLUDED_ */
