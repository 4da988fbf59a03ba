
/*
 * ChatPort fuzzing: what every libFuzzer target shares.
 *
 * A target #includes the module's .c files it fuzzes, which reaches their
 * static functions and gives libFuzzer coverage of them, and is linked
 * with the objects of the ASan build of nginx and of the rest of the
 * module (see the Makefile). Nothing is sent: the link wraps
 * ngx_http_send_header(), ngx_http_output_filter() and
 * ngx_http_finalize_request() with the no-ops in fuzz_common.c, so a
 * handler may answer an error as it does in nginx, and open() with one
 * that can hand out the input as a file.
 */


#ifndef _FUZZ_COMMON_H_INCLUDED_
#define _FUZZ_COMMON_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_chatport.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * When not -1, what every open() in the process opens instead (a dup() of
 * it): the module reads some files by names it makes itself.
 */
extern ngx_fd_t  fuzz_file;

/* a new pool (nginx's globals are set up on the first call) */
ngx_pool_t *fuzz_pool(void);

/* a GET request with the module's default configuration */
ngx_http_request_t *fuzz_request(ngx_pool_t *pool);

/*
 * A request header, its value copied and null-terminated as nginx has it;
 * also r->headers_in.NAME when nginx has such a field.
 */
ngx_table_elt_t *fuzz_header(ngx_http_request_t *r, char *name,
    u_char *value, size_t len);

/* the request body as nginx reads it in two parts, split at "split" */
ngx_int_t fuzz_body(ngx_http_request_t *r, u_char *data, size_t len,
    size_t split);

/* a copy of the input in the pool: reading past it is then caught */
u_char *fuzz_copy(ngx_pool_t *pool, const uint8_t *data, size_t len);


#endif /* _FUZZ_COMMON_H_INCLUDED_ */
