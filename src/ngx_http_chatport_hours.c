
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


/* a zone loaded for the configuration, found again by its name */
typedef struct {
    ngx_str_t                 name;
    ngx_http_chatport_tz_t   *tz;
} ngx_http_chatport_tz_loaded_t;


static ngx_int_t ngx_http_chatport_day(u_char *p);
static ngx_int_t ngx_http_chatport_day_set(ngx_str_t *token, u_char *days);
static ngx_int_t ngx_http_chatport_minute(u_char *p, u_char *last);
static void ngx_http_chatport_hours_mark(u_char *hours, u_char *days,
    ngx_int_t start, ngx_int_t end);
static ngx_http_chatport_tz_t *ngx_http_chatport_tz_load(ngx_pool_t *pool,
    ngx_log_t *log, ngx_str_t *name);
static ngx_int_t ngx_http_chatport_tz_block(ngx_pool_t *pool,
    ngx_http_chatport_tz_t *tz, u_char *p, ngx_uint_t timecnt,
    ngx_uint_t typecnt, size_t tsize);
static uint32_t ngx_http_chatport_be32(u_char *p);
static ngx_int_t ngx_http_chatport_tz_posix(ngx_http_chatport_tz_t *tz,
    u_char *p, u_char *last);
static ngx_int_t ngx_http_chatport_tz_name(u_char **pp, u_char *last);
static ngx_int_t ngx_http_chatport_tz_time(u_char **pp, u_char *last,
    ngx_int_t *seconds);
