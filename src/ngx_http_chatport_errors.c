
/*
 * ChatPort: errors that nginx itself answers below a ChatPort location.
 *
 * A body over client_max_body_size, a malformed chunked body, a failed
 * auth_basic, a handler's NGX_HTTP_INTERNAL_SERVER_ERROR: nginx answers
 * these with its own HTML page (ngx_http_special_response_handler(), which
 * sets r->err_status). The widget and the console read JSON, so below a
 * chatport or chatport_agent location such a page is replaced with the
 * {"error", "message"} body of every other ChatPort error. The status and
 * the other headers (WWW-Authenticate, Allow) stay as nginx set them.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_chatport.h"
#include "ngx_http_chatport_errors.h"


typedef struct {
    ngx_uint_t           status;
    ngx_str_t            body;
} ngx_http_chatport_error_page_t;


#define ngx_http_chatport_error_page(status, code, message)                  \
    { status, ngx_string("{\"error\":\"" code "\",\"message\":\""            \
                         message "\"}\n") }


static ngx_http_chatport_error_page_t  ngx_http_chatport_error_pages[] = {
    ngx_http_chatport_error_page(400, "bad_request",
                                 "the request is malformed"),
    ngx_http_chatport_error_page(401, "unauthorized",
                                 "operators must log in"),
    ngx_http_chatport_error_page(403, "forbidden", "access is denied"),
    ngx_http_chatport_error_page(404, "not_found", "no such endpoint"),
    ngx_http_chatport_error_page(405, "method_not_allowed",
                                 "this method is not allowed here"),
    ngx_http_chatport_error_page(408, "request_timeout",
                                 "the request was not received in time"),
    ngx_http_chatport_error_page(411, "length_required",
                                 "the request needs a Content-Length"),
    ngx_http_chatport_error_page(413, "body_too_large",
                                 "the request body is too large"),
    ngx_http_chatport_error_page(414, "uri_too_long",
                                 "the request URI is too long"),
    ngx_http_chatport_error_page(415, "unsupported_media_type",
                                 "this content type is not accepted"),
    ngx_http_chatport_error_page(429, "rate_limited",
                                 "too many requests, try again later"),
    ngx_http_chatport_error_page(500, "internal",
                                 "an internal error occurred"),
    ngx_http_chatport_error_page(503, "unavailable",
                                 "the service is unavailable, try again "
                                 "later"),

    /* any other status: the last entry */
    ngx_http_chatport_error_page(0, "error",
                                 "the request could not be served")
};


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


/* NULL: not an nginx error page below a ChatPort location */

static ngx_str_t *
ngx_http_chatport_errors_page(ngx_http_request_t *r)
{
    ngx_http_chatport_loc_conf_t    *clcf;
    ngx_http_chatport_error_page_t  *page;

    if (r->err_status < NGX_HTTP_BAD_REQUEST || r != r->main) {
        return NULL;
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);

    if (clcf->prefix.len == 0 && clcf->agent_prefix.len == 0) {
        return NULL;
    }

    for (page = ngx_http_chatport_error_pages; page->status; page++) {
        if (page->status == r->err_status) {
            break;
        }
    }

    return &page->body;
}


static ngx_int_t
ngx_http_chatport_errors_header_filter(ngx_http_request_t *r)
{
    ngx_str_t  *body;

    body = ngx_http_chatport_errors_page(r);

    if (body == NULL) {
        return ngx_http_next_header_filter(r);
    }

    ngx_str_set(&r->headers_out.content_type,
                "application/json; charset=utf-8");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.charset.len = 0;

    ngx_http_clear_content_length(r);
    r->headers_out.content_length_n = body->len;

    return ngx_http_next_header_filter(r);
}


/* nginx's page is dropped; its last buffer brings ours */

static ngx_int_t
ngx_http_chatport_errors_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_buf_t    *b;
    ngx_str_t    *body;
    ngx_uint_t    last;
    ngx_chain_t  *cl, out;

    body = ngx_http_chatport_errors_page(r);

    if (body == NULL || in == NULL) {
        return ngx_http_next_body_filter(r, in);
    }

    last = 0;

    for (cl = in; cl; cl = cl->next) {
        cl->buf->pos = cl->buf->last;
        cl->buf->file_pos = cl->buf->file_last;

        if (cl->buf->last_buf || cl->buf->last_in_chain) {
            last = 1;
        }
    }

    if (!last) {
        return NGX_OK;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = body->data;
    b->last = body->data + body->len;
    b->memory = 1;
    b->last_buf = 1;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_next_body_filter(r, &out);
}


ngx_int_t
ngx_http_chatport_errors_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_chatport_errors_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_chatport_errors_body_filter;

    return NGX_OK;
}
