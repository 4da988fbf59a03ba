
/*
 * ChatPort: business hours ("Mon-Fri 09:00-18:00 Sat 10:00-14:00") and
 * the time zone they are read in.
 */


#ifndef _NGX_HTTP_CHATPORT_HOURS_H_INCLUDED_
#define _NGX_HTTP_CHATPORT_HOURS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* one bit per minute of the week, Monday 00:00 first */
#define NGX_HTTP_CHATPORT_WEEK_MINUTES  (7 * 24 * 60)


char *ngx_http_chatport_hours_parse(ngx_pool_t *pool, ngx_str_t *spec,
    u_char **hours);
ngx_int_t ngx_http_chatport_timezone_check(ngx_pool_t *pool, ngx_str_t *tz);


#endif /* _NGX_HTTP_CHATPORT_HOURS_H_INCLUDED_ */
