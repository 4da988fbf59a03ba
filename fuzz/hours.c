
/*
 * chatport_hours specifications and the TZif files chatport_timezone
 * reads (the first byte chooses), then the time zone's offset and whether
 * the hours are open at times around its transitions, 1970 to 2400.
 */


#include "fuzz_common.h"

#include <sys/mman.h>

#include "../src/ngx_http_chatport_hours.c"


#define FUZZ_TIME_MAX  13569465600LL     /* 2400-01-01 */


static void
fuzz_times(u_char *hours, ngx_http_chatport_tz_t *tz)
{
    int64_t     t;
    ngx_uint_t  i, k;
    static int64_t  fixed[] = { 0, 86400 * 4, 1700000000, 1711846800,
                                4102444800LL, FUZZ_TIME_MAX };

    for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        (void) ngx_http_chatport_hours_open(hours, tz, fixed[i]);
    }

    for (i = 0; tz && i < tz->ntimes && i < 64; i++) {
        if (tz->times[i] < 1 || tz->times[i] >= FUZZ_TIME_MAX) {
            continue;
        }

        for (k = 0; k < 3; k++) {
            t = tz->times[i] + (int64_t) k - 1;
            (void) ngx_http_chatport_hours_open(hours, tz, t);
        }
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                    *err;
    u_char                  *hours, *spec;
    ngx_str_t                s;
    ngx_pool_t              *pool;
    ngx_http_chatport_tz_t  *tz;
    static ngx_fd_t          fd = -1;
    static u_char            week[] = "Mon-Fri 09:00-18:00 Sat 10:00-14:00";
    ngx_str_t                name = ngx_string("Fuzz/Zone");

    if (size < 1) {
        return 0;
    }

    pool = fuzz_pool();
    spec = fuzz_copy(pool, data + 1, size - 1);

    if (spec == NULL) {
        ngx_destroy_pool(pool);
        return 0;
    }

    s.data = spec;
    s.len = size - 1;

    if (data[0] & 1) {
        err = ngx_http_chatport_hours_parse(pool, &s, &hours);

        if (err == NULL) {
            fuzz_times(hours, NULL);
        }

        ngx_destroy_pool(pool);
        return 0;
    }

    /* the input is the file, whatever the name */

    if (fd == -1) {
        fd = memfd_create("tzif", 0);
    }

    if (fd == -1 || ftruncate(fd, 0) == -1
        || pwrite(fd, spec, s.len, 0) != (ssize_t) s.len)
    {
        ngx_destroy_pool(pool);
        return 0;
    }

    fuzz_file = fd;
    tz = ngx_http_chatport_tz_load(pool, pool->log, &name);
    fuzz_file = -1;

    s.data = week;
    s.len = sizeof(week) - 1;

    if (tz && ngx_http_chatport_hours_parse(pool, &s, &hours) == NULL) {
        fuzz_times(hours, tz);
    }

    ngx_destroy_pool(pool);

    return 0;
}
