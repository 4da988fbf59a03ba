
/*
 * ChatPort: the outbox. Mails are recorded in Redis by the scripts that
 * store what implies them; every worker of every host takes its share
 * through a Redis Streams consumer group and sends it over SMTP.
 */


#ifndef _NGX_HTTP_CHATPORT_OUTBOX_H_INCLUDED_
#define _NGX_HTTP_CHATPORT_OUTBOX_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_chatport.h"
#include "ngx_http_chatport_redis.h"


ngx_int_t ngx_http_chatport_outbox_init(ngx_cycle_t *cycle,
    ngx_http_chatport_main_conf_t *cmcf);
void ngx_http_chatport_outbox_exit(void);
ngx_int_t ngx_http_chatport_outbox_on_message(redisReply *reply);
void ngx_http_chatport_outbox_on_sub_state(ngx_uint_t up);


#endif /* _NGX_HTTP_CHATPORT_OUTBOX_H_INCLUDED_ */
