
/*
 * ChatPort: a hint about a Redis setting that costs memory per
 * conversation (see README, "Sizing Redis").
 */


#ifndef _NGX_HTTP_CHATPORT_REDIS_HINT_H_INCLUDED_
#define _NGX_HTTP_CHATPORT_REDIS_HINT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include <hiredis/async.h>


/* the stream-node-max-bytes README recommends */
#define NGX_HTTP_CHATPORT_STREAM_NODE_BYTES  1024


void ngx_http_chatport_redis_hint(redisAsyncContext *ac);


#endif /* _NGX_HTTP_CHATPORT_REDIS_HINT_H_INCLUDED_ */
