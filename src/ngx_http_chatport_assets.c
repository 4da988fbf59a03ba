
/*
 * ChatPort: the widget's files, embedded at build time from widget/
 * (see widget/embed.sh), served with a strong ETag so that browsers
 * revalidate with If-None-Match and get 304 from the not_modified filter.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_chatport_assets.h"
#include "ngx_http_chatport_http.h"
#include "ngx_http_chatport_assets_data.h"


static ngx_str_t  ngx_http_chatport_nosniff = ngx_string("nosniff");


/* cache: the Cache-Control value, public for the widget, private for the
 * console behind its login */

ngx_int_t
ngx_http_chatport_asset_send(ngx_http_request_t *r, char *name,
    ngx_str_t *cache)
{
    size_t                      len;
    ngx_table_elt_t            *etag;
    ngx_http_chatport_asset_t  *a;

    len = ngx_strlen(name);

    for (a = ngx_http_chatport_assets; a->name.len; a++) {
        if (a->name.len == len && ngx_strncmp(a->name.data, name, len) == 0) {
            break;
        }
    }

    if (a->name.len == 0) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "chatport: asset \"%s\" is not embedded", name);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    etag = ngx_list_push(&r->headers_out.headers);
    if (etag == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    etag->hash = 1;
    ngx_str_set(&etag->key, "ETag");
    etag->value = a->etag;
    r->headers_out.etag = etag;

    if (ngx_http_chatport_add_header(r, "Cache-Control", cache)
        != NGX_OK
        || ngx_http_chatport_add_header(r, "X-Content-Type-Options",
                                        &ngx_http_chatport_nosniff)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_chatport_send(r, NGX_HTTP_OK, &a->type, &a->data);
}