static ngx_int_t ngx_http_chatport_tz_rule(u_char **pp, u_char *last,
    ngx_http_chatport_tz_rule_t *rule);


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

        if (ngx_http_chatport_day_set(&token, days) != NGX_OK) {
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
ngx_http_chatport_day_set(ngx_str_t *token, u_char *days)
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
 * A zone the configuration names, loaded the first time it is named: the
 * servers of one zone share it (thousands of sites, one zone read once).
 * *zones is the configuration's list of those loaded, NULL at first.
 */

ngx_http_chatport_tz_t *
ngx_http_chatport_tz_get(ngx_pool_t *pool, ngx_log_t *log,
    ngx_array_t **zones, ngx_str_t *name)
{
    ngx_uint_t                      i;
    ngx_http_chatport_tz_t         *tz;
    ngx_http_chatport_tz_loaded_t  *z;

    if (*zones == NULL) {
        *zones = ngx_array_create(pool, 4,
                                  sizeof(ngx_http_chatport_tz_loaded_t));
        if (*zones == NULL) {
            return NULL;
        }
    }

    z = (*zones)->elts;

    for (i = 0; i < (*zones)->nelts; i++) {
        if (z[i].name.len == name->len
            && ngx_strncmp(z[i].name.data, name->data, name->len) == 0)
        {
            return z[i].tz;
        }
    }

    tz = ngx_http_chatport_tz_load(pool, log, name);
    if (tz == NULL) {
        return NULL;
    }

    z = ngx_array_push(*zones);
    if (z == NULL) {
        return NULL;
    }

    z->name = *name;
    z->tz = tz;

    return tz;
}


/*
 * A time zone is a name below the system's zoneinfo folder whose file is
 * in the TZif format (RFC 8536). It is read once, at configuration time:
 * its transitions (the 64-bit ones of version 2 and later), and the POSIX
 * TZ rule of its footer for the times after the last of them.
 */

static ngx_http_chatport_tz_t *
ngx_http_chatport_tz_load(ngx_pool_t *pool, ngx_log_t *log, ngx_str_t *name)
{
    u_char                  *path, *data, *p, *last;
    size_t                   size, tsize;
    ssize_t                  n;
    ngx_fd_t                 fd;
    ngx_uint_t               i, v1, cnt[6], block;
    ngx_file_t               file;
    ngx_file_info_t          fi;
    ngx_http_chatport_tz_t  *tz;

    if (name->len == 0 || name->len > 64 || name->data[0] == '/') {
        return NULL;
    }

    for (i = 0; i < name->len; i++) {
        if (!(isalnum(name->data[i]) || name->data[i] == '/'
              || name->data[i] == '_' || name->data[i] == '-'
              || name->data[i] == '+'))
        {
            return NULL;
        }
    }

    path = ngx_pnalloc(pool, sizeof(NGX_HTTP_CHATPORT_ZONEINFO) + name->len);
    if (path == NULL) {
        return NULL;
    }

    ngx_sprintf(path, NGX_HTTP_CHATPORT_ZONEINFO "%V%Z", name);

    fd = ngx_open_file(path, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        return NULL;
    }

    data = NULL;
    size = 0;

    if (ngx_fd_info(fd, &fi) != NGX_FILE_ERROR && ngx_is_file(&fi)
        && ngx_file_size(&fi) > 44 && ngx_file_size(&fi) < 1024 * 1024)
    {
        size = (size_t) ngx_file_size(&fi);
        data = ngx_pnalloc(pool, size);
    }

    if (data != NULL) {
        ngx_memzero(&file, sizeof(ngx_file_t));
        file.fd = fd;
        file.log = log;
        file.name.data = path;
        file.name.len = ngx_strlen(path);

        n = ngx_read_file(&file, data, size, 0);

        if (n != (ssize_t) size) {
            data = NULL;
        }
    }

    (void) ngx_close_file(fd);

    if (data == NULL || ngx_strncmp(data, "TZif", 4) != 0) {
        return NULL;
    }

    tz = ngx_pcalloc(pool, sizeof(ngx_http_chatport_tz_t));
    if (tz == NULL) {
        return NULL;
    }

    p = data;
    last = data + size;
    v1 = (data[4] == '\0');

    /* version 1 has 32-bit times only; later versions repeat them in 64 */

    for (block = 0; block < 2; block++) {

        if (last - p < 44 || ngx_strncmp(p, "TZif", 4) != 0) {
            return NULL;
        }

        for (i = 0; i < 6; i++) {
            cnt[i] = ngx_http_chatport_be32(p + 20 + 4 * i);
        }

        p += 44;
        tsize = (block == 0) ? 4 : 8;

        /* isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt */
        size = cnt[3] * tsize + cnt[3] + cnt[4] * 6 + cnt[5]
               + cnt[2] * (tsize + 4) + cnt[1] + cnt[0];

        if ((size_t) (last - p) < size || cnt[4] == 0) {
            return NULL;
        }

        if (block == 0 && !v1) {
            p += size;
            continue;
        }

        if (ngx_http_chatport_tz_block(pool, tz, p, cnt[3], cnt[4], tsize)
            != NGX_OK)
        {
            return NULL;
        }

        p += size;
        break;
    }

    /* the footer: "\n<POSIX TZ>\n" */

    if (!v1 && p < last && *p == '\n') {
        data = ++p;

        while (p < last && *p != '\n') {
            p++;
        }

        if (p > data
            && ngx_http_chatport_tz_posix(tz, data, p) != NGX_OK)
        {
            return NULL;
        }
    }

    return tz;
}


static ngx_int_t
ngx_http_chatport_tz_block(ngx_pool_t *pool, ngx_http_chatport_tz_t *tz,
    u_char *p, ngx_uint_t timecnt, ngx_uint_t typecnt, size_t tsize)
{
    u_char      *types, *info;
    ngx_uint_t   i, type;

    tz->ntimes = timecnt;
    tz->times = ngx_palloc(pool, (timecnt + 1) * sizeof(int64_t));
    tz->offsets = ngx_palloc(pool, (timecnt + 1) * sizeof(int32_t));

    if (tz->times == NULL || tz->offsets == NULL) {
        return NGX_ERROR;
    }

    types = p + timecnt * tsize;
    info = types + timecnt;

    for (i = 0; i < timecnt; i++) {
        if (tsize == 8) {
            tz->times[i] = (int64_t) (((uint64_t) ngx_http_chatport_be32(p)
                                       << 32)
                                      | ngx_http_chatport_be32(p + 4));
        } else {
            tz->times[i] = (int32_t) ngx_http_chatport_be32(p);
        }

        p += tsize;

        type = types[i];
        if (type >= typecnt) {
            return NGX_ERROR;
        }

        tz->offsets[i] = (int32_t) ngx_http_chatport_be32(info + 6 * type);
    }

    /* before the first transition: the first standard-time type */

    tz->first = (int32_t) ngx_http_chatport_be32(info);

    for (i = 0; i < typecnt; i++) {
        if (info[6 * i + 4] == 0) {
            tz->first = (int32_t) ngx_http_chatport_be32(info + 6 * i);
            break;
        }
    }

    return NGX_OK;
}


static uint32_t
ngx_http_chatport_be32(u_char *p)
{
    return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16)
           | ((uint32_t) p[2] << 8) | p[3];
}


