
/*
 * ChatPort: business hours and time zones.
 *
 * A schedule is a list of day sets, each followed by one or more time
 * ranges: "Mon-Fri 09:00-18:00 Sat 10:00-14:00", "Mon,Wed 08:00-12:00
 * 13:00-17:00", "Fri 22:00-02:00" (past midnight, into the next day).
 * "always" is the default. It is compiled once, at configuration time,
 * into a bitmap of the minutes of the week.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_chatport_hours.h"


#define NGX_HTTP_CHATPORT_ZONEINFO  "/usr/share/zoneinfo/"


static ngx_int_t ngx_http_chatport_day(u_char *p);
static ngx_int_t ngx_http_chatport_days(ngx_str_t *token, u_char *days);
static ngx_int_t ngx_http_chatport_minute(u_char *p, u_char *last);
static void ngx_http_chatport_hours_mark(u_char *hours, u_char *days,
    ngx_int_t start, ngx_int_t end);


static const char  *ngx_http_chatport_day_names[] = {
    "mon", "tue", "wed", "thu", "fri", "sat", "sun"
};


char *
ngx_http_chatport_hours_parse(ngx_pool_t *pool, ngx_str_t *spec,
    u_char **hours)
{
    u_char     *p, *last, *dash, days[7];
    ngx_str_t   token;
    ngx_int_t   start, end;
    ngx_uint_t  have_days, ranges;

    if (spec->len == 6 && ngx_strncasecmp(spec->data, (u_char *) "always", 6)
                          == 0)
    {
        *hours = NULL;
        return NULL;
    }

    *hours = ngx_pcalloc(pool, NGX_HTTP_CHATPORT_WEEK_MINUTES / 8);
    if (*hours == NULL) {
        return "out of memory";
    }

    p = spec->data;
    last = p + spec->len;
    have_days = 0;
    ranges = 0;

    while (p < last) {

        while (p < last && (*p == ' ' || *p == '\t')) {
            p++;
        }

        if (p == last) {
            break;
        }

        token.data = p;

        while (p < last && *p != ' ' && *p != '\t') {
            p++;
        }

        token.len = p - token.data;

        if (token.data[0] >= '0' && token.data[0] <= '9') {

            if (!have_days) {
                return "a time range must follow days such as \"Mon-Fri\"";
            }

            dash = ngx_strlchr(token.data, token.data + token.len, '-');
            if (dash == NULL) {
                return "a time range is \"HH:MM-HH:MM\"";
            }

            start = ngx_http_chatport_minute(token.data, dash);
            end = ngx_http_chatport_minute(dash + 1, token.data + token.len);

            if (start == NGX_ERROR || end == NGX_ERROR || start == 24 * 60
                || start == end)
            {
                return "a time range is \"HH:MM-HH:MM\" with different times";
            }

            ngx_http_chatport_hours_mark(*hours, days, start, end);
            ranges++;
            continue;
        }

        if (have_days && ranges == 0) {
            return "days must be followed by a time range";
        }

        if (ngx_http_chatport_days(&token, days) != NGX_OK) {
            return "days are \"Mon\" to \"Sun\", as \"Mon-Fri\" or "
                   "\"Sat,Sun\"";
        }

        have_days = 1;
        ranges = 0;
    }

    if (!have_days || ranges == 0) {
        return "days must be followed by a time range";
    }

    return NULL;
}


/* "Mon-Fri", "Sat,Sun", "Mon-Wed,Fri": a set of days, Monday = 0 */

static ngx_int_t
ngx_http_chatport_days(ngx_str_t *token, u_char *days)
{
    u_char     *p, *last;
    ngx_int_t   from, to;

    ngx_memzero(days, 7);

    p = token->data;
    last = p + token->len;

    for ( ;; ) {
        if (last - p < 3 || (from = ngx_http_chatport_day(p)) == NGX_ERROR) {
            return NGX_ERROR;
        }

        p += 3;
        to = from;

        if (p < last && *p == '-') {
            p++;

            if (last - p < 3 || (to = ngx_http_chatport_day(p)) == NGX_ERROR) {
                return NGX_ERROR;
            }

            p += 3;
        }

        /* a range may wrap around the week: "Sat-Mon" */

        for ( ;; ) {
            days[from] = 1;

            if (from == to) {
                break;
            }

            from = (from + 1) % 7;
        }

        if (p == last) {
            return NGX_OK;
        }

        if (*p++ != ',') {
            return NGX_ERROR;
        }
    }
}


static ngx_int_t
ngx_http_chatport_day(u_char *p)
{
    ngx_int_t  d;

    for (d = 0; d < 7; d++) {
        if (ngx_strncasecmp(p, (u_char *) ngx_http_chatport_day_names[d], 3)
            == 0)
        {
            return d;
        }
    }

    return NGX_ERROR;
}


/* "HH:MM", 00:00 to 24:00, as minutes of the day */

static ngx_int_t
ngx_http_chatport_minute(u_char *p, u_char *last)
{
    ngx_int_t  h, m;

    if (last - p != 5 || p[2] != ':') {
        return NGX_ERROR;
    }

    h = ngx_atoi(p, 2);
    m = ngx_atoi(p + 3, 2);

    if (h == NGX_ERROR || m == NGX_ERROR || m > 59 || h > 24
        || (h == 24 && m != 0))
    {
        return NGX_ERROR;
    }

    return h * 60 + m;
}


static void
ngx_http_chatport_hours_mark(u_char *hours, u_char *days, ngx_int_t start,
    ngx_int_t end)
{
    ngx_int_t  d, m, len, bit;

    /* a range that ends before it starts runs past midnight */
    len = (end > start) ? end - start : 24 * 60 - start + end;

    for (d = 0; d < 7; d++) {
        if (!days[d]) {
            continue;
        }

        for (m = 0; m < len; m++) {
            bit = (d * 24 * 60 + start + m) % NGX_HTTP_CHATPORT_WEEK_MINUTES;
            hours[bit / 8] |= (u_char) (1 << (bit % 8));
        }
    }
}


/*
 * A time zone is a name below the system's zoneinfo folder whose file is
 * in the TZif format; it is read at configuration time only.
 */

ngx_int_t
ngx_http_chatport_timezone_check(ngx_pool_t *pool, ngx_str_t *tz)
{
    u_char      *path, magic[4];
    ssize_t      n;
    ngx_fd_t     fd;
    ngx_uint_t   i;

    if (tz->len == 0 || tz->len > 64 || tz->data[0] == '/') {
        return NGX_ERROR;
    }

    for (i = 0; i < tz->len; i++) {
        if (!(isalnum(tz->data[i]) || tz->data[i] == '/'
              || tz->data[i] == '_' || tz->data[i] == '-'
              || tz->data[i] == '+'))
        {
            return NGX_ERROR;
        }
    }

    path = ngx_pnalloc(pool, sizeof(NGX_HTTP_CHATPORT_ZONEINFO) + tz->len);
    if (path == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(path, NGX_HTTP_CHATPORT_ZONEINFO "%V%Z", tz);

    fd = ngx_open_file(path, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        return NGX_ERROR;
    }

    n = read(fd, magic, 4);

    (void) ngx_close_file(fd);

    if (n != 4 || ngx_strncmp(magic, "TZif", 4) != 0) {
        return NGX_ERROR;
    }

    return NGX_OK;
}
