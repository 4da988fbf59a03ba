
/*
 * Redis commands as the module writes them (src/ngx_http_chatport_resp.c):
 * the input, cut at each NUL byte, is a command's arguments (up to 64);
 * what the module writes must be what hiredis's own
 * redisFormatCommandArgv() writes, within the size reserved for it.
 */


#include "fuzz_common.h"

#include <hiredis/hiredis.h>

#include "../src/ngx_http_chatport_resp.c"


#define FUZZ_RESP_ARGS  64


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int          argc, len;
    char        *theirs;
    size_t       lens[FUZZ_RESP_ARGS], room;
    u_char      *p, *last, *nul, *ours, *end;
    ngx_pool_t  *pool;
    const char  *argv[FUZZ_RESP_ARGS];

    pool = fuzz_pool();
    p = fuzz_copy(pool, data, size);

    if (p == NULL) {
        ngx_destroy_pool(pool);
        return 0;
    }

    last = p + size;

    for (argc = 0; argc < FUZZ_RESP_ARGS; argc++) {
        nul = memchr(p, '\0', last - p);
        argv[argc] = (const char *) p;
        lens[argc] = (nul ? nul : last) - p;

        if (nul == NULL) {
            argc++;
            break;
        }

        p = nul + 1;
    }

    room = ngx_http_chatport_resp_size(argc, lens);
    ours = ngx_pnalloc(pool, room);
    len = redisFormatCommandArgv(&theirs, argc, argv, lens);

    if (ours == NULL || len < 0) {
        ngx_destroy_pool(pool);
        return 0;
    }

    end = ngx_http_chatport_resp_format(ours, argc, argv, lens);

    if ((size_t) (end - ours) > room
        || (size_t) (end - ours) != (size_t) len
        || ngx_memcmp(ours, theirs, len) != 0)
    {
        abort();
    }

    redisFreeCommand(theirs);
    ngx_destroy_pool(pool);

    return 0;
}