/*
 * "JST-9", "<+0530>-5:30", "CET-1CEST,M3.5.0,M10.5.0/3",
 * "EST5EDT,M3.2.0,M11.1.0": POSIX offsets count west of UTC.
 */

static ngx_int_t
ngx_http_chatport_tz_posix(ngx_http_chatport_tz_t *tz, u_char *p,
    u_char *last)
{
    ngx_int_t  offset;

    if (ngx_http_chatport_tz_name(&p, last) != NGX_OK
        || ngx_http_chatport_tz_time(&p, last, &offset) != NGX_OK)
    {
        return NGX_ERROR;
    }

    tz->has_rule = 1;
    tz->std_offset = (int32_t) -offset;

    if (p == last) {
        return NGX_OK;
    }

    if (ngx_http_chatport_tz_name(&p, last) != NGX_OK) {
        return NGX_ERROR;
    }

    tz->dst_offset = tz->std_offset + 3600;

    if (p < last && *p != ',') {
        if (ngx_http_chatport_tz_time(&p, last, &offset) != NGX_OK) {
            return NGX_ERROR;
        }

        tz->dst_offset = (int32_t) -offset;
    }

    if (p == last || *p++ != ','
        || ngx_http_chatport_tz_rule(&p, last, &tz->dst_start) != NGX_OK
        || p == last || *p++ != ','
        || ngx_http_chatport_tz_rule(&p, last, &tz->dst_end) != NGX_OK
        || p != last)
    {
        /* a rule other than "Mm.w.d" (rare): keep standard time */
        return NGX_OK;
    }

    tz->has_dst = 1;

    return NGX_OK;
}


