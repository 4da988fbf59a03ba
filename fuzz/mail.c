
/*
 * An outbox entry, any JSON, rendered as a mail; whatever it holds, the
 * mail must be well formed: CRLF lines only, header lines within 998
 * (within 78 but for the ones with an address), headers in ASCII but for
 * the addresses, encoded-words of 75 characters at most each decoding to
 * whole UTF-8 characters, and a body in base64 lines of 76 that decodes
 * to CRLF lines. An entry without a valid sender or recipient is declined.
 * The entry is freed before the checks: all of the mail is in the pool.
 *
 * With CHATPORT_MAIL_OUT set, the mail of each input is written to that
 * file (fuzz/mail-check.py reads it with Python's email package).
 */


#include "fuzz_common.h"

#include "../src/ngx_http_chatport_mail.c"


static void fuzz_mail_check(ngx_pool_t *pool, ngx_http_chatport_mail_t *mail);
static void fuzz_mail_header(u_char *start, u_char *last);
static void fuzz_mail_word(u_char *p, u_char *last);
static void fuzz_mail_utf8(u_char *p, u_char *last);
static void fuzz_mail_body(ngx_pool_t *pool, u_char *p, u_char *last);


#define fuzz_assert(cond)                                                     \
    if (!(cond)) {                                                            \
        fprintf(stderr, "mail: %s, line %d\n", #cond, __LINE__);              \
        abort();                                                              \
    }


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE                      *f;
    char                      *out;
    json_t                    *entry;
    ngx_int_t                  rc;
    ngx_pool_t                *pool;
    json_error_t               error;
    ngx_http_chatport_mail_t   mail;

    entry = json_loadb((const char *) data, size, 0, &error);
    if (entry == NULL) {
        return 0;
    }

    pool = fuzz_pool();
    if (pool == NULL) {
        json_decref(entry);
        return 0;
    }

    rc = ngx_http_chatport_mail_render(pool, entry, &mail, pool->log);

    /* the mail is the pool's: ASan sees any use of the entry's memory */
    json_decref(entry);

    fuzz_assert(rc == NGX_OK || rc == NGX_DECLINED);

    if (rc == NGX_OK) {
        fuzz_mail_check(pool, &mail);

        out = getenv("CHATPORT_MAIL_OUT");

        if (out) {
            f = fopen(out, "w");
            fuzz_assert(f != NULL);
            fwrite(mail.message.data, 1, mail.message.len, f);
            fclose(f);
        }
    }

    ngx_destroy_pool(pool);

    return 0;
}


static void
fuzz_mail_check(ngx_pool_t *pool, ngx_http_chatport_mail_t *mail)
{
    u_char      *p, *last, *line;
    ngx_uint_t   i;

    fuzz_assert(ngx_http_chatport_mail_address(&mail->from));
    fuzz_assert(mail->nto > 0);

    for (i = 0; i < mail->nto; i++) {
        fuzz_assert(ngx_http_chatport_mail_address(&mail->to[i]));
    }

    p = mail->message.data;
    last = p + mail->message.len;

    /* no bare CR or LF anywhere */

    for (i = 0; i < mail->message.len; i++) {
        if (p[i] == '\r') {
            fuzz_assert(i + 1 < mail->message.len && p[i + 1] == '\n');
        }

        if (p[i] == '\n') {
            fuzz_assert(i > 0 && p[i - 1] == '\r');
        }
    }

    fuzz_assert(mail->message.len > 2 && last[-2] == '\r');

    /* the headers, up to the empty line */

    fuzz_assert(*p != ' ' && *p != '\r');

    for ( ;; ) {
        line = p;
        p = ngx_strlchr(p, last, '\n');
        fuzz_assert(p != NULL);
        p++;

        if (p - line == 2) {
            break;
        }

        fuzz_mail_header(line, p - 2);
    }

    fuzz_mail_body(pool, p, last);
}


static void
fuzz_mail_header(u_char *start, u_char *last)
{
    u_char  *p, *token, *word;

    fuzz_assert(last - start <= 998);

    if (*start != ' ') {
        p = ngx_strlchr(start, last, ':');
        fuzz_assert(p != NULL && p + 1 < last && p[1] == ' ');

        for (token = start; token < p; token++) {
            fuzz_assert(isalnum(*token) || *token == '-');
        }
    }

    /* beyond 78 columns only where an address or a msg-id cannot fold */
    fuzz_assert(last - start <= 78 || ngx_strlchr(start, last, '@'));

    token = start;
    word = NULL;

    for (p = start; p <= last; p++) {
        if (p == last || *p == ' ' || *p == ',' || *p == '<' || *p == '>') {
            /* a token with bytes beyond ASCII must be an address */

            for (word = token; word < p; word++) {
                if (*word >= 0x80) {
                    fuzz_assert(ngx_strlchr(token, p, '@') != NULL);
                    break;
                }
            }

            if (p - token > 2 && ngx_strncmp(token, "=?", 2) == 0
                && ngx_strlchr(token, p, '@') == NULL)
            {
                fuzz_mail_word(token, p);
            }

            token = p + 1;
            continue;
        }

        fuzz_assert(*p >= 0x20 && *p != 0x7f);
    }
}


/* =?UTF-8?B?...?= of whole characters */

static void
fuzz_mail_word(u_char *p, u_char *last)
{
    u_char     buf[NGX_HTTP_CHATPORT_MAIL_WORD];
    ngx_str_t  src, dst;

    fuzz_assert(last - p <= NGX_HTTP_CHATPORT_MAIL_WORD);
    fuzz_assert(last - p > 12 && ngx_strncmp(p, "=?UTF-8?B?", 10) == 0
                && last[-2] == '?' && last[-1] == '=');

    src.data = p + 10;
    src.len = last - 2 - src.data;
    dst.data = buf;

    fuzz_assert(ngx_decode_base64(&dst, &src) == NGX_OK);

    fuzz_mail_utf8(dst.data, dst.data + dst.len);
}


static void
fuzz_mail_utf8(u_char *p, u_char *last)
{
    while (p < last) {
        if (*p < 0x80) {
            p++;
            continue;
        }

        fuzz_assert(ngx_utf8_decode(&p, last - p) <= 0x10ffff);
    }
}


/* base64 in lines of 76, the last one shorter, decoding to CRLF lines */

static void
fuzz_mail_body(ngx_pool_t *pool, u_char *p, u_char *last)
{
    u_char     *line, *q;
    ngx_str_t   src, dst;

    src.data = ngx_pnalloc(pool, last - p + 1);
    fuzz_assert(src.data != NULL);
    src.len = 0;

    while (p < last) {
        line = p;
        p = ngx_strlchr(p, last, '\r');
        fuzz_assert(p != NULL && p - line <= 76 && p - line > 0);
        fuzz_assert(p - line == 76 || p + 2 == last);

        src.len = ngx_cpymem(src.data + src.len, line, p - line) - src.data;
        p += 2;
    }

    dst.data = ngx_pnalloc(pool, ngx_base64_decoded_length(src.len) + 1);
    fuzz_assert(dst.data != NULL);
    fuzz_assert(ngx_decode_base64(&dst, &src) == NGX_OK);

    /* the text's own line breaks are CRLF too */

    for (q = dst.data; q < dst.data + dst.len; q++) {
        if (*q == '\r') {
            fuzz_assert(q + 1 < dst.data + dst.len && q[1] == '\n');
        }

        if (*q == '\n') {
            fuzz_assert(q > dst.data && q[-1] == '\r');
        }
    }

    fuzz_assert(dst.len > 2 && dst.data[dst.len - 1] == '\n');
}
