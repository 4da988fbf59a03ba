
/*
 * ChatPort: long-poll waiters, parked per channel and woken by pub/sub.
 */


#ifndef _NGX_HTTP_CHATPORT_WAITERS_H_INCLUDED_
#define _NGX_HTTP_CHATPORT_WAITERS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_chatport_redis.h"


typedef struct ngx_http_chatport_waiter_s   ngx_http_chatport_waiter_t;
typedef struct ngx_http_chatport_channel_s  ngx_http_chatport_channel_t;

/*
 * Reads the channel's stream after w->cursor; must end in exactly one call
 * of ngx_http_chatport_waiter_checked() or ngx_http_chatport_waiter_fail().
 */
typedef ngx_int_t (*ngx_http_chatport_waiter_check_pt)(
    ngx_http_chatport_waiter_t *w);


typedef struct {
    uint64_t                            ms;
    uint64_t                            seq;
} ngx_http_chatport_stream_id_t;


struct ngx_http_chatport_waiter_s {
    ngx_http_request_t                 *request;
    ngx_queue_t                         queue;
    ngx_http_chatport_channel_t        *channel;

    ngx_str_t                           channel_name;
    ngx_str_t                           cursor;
    ngx_http_chatport_stream_id_t       cursor_id;
    ngx_str_t                           list;      /* "messages", "events" */

    ngx_http_chatport_waiter_check_pt   check;
    ngx_http_chatport_redis_cmd_t      *cmd;       /* the read in flight */
    void                               *data;      /* the handler's own */
    char                               *unknown;   /* the error code for */
                                                   /* an unknown stream */

    ngx_event_t                         timeout;
    ngx_msec_t                          poll_timeout;
    ngx_event_handler_pt                read_handler;

    unsigned                            state:2;
    unsigned                            dirty:1;   /* news while reading */
    unsigned                            finished:1;
    unsigned                            events:1;  /* "events" beside */
                                                   /* the list */
};


ngx_int_t ngx_http_chatport_stream_id_parse(ngx_str_t *text,
    ngx_http_chatport_stream_id_t *id);

ngx_http_chatport_waiter_t *ngx_http_chatport_waiter_create(
    ngx_http_request_t *r, ngx_str_t *channel, ngx_str_t *cursor,
    ngx_msec_t timeout, char *list, ngx_http_chatport_waiter_check_pt check);
ngx_int_t ngx_http_chatport_waiter_start(ngx_http_chatport_waiter_t *w);
void ngx_http_chatport_waiter_checked(ngx_http_chatport_waiter_t *w,
    ngx_uint_t found, ngx_str_t *body);
void ngx_http_chatport_waiter_read_done(void *data, redisReply *reply,
    ngx_int_t rc);
void ngx_http_chatport_waiter_fail(ngx_http_chatport_waiter_t *w,
    ngx_uint_t status, char *code, char *message);

void ngx_http_chatport_waiters_on_message(redisReply *reply);
void ngx_http_chatport_waiters_on_sub_state(ngx_uint_t up);
void ngx_http_chatport_waiters_on_cmd_ready(void);
void ngx_http_chatport_waiters_init(void);
void ngx_http_chatport_waiters_exit(void);


#endif /* _NGX_HTTP_CHATPORT_WAITERS_H_INCLUDED_ */