static ngx_int_t
ngx_http_chatport_tz_name(u_char **pp, u_char *last)
{
    u_char  *p = *pp;

    if (p < last && *p == '<') {
        while (p < last && *p != '>') {
            p++;
        }

        if (p == last) {
            return NGX_ERROR;
        }

        *pp = p + 1;
        return NGX_OK;
    }

    while (p < last && ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')))
    {
        p++;
    }

    if (p - *pp < 3) {
        return NGX_ERROR;
    }

    *pp = p;

    return NGX_OK;
}


/* [+-]hh[:mm[:ss]] as seconds */

static ngx_int_t
ngx_http_chatport_tz_time(u_char **pp, u_char *last, ngx_int_t *seconds)
{
    u_char     *p = *pp;
    ngx_int_t   sign, part, value, n;

    sign = 1;

    if (p < last && (*p == '+' || *p == '-')) {
        sign = (*p++ == '-') ? -1 : 1;
    }

    value = 0;

    for (part = 0; part < 3; part++) {
        if (p == last || *p < '0' || *p > '9') {
            return NGX_ERROR;
        }

        n = 0;

        while (p < last && *p >= '0' && *p <= '9' && n < 1000) {
            n = n * 10 + (*p++ - '0');
        }

        value += n * (part == 0 ? 3600 : (part == 1 ? 60 : 1));

        if (p == last || *p != ':') {
            break;
        }

        p++;
    }

    *pp = p;
    *seconds = sign * value;

    return NGX_OK;
}


static ngx_int_t
ngx_http_chatport_tz_rule(u_char **pp, u_char *last,
    ngx_http_chatport_tz_rule_t *rule)
{
    u_char     *p = *pp;
    ngx_int_t  *fields[3];
    ngx_uint_t  i;

    if (p == last || *p++ != 'M') {
        return NGX_ERROR;
    }

    fields[0] = &rule->month;
    fields[1] = &rule->week;
    fields[2] = &rule->weekday;

    for (i = 0; i < 3; i++) {
        if (i && (p == last || *p++ != '.')) {
            return NGX_ERROR;
        }

        if (p == last || *p < '0' || *p > '9') {
            return NGX_ERROR;
        }

        *fields[i] = 0;

        while (p < last && *p >= '0' && *p <= '9' && *fields[i] < 100) {
            *fields[i] = *fields[i] * 10 + (*p++ - '0');
        }
    }

    if (rule->month < 1 || rule->month > 12 || rule->week < 1
        || rule->week > 5 || rule->weekday > 6)
    {
        return NGX_ERROR;
    }

    rule->time = 2 * 3600;

    if (p < last && *p == '/') {
        p++;

        if (ngx_http_chatport_tz_time(&p, last, &rule->time) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    *pp = p;

    return NGX_OK;
}


/* days from 1970-01-01 to a date of the proleptic Gregorian calendar */

static int64_t
ngx_http_chatport_days(int64_t year, ngx_int_t month, ngx_int_t day)
{
    int64_t  y, era, yoe, doy, doe;

    y = year - (month <= 2);
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + doe - 719468;
}


/* the UTC time a rule takes effect in a year, given the offset before it */

static int64_t
ngx_http_chatport_tz_when(ngx_http_chatport_tz_rule_t *rule, int64_t year,
    int32_t offset)
{
    int64_t     first, day;
    ngx_int_t   mdays;
    static int  days_in_month[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
                                    30, 31 };

    first = ngx_http_chatport_days(year, rule->month, 1);

    /* 1970-01-01 was a Thursday (4) */
    day = first + ((rule->weekday - (first + 4) % 7) + 7) % 7
          + (rule->week - 1) * 7;

    mdays = days_in_month[rule->month - 1];

    if (rule->month == 2
        && (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)))
    {
        mdays = 29;
    }

    while (day >= first + mdays) {
        day -= 7;                              /* week 5: the last one */
    }

    return day * 86400 + rule->time - offset;
}


int32_t
ngx_http_chatport_tz_offset(ngx_http_chatport_tz_t *tz, time_t now)
{
    int64_t     start, end, year, local;
    ngx_uint_t  lo, hi, mid;

    if (tz->ntimes && now < tz->times[0]) {
        return tz->first;
    }

    if (tz->ntimes && now < tz->times[tz->ntimes - 1]) {
        lo = 0;
        hi = tz->ntimes - 1;

        /* times[lo] <= now < times[hi] */
        while (hi - lo > 1) {
            mid = (lo + hi) / 2;

            if (tz->times[mid] <= now) {
                lo = mid;

            } else {
                hi = mid;
            }
        }

        return tz->offsets[lo];
    }

    if (!tz->has_rule) {
        return tz->ntimes ? tz->offsets[tz->ntimes - 1] : tz->first;
    }

    if (!tz->has_dst) {
        return tz->std_offset;
    }

    local = (int64_t) now + tz->std_offset;
    year = 1970 + local / 31556952;

    while (ngx_http_chatport_days(year, 1, 1) * 86400 > local) {
        year--;
    }

    while (ngx_http_chatport_days(year + 1, 1, 1) * 86400 <= local) {
        year++;
    }

    start = ngx_http_chatport_tz_when(&tz->dst_start, year, tz->std_offset);
    end = ngx_http_chatport_tz_when(&tz->dst_end, year, tz->dst_offset);

    /* the southern hemisphere's summer spans the new year */
    if (start < end) {
        return (now >= start && now < end) ? tz->dst_offset : tz->std_offset;
    }

    return (now >= end && now < start) ? tz->std_offset : tz->dst_offset;
}


ngx_uint_t
ngx_http_chatport_hours_open(u_char *hours, ngx_http_chatport_tz_t *tz,
    time_t now)
{
    int64_t     local, days;
    ngx_uint_t  bit;

    if (hours == NULL) {
        return 1;
    }

    local = (int64_t) now + (tz ? ngx_http_chatport_tz_offset(tz, now) : 0);

    days = local >= 0 ? local / 86400 : (local - 86399) / 86400;

    /* Monday is 0; 1970-01-01 was a Thursday */
    bit = (ngx_uint_t) (((days + 3) % 7 + 7) % 7) * 24 * 60
          + (ngx_uint_t) ((local - days * 86400) / 60);

    return (hours[bit / 8] >> (bit % 8)) & 1;
}
