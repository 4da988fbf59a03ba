
/*
 * ChatPort: who a visitor's request is from and what it points at: the
 * visitor's cookie and the conversation id made from it, a cursor, the
 * page and referrer URLs, a header as text, a post's key. The visitor's
 * endpoints, the form, the contact and the operators' API share them.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <ngx_sha1.h>

#include "ngx_http_chatport.h"
#include "ngx_http_chatport_http.h"
#include "ngx_http_chatport_identity.h"
#include "ngx_http_chatport_json.h"
#include "ngx_http_chatport_store.h"
#include "ngx_http_chatport_waiters.h"

#include <sys/random.h>


#define NGX_HTTP_CHATPORT_VID_LEN      32       /* hex of 128 bits */


/* ?after=ID: NGX_OK with an empty cursor when absent */

ngx_int_t
ngx_http_chatport_cursor(ngx_http_request_t *r, ngx_str_t *cursor)
{
    ngx_http_chatport_stream_id_t  id;

    if (ngx_http_arg(r, (u_char *) "after", 5, cursor) != NGX_OK) {
        ngx_str_null(cursor);
        return NGX_OK;
    }

    return ngx_http_chatport_stream_id_parse(cursor, &id);
}


/* NGX_OK: a well-formed id; NGX_DECLINED: none; NGX_ERROR: malformed */

