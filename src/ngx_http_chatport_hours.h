
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


/* a POSIX TZ rule: "M3.2.0/2" is the 2nd Sunday of March at 02:00 */
typedef struct {
    ngx_int_t                 month;       /* 1-12 */
    ngx_int_t                 week;        /* 1-5, 5: the last */
    ngx_int_t                 weekday;     /* 0: Sunday */
    ngx_int_t                 time;        /* seconds after local midnight */
} ngx_http_chatport_tz_rule_t;


/* a time zone read from its TZif file at configuration time */
typedef struct {
    ngx_uint_t                ntimes;
    int64_t                  *times;       /* transitions, UTC */
    int32_t                  *offsets;     /* the offset from each one on */
    int32_t                   first;       /* the offset before the first */

    /* after the last transition: the file's POSIX TZ footer */
    ngx_uint_t                has_rule;    /* unsigned:1 */
    ngx_uint_t                has_dst;     /* unsigned:1 */
    int32_t                   std_offset;  /* east of UTC, seconds */
    int32_t                   dst_offset;
    ngx_http_chatport_tz_rule_t  dst_start;
    ngx_http_chatport_tz_rule_t  dst_end;
} ngx_http_chatport_tz_t;


char *ngx_http_chatport_hours_parse(ngx_pool_t *pool, ngx_str_t *spec,
    u_char **hours);
ngx_http_chatport_tz_t *ngx_http_chatport_tz_get(ngx_pool_t *pool,
    ngx_log_t *log, ngx_array_t **zones, ngx_str_t *name);
ngx_uint_t ngx_http_chatport_hours_open(u_char *hours,
    ngx_http_chatport_tz_t *tz, time_t now);
int32_t ngx_http_chatport_tz_offset(ngx_http_chatport_tz_t *tz, time_t now);


#endif /* _NGX_HTTP_CHATPORT_HOURS_H_INCLUDED_ */
