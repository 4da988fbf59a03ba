
/*
 * ChatPort: the visitor's endpoints below the "chatport" location.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_chatport.h"
#include "ngx_http_chatport_assets.h"
#include "ngx_http_chatport_http.h"
#include "ngx_http_chatport_json.h"


static ngx_int_t ngx_http_chatport_widget_js(ngx_http_request_t *r);
static ngx_int_t ngx_http_chatport_widget_css(ngx_http_request_t *r);
static ngx_int_t ngx_http_chatport_config(ngx_http_request_t *r);


static ngx_http_chatport_route_t  ngx_http_chatport_visitor_routes[] = {

    { ngx_string("widget.js"), NGX_HTTP_GET|NGX_HTTP_HEAD,
      ngx_string("GET, HEAD"), ngx_http_chatport_widget_js },

    { ngx_string("widget.css"), NGX_HTTP_GET|NGX_HTTP_HEAD,
      ngx_string("GET, HEAD"), ngx_http_chatport_widget_css },

    { ngx_string("config"), NGX_HTTP_GET|NGX_HTTP_HEAD,
      ngx_string("GET, HEAD"), ngx_http_chatport_config },

    { ngx_null_string, 0, ngx_null_string, NULL }
};


/* the texts used when chatport_title or chatport_greeting is not set */
static ngx_str_t  ngx_http_chatport_default_title[] = {
    ngx_null_string,                               /* auto: the widget's */
    ngx_string("Chat with us"),
    ngx_string("\xe3\x81\x8a\xe5\x95\x8f\xe3\x81\x84\xe5\x90\x88\xe3\x82"
               "\x8f\xe3\x81\x9b")                 /* o-toiawase */
};

static ngx_str_t  ngx_http_chatport_default_greeting[] = {
    ngx_null_string,
    ngx_string("Hi! How can we help you?"),
    ngx_string("\xe3\x81\x94\xe8\xb3\xaa\xe5\x95\x8f\xe3\x81\xaf\xe3\x81\x8a"
               "\xe6\xb0\x97\xe8\xbb\xbd\xe3\x81\xab\xe3\x81\xa9\xe3\x81\x86"
               "\xe3\x81\x9e\xe3\x80\x82")         /* feel free to ask */
};

static ngx_str_t  ngx_http_chatport_lang_names[] = {
    ngx_string("auto"),
    ngx_string("en"),
    ngx_string("ja")
};

static ngx_str_t  ngx_http_chatport_config_cache =
    ngx_string("public, max-age=5");


ngx_int_t
ngx_http_chatport_visitor_handler(ngx_http_request_t *r)
{
    ngx_http_chatport_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);

    return ngx_http_chatport_dispatch(r, &clcf->prefix,
                                      ngx_http_chatport_visitor_routes);
}


static ngx_int_t
ngx_http_chatport_widget_js(ngx_http_request_t *r)
{
    return ngx_http_chatport_asset_send(r, "widget.js");
}


static ngx_int_t
ngx_http_chatport_widget_css(ngx_http_request_t *r)
{
    return ngx_http_chatport_asset_send(r, "widget.css");
}


static void
ngx_http_chatport_json_text(ngx_http_chatport_json_t *j, ngx_str_t *text,
    ngx_str_t *fallback)
{
    if (text->len) {
        ngx_http_chatport_json_string(j, text);

    } else if (fallback->len) {
        ngx_http_chatport_json_string(j, fallback);

    } else {
        ngx_http_chatport_json_literal(j, "null");
    }
}


static ngx_int_t
ngx_http_chatport_config(ngx_http_request_t *r)
{
    ngx_str_t                      body;
    ngx_http_chatport_json_t       j;
    ngx_http_chatport_srv_conf_t  *cscf;
    ngx_http_chatport_loc_conf_t  *clcf;

    cscf = ngx_http_get_module_srv_conf(r, ngx_http_chatport_module);
    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);

    ngx_http_chatport_json_init(&j, r->pool);

    ngx_http_chatport_json_literal(&j, "{\"site\":");
    ngx_http_chatport_json_string(&j, &cscf->site);

    /* operators' presence comes with the operator endpoints */
    ngx_http_chatport_json_literal(&j, ",\"online\":");
    ngx_http_chatport_json_bool(&j, 0);

    ngx_http_chatport_json_literal(&j, ",\"title\":");
    ngx_http_chatport_json_text(&j, &clcf->title,
                                &ngx_http_chatport_default_title[clcf->lang]);

    ngx_http_chatport_json_literal(&j, ",\"greeting\":");
    ngx_http_chatport_json_text(&j, &clcf->greeting,
                            &ngx_http_chatport_default_greeting[clcf->lang]);

    ngx_http_chatport_json_literal(&j, ",\"color\":");
    ngx_http_chatport_json_string(&j, &clcf->color);

    ngx_http_chatport_json_literal(&j, ",\"lang\":");
    ngx_http_chatport_json_string(&j,
                                  &ngx_http_chatport_lang_names[clcf->lang]);

    ngx_http_chatport_json_literal(&j, ",\"max_message\":");
    ngx_http_chatport_json_int(&j, clcf->max_message);

    ngx_http_chatport_json_literal(&j,
        ",\"form\":{\"fields\":["
        "{\"name\":\"name\",\"type\":\"text\",\"required\":false},"
        "{\"name\":\"email\",\"type\":\"email\",\"required\":true},"
        "{\"name\":\"message\",\"type\":\"textarea\",\"required\":true}"
        "]}}\n");

    if (ngx_http_chatport_json_result(&j, &body) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_chatport_add_header(r, "Cache-Control",
                                     &ngx_http_chatport_config_cache)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_chatport_send_json(r, NGX_HTTP_OK, &body);
}
