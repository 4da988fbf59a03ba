
/*
 * ChatPort: a command written in Redis's protocol and given to hiredis.
 */


#ifndef _NGX_HTTP_CHATPORT_RESP_H_INCLUDED_
#define _NGX_HTTP_CHATPORT_RESP_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include <hiredis/async.h>


int ngx_http_chatport_resp_send(redisAsyncContext *ac,
    redisCallbackFn *fn, void *privdata, int argc, const char **argv,
    const size_t *argvlen);
void ngx_http_chatport_resp_exit(void);

/* the most bytes a command takes, and the command written at p */
size_t ngx_http_chatport_resp_size(int argc, const size_t *argvlen);
u_char *ngx_http_chatport_resp_format(u_char *p, int argc,
    const char **argv, const size_t *argvlen);


#endif /* _NGX_HTTP_CHATPORT_RESP_H_INCLUDED_ */
