
/*
 * ChatPort: Redis on nginx's event loop. Each worker keeps two hiredis
 * connections: one for commands and scripts (one per master with a
 * cluster), one for SUBSCRIBE.
 */


#ifndef _NGX_HTTP_CHATPORT_REDIS_H_INCLUDED_
#define _NGX_HTTP_CHATPORT_REDIS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>

#include "ngx_http_chatport.h"


typedef struct ngx_http_chatport_redis_cmd_s  ngx_http_chatport_redis_cmd_t;

/*
 * Called once per command: with NGX_OK and the reply (which may be an
 * error reply), or with NGX_ERROR and no reply when Redis could not
 * answer (connection lost, timeout). A write script under
 * chatport_redis_wait is answered once its WAIT is: NGX_BUSY with the
 * reply when fewer replicas than asked acknowledged it in time. The
 * reply belongs to hiredis.
 */
typedef void (*ngx_http_chatport_redis_pt)(void *data, redisReply *reply,
    ngx_int_t rc);

/* called for each message and subscription change on the pub/sub link */
typedef void (*ngx_http_chatport_redis_sub_pt)(redisReply *reply);

/* called when the pub/sub link is (re)established or lost */
typedef void (*ngx_http_chatport_redis_sub_state_pt)(ngx_uint_t up);

/* called when the command link is (re)established */
typedef void (*ngx_http_chatport_redis_ready_pt)(void);


typedef struct {
    ngx_str_t                     source;
    u_char                        sha1[41];
    ngx_uint_t                    wait;     /* a write chatport_redis_wait
                                               holds until replicas have it */
} ngx_http_chatport_redis_script_t;


ngx_int_t ngx_http_chatport_redis_init(ngx_cycle_t *cycle,
    ngx_http_chatport_main_conf_t *cmcf,
    ngx_http_chatport_redis_sub_pt on_message,
    ngx_http_chatport_redis_sub_state_pt on_sub_state,
    ngx_http_chatport_redis_ready_pt on_cmd_ready);
void ngx_http_chatport_redis_exit(void);
void ngx_http_chatport_redis_set_master(u_char *host, size_t len,
    ngx_int_t port);
redisAsyncContext *ngx_http_chatport_redis_node_ac(void);
void ngx_http_chatport_redis_node_drop(ngx_uint_t node);

void ngx_http_chatport_timer_init(ngx_event_t *ev,
    ngx_event_handler_pt handler);

void ngx_http_chatport_redis_script_init(
    ngx_http_chatport_redis_script_t *script);

ngx_int_t ngx_http_chatport_redis_command(ngx_http_chatport_redis_pt handler,
    void *data, ngx_http_chatport_redis_cmd_t **cmdp, int argc,
    const char **argv, const size_t *argvlen);
ngx_int_t ngx_http_chatport_redis_eval(
    ngx_http_chatport_redis_script_t *script,
    ngx_http_chatport_redis_pt handler, void *data,
    ngx_http_chatport_redis_cmd_t **cmdp, int argc, const char **argv,
    const size_t *argvlen);
void ngx_http_chatport_redis_cancel(ngx_http_chatport_redis_cmd_t *cmd);

ngx_int_t ngx_http_chatport_redis_subscribe(ngx_str_t *channel,
    ngx_uint_t subscribe);
ngx_uint_t ngx_http_chatport_redis_sub_ready(void);
ngx_int_t ngx_http_chatport_redis_channel_message(redisReply *reply,
    ngx_str_t *channel, ngx_str_t *head, ngx_str_t *tail);


#endif /* _NGX_HTTP_CHATPORT_REDIS_H_INCLUDED_ */