ngx_int_t
ngx_http_chatport_visitor_cookie(ngx_http_request_t *r, ngx_str_t *vid)
{
    ngx_str_t   name = ngx_string("chatport_vid");
    ngx_uint_t  i;

    if (ngx_http_parse_multi_header_lines(&r->headers_in.cookies, &name, vid)
        == NGX_DECLINED)
    {
        return NGX_DECLINED;
    }

    if (vid->len != NGX_HTTP_CHATPORT_VID_LEN) {
        return NGX_ERROR;
    }

    for (i = 0; i < vid->len; i++) {
        if (!((vid->data[i] >= '0' && vid->data[i] <= '9')
              || (vid->data[i] >= 'a' && vid->data[i] <= 'f')))
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_chatport_new_visitor(ngx_pool_t *pool, ngx_str_t *vid)
{
    u_char  random[NGX_HTTP_CHATPORT_VID_LEN / 2];

    if (getrandom(random, sizeof(random), 0) != (ssize_t) sizeof(random)) {
        ngx_log_error(NGX_LOG_ALERT, pool->log, ngx_errno,
                      "chatport: getrandom() failed");
        return NGX_ERROR;
    }

    vid->data = ngx_pnalloc(pool, NGX_HTTP_CHATPORT_VID_LEN);
    if (vid->data == NULL) {
        return NGX_ERROR;
    }

    vid->len = ngx_hex_dump(vid->data, random, sizeof(random)) - vid->data;

    return NGX_OK;
}


/* the visitor's key to their conversation, with its first message or form */

ngx_int_t
ngx_http_chatport_set_cookie(ngx_http_request_t *r, ngx_str_t *vid)
{
    ngx_str_t                      cookie;
    ngx_http_chatport_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);

    cookie.data = ngx_pnalloc(r->pool, sizeof("chatport_vid=; Path=/; "
                                              "Max-Age=; HttpOnly; "
                                              "SameSite=Lax; Secure")
                                       + vid->len + NGX_TIME_T_LEN);
    if (cookie.data == NULL) {
        return NGX_ERROR;
    }

    cookie.len = ngx_sprintf(cookie.data,
                             "chatport_vid=%V; Path=/; Max-Age=%T; "
                             "HttpOnly; SameSite=Lax%s",
                             vid, clcf->retention,
#if (NGX_HTTP_SSL)
                             r->connection->ssl ? "; Secure" :
#endif
                             "")
                 - cookie.data;

    return ngx_http_chatport_add_header(r, "Set-Cookie", &cookie);
}


/*
 * The conversation id is a one-way function of the visitor's secret id:
 * the visitor's requests find their conversation without a lookup, and
 * knowing a CID (as operators and notifications do) gives no way back.
 */

ngx_int_t
ngx_http_chatport_visitor_cid(ngx_pool_t *pool, ngx_str_t *vid,
    ngx_str_t *cid)
{
    u_char      digest[20];
    ngx_sha1_t  sha1;

    cid->data = ngx_pnalloc(pool, NGX_HTTP_CHATPORT_CID_LEN);
    if (cid->data == NULL) {
        return NGX_ERROR;
    }

    ngx_sha1_init(&sha1);
    ngx_sha1_update(&sha1, "chatport conversation ", 22);
    ngx_sha1_update(&sha1, vid->data, vid->len);
    ngx_sha1_final(digest, &sha1);

    cid->len = ngx_hex_dump(cid->data, digest, NGX_HTTP_CHATPORT_CID_LEN / 2)
               - cid->data;

    return NGX_OK;
}


/* an http(s) URL of at most 2048 bytes without control characters */

ngx_uint_t
ngx_http_chatport_url(ngx_str_t *url)
{
    ngx_uint_t  i;

    /* the data is not null-terminated: no comparing past its length */

    if (url->len > NGX_HTTP_CHATPORT_PAGE_MAX
        || !((url->len >= 8 && ngx_strncmp(url->data, "https://", 8) == 0)
             || (url->len >= 7 && ngx_strncmp(url->data, "http://", 7) == 0)))
    {
        return 0;
    }

    for (i = 0; i < url->len; i++) {
        if (url->data[i] < 0x20 || url->data[i] == 0x7f) {
            return 0;
        }
    }

    return 1;
}


/*
 * Where the visitor came from: the widget sends the page's
 * document.referrer as "referrer", empty on a direct visit (the Referer of
 * its own request is the page itself); a plain request has only its
 * Referer header, which is no referrer when it is the page itself.
 */

void
ngx_http_chatport_referrer(ngx_http_request_t *r, json_t *root,
    ngx_str_t *page, ngx_str_t *referrer)
{
    ngx_int_t  rc;

    rc = root ? ngx_http_chatport_json_get_string(r->pool, root, "referrer",
                                                  referrer)
              : NGX_DECLINED;

    if (rc != NGX_DECLINED) {
        if (rc != NGX_OK || !ngx_http_chatport_url(referrer)) {
            ngx_str_null(referrer);
        }

        return;
    }

    ngx_http_chatport_header_text(r->headers_in.referer,
                                  NGX_HTTP_CHATPORT_PAGE_MAX, referrer);

    /* no page and no Referer: two empty strings, perhaps with data NULL */
    if (referrer->len != 0 && referrer->len == page->len
        && ngx_strncmp(referrer->data, page->data, page->len) == 0)
    {
        ngx_str_null(referrer);
    }
}


/* a post's "key": 1 to 64 of A-Z a-z 0-9 _ - */

ngx_uint_t
ngx_http_chatport_post_key(ngx_str_t *key)
{
    u_char      c;
    ngx_uint_t  i;

    if (key->len == 0 || key->len > NGX_HTTP_CHATPORT_POST_KEY_MAX) {
        return 0;
    }

    for (i = 0; i < key->len; i++) {
        c = key->data[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9') || c == '_' || c == '-'))
        {
            return 0;
        }
    }

    return 1;
}


/*
 * The optional "key" of a JSON post, empty when absent. NGX_OK, or
 * NGX_DONE when the request has been answered with the error.
 */

ngx_int_t
ngx_http_chatport_json_key(ngx_http_request_t *r, json_t *root,
    ngx_str_t *key)
{
    ngx_int_t  rc;

    rc = ngx_http_chatport_json_get_string(r->pool, root, "key", key);

    if (rc == NGX_DECLINED || (rc == NGX_OK && ngx_http_chatport_post_key(key)))
    {
        return NGX_OK;
    }

    ngx_http_finalize_request(r,
        ngx_http_chatport_send_error(r, NGX_HTTP_BAD_REQUEST, "invalid_key",
                                     NGX_HTTP_CHATPORT_KEY_ERROR));
    return NGX_DONE;
}


/*
 * A request header as stored text: its longest prefix of at most max bytes
 * that is valid UTF-8 without control characters.
 */

void
ngx_http_chatport_header_text(ngx_table_elt_t *h, size_t max,
    ngx_str_t *text)
{
    u_char    *p, *next, *last;
    uint32_t   u;

    ngx_str_null(text);

    if (h == NULL) {
        return;
    }

    p = h->value.data;
    last = p + h->value.len;

    while (p < last) {
        next = p;

        if (*p < 0x80) {
            if (*p < 0x20 || *p == 0x7f) {
                break;
            }

            next++;

        } else {
            u = ngx_utf8_decode(&next, last - p);

            /* ngx_utf8_decode() lets UTF-16 surrogates through */
            if (u > 0x10ffff || (u >= 0xd800 && u <= 0xdfff)) {
                break;
            }
        }

        if ((size_t) (next - h->value.data) > max) {
            break;
        }

        p = next;
    }

    text->data = h->value.data;
    text->len = p - h->value.data;
}
