
/*
 * ChatPort: a command written in Redis's protocol and given to hiredis.
 *
 * redisAsyncCommandArgv() formats each argument's "$LEN\r\n" with
 * sdscatfmt() into a string it grows as it goes, then copies that string
 * into the connection's output buffer and frees it: for a message's
 * script of some forty arguments that was about a third of the worker's
 * instructions per message (callgrind). Here the command is written
 * once, into a buffer the worker keeps, and handed over with
 * redisAsyncFormattedCommand(), which copies it at once. A command
 * larger than the kept buffer may grow (a photo) gets a buffer of its
 * own, freed as soon as hiredis has its copy.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_chatport_resp.h"


/* the largest buffer a worker keeps between commands */
#define NGX_HTTP_CHATPORT_RESP_KEEP  16384


static u_char *ngx_http_chatport_resp_head(u_char *p, u_char type,
    size_t n);


static u_char  *ngx_http_chatport_resp_buf;
static size_t   ngx_http_chatport_resp_kept;


int
ngx_http_chatport_resp_send(redisAsyncContext *ac, redisCallbackFn *fn,
    void *privdata, int argc, const char **argv, const size_t *argvlen)
{
    int      rc;
    size_t   len;
    u_char  *buf, *p;

    /* and a NUL: hiredis reads the command's name with strchr() */
    len = ngx_http_chatport_resp_size(argc, argvlen) + 1;
    buf = ngx_http_chatport_resp_buf;

    if (len > ngx_http_chatport_resp_kept) {
        buf = ngx_alloc(len, ngx_cycle->log);
        if (buf == NULL) {
            return REDIS_ERR;
        }

        if (len <= NGX_HTTP_CHATPORT_RESP_KEEP) {
            ngx_free(ngx_http_chatport_resp_buf);
            ngx_http_chatport_resp_buf = buf;
            ngx_http_chatport_resp_kept = len;
        }
    }

    p = ngx_http_chatport_resp_format(buf, argc, argv, argvlen);
    *p = '\0';
    len = p - buf;

    rc = redisAsyncFormattedCommand(ac, fn, privdata, (const char *) buf,
                                    len);

    if (buf != ngx_http_chatport_resp_buf) {
        ngx_free(buf);
    }

    return rc;
}


size_t
ngx_http_chatport_resp_size(int argc, const size_t *argvlen)
{
    int     i;
    size_t  len;

    len = sizeof("*\r\n") - 1 + NGX_SIZE_T_LEN;

    for (i = 0; i < argc; i++) {
        len += sizeof("$\r\n\r\n") - 1 + NGX_SIZE_T_LEN + argvlen[i];
    }

    return len;
}


u_char *
ngx_http_chatport_resp_format(u_char *p, int argc, const char **argv,
    const size_t *argvlen)
{
    int  i;

    p = ngx_http_chatport_resp_head(p, '*', argc);

    for (i = 0; i < argc; i++) {
        p = ngx_http_chatport_resp_head(p, '$', argvlen[i]);
        p = ngx_cpymem(p, argv[i], argvlen[i]);
        *p++ = CR;
        *p++ = LF;
    }

    return p;
}


void
ngx_http_chatport_resp_exit(void)
{
    ngx_free(ngx_http_chatport_resp_buf);
    ngx_http_chatport_resp_buf = NULL;
    ngx_http_chatport_resp_kept = 0;
}


/* "*COUNT\r\n" or "$LEN\r\n" */

static u_char *
ngx_http_chatport_resp_head(u_char *p, u_char type, size_t n)
{
    u_char   digits[NGX_SIZE_T_LEN];
    u_char  *d;

    d = digits + NGX_SIZE_T_LEN;

    do {
        *--d = (u_char) ('0' + n % 10);
        n /= 10;
    } while (n);

    *p++ = type;
    p = ngx_cpymem(p, d, digits + NGX_SIZE_T_LEN - d);
    *p++ = CR;
    *p++ = LF;

    return p;
}
