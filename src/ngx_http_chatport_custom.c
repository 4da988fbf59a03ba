
/*
 * ChatPort: the widget's customisation without forking it.
 *
 * The texts (chatport_offline_text, chatport_thanks_text), the form
 * fields' labels (chatport_form_field ... label=, label:ja=), the
 * launcher's side and height (chatport_position) and the privacy notice
 * (chatport_privacy_url) are checked when nginx reads the configuration
 * and reach the widget through GET P config, only when they are set: an
 * unset one leaves the widget's own per-language text or place.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_chatport.h"
#include "ngx_http_chatport_custom.h"


#define NGX_HTTP_CHATPORT_RIGHT   0
#define NGX_HTTP_CHATPORT_LEFT    1


static ngx_str_t  ngx_http_chatport_sides[] = {
    ngx_string("right"),
    ngx_string("left")
};


/* NULL, or why the text cannot be shown: it goes into the widget as text */

char *
ngx_http_chatport_text_check(ngx_str_t *text)
{
    u_char  *p, *last;

    p = text->data;
    last = p + text->len;

    while (p < last) {
        if (*p < 0x80) {
            if (*p++ < 0x20 || p[-1] == 0x7f) {
                return "UTF-8 text without control characters";
            }

            continue;
        }

        /* ngx_utf8_decode() takes multibyte sequences only */
        if (ngx_utf8_decode(&p, last - p) > 0x10ffff) {
            return "UTF-8 text without control characters";
        }
    }

    return NULL;
}


/*
 * "label=TEXT" (any language), "label:en=TEXT", "label:ja=TEXT" into
 * labels[] by ngx_http_chatport_lang_e; NGX_DECLINED for another word.
 */

ngx_int_t
ngx_http_chatport_label_parse(ngx_str_t *arg, ngx_str_t *labels, char **err)
{
    ngx_str_t   v;
    ngx_uint_t  lang;

    if (arg->len >= 6 && ngx_strncmp(arg->data, "label=", 6) == 0) {
        lang = NGX_HTTP_CHATPORT_LANG_AUTO;
        v.data = arg->data + 6;

    } else if (arg->len >= 9 && ngx_strncmp(arg->data, "label:", 6) == 0
               && arg->data[8] == '=')
    {
        v.data = arg->data + 6;

        if (ngx_strncmp(v.data, "en", 2) == 0) {
            lang = NGX_HTTP_CHATPORT_LANG_EN;

        } else if (ngx_strncmp(v.data, "ja", 2) == 0) {
            lang = NGX_HTTP_CHATPORT_LANG_JA;

        } else {
            *err = "followed by a label=, label:en= or label:ja=";
            return NGX_ERROR;
        }

        v.data += 3;

    } else {
        return NGX_DECLINED;
    }

    v.len = arg->data + arg->len - v.data;

    if (labels[lang].data != NULL) {
        *err = "followed by one label per language";
        return NGX_ERROR;
    }

    if (v.len == 0 || v.len > NGX_HTTP_CHATPORT_LABEL_MAX
        || ngx_http_chatport_text_check(&v) != NULL)
    {
        *err = "followed by a label of 1 to 128 bytes of UTF-8 text without "
               "control characters";
        return NGX_ERROR;
    }

    labels[lang] = v;

    return NGX_OK;
}


/* the label for a language, else the one for any, else NULL */

ngx_str_t *
ngx_http_chatport_label(ngx_str_t *labels, ngx_uint_t lang)
{
    if (labels[lang].len) {
        return &labels[lang];
    }

    if (labels[NGX_HTTP_CHATPORT_LANG_AUTO].len) {
        return &labels[NGX_HTTP_CHATPORT_LANG_AUTO];
    }

    return NULL;
}


/* chatport_position right|left [BOTTOM[px]] */

char *
ngx_http_chatport_position(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t                        *value, v;
    ngx_int_t                         n;
    ngx_uint_t                        i;
    ngx_http_chatport_custom_conf_t  *ccf;

    ccf = (ngx_http_chatport_custom_conf_t *) ((char *) conf + cmd->offset);

    if (ccf->position != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (i = 0; i < 2; i++) {
        if (value[1].len == ngx_http_chatport_sides[i].len
            && ngx_strncmp(value[1].data, ngx_http_chatport_sides[i].data,
                           value[1].len)
               == 0)
        {
            break;
        }
    }

    if (i == 2) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" in \"%V\" directive, "
                           "it must be \"right\" or \"left\"",
                           &value[1], &cmd->name);
        return NGX_CONF_ERROR;
    }

    ccf->position = i;
    ccf->bottom = 20;

    if (cf->args->nelts == 2) {
        return NGX_CONF_OK;
    }

    v = value[2];

    if (v.len > 2 && ngx_strncmp(v.data + v.len - 2, "px", 2) == 0) {
        v.len -= 2;
    }

    n = ngx_atoi(v.data, v.len);

    if (n == NGX_ERROR || n > NGX_HTTP_CHATPORT_BOTTOM_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" in \"%V\" directive, "
                           "it must be an offset from the bottom of 0 to "
                           "1000 pixels, as \"80\" or \"80px\"",
                           &value[2], &cmd->name);
        return NGX_CONF_ERROR;
    }

    ccf->bottom = n;

    return NGX_CONF_OK;
}


void
ngx_http_chatport_custom_merge(ngx_http_chatport_custom_conf_t *conf,
    ngx_http_chatport_custom_conf_t *prev)
{
    ngx_conf_merge_str_value(conf->offline, prev->offline, "");
    ngx_conf_merge_str_value(conf->thanks, prev->thanks, "");
    ngx_conf_merge_str_value(conf->privacy_url, prev->privacy_url, "");

    /* the side and its offset come together from one directive */
    if (conf->position == NGX_CONF_UNSET_UINT) {
        conf->position = prev->position;
        conf->bottom = prev->bottom;
    }
}


/*
 * The widget's language for the labels in config: the location's, or
 * with chatport_lang auto the one the widget asks for (?lang=en|ja, from
 * the visitor's browser); anything else gets the labels for any language.
 */

ngx_uint_t
ngx_http_chatport_custom_lang(ngx_http_request_t *r, ngx_uint_t lang)
{
    ngx_str_t  arg;

    if (lang != NGX_HTTP_CHATPORT_LANG_AUTO
        || ngx_http_arg(r, (u_char *) "lang", 4, &arg) != NGX_OK
        || arg.len != 2)
    {
        return lang;
    }

    if (ngx_strncmp(arg.data, "en", 2) == 0) {
        return NGX_HTTP_CHATPORT_LANG_EN;
    }

    if (ngx_strncmp(arg.data, "ja", 2) == 0) {
        return NGX_HTTP_CHATPORT_LANG_JA;
    }

    return lang;
}


/*
 * Those of config's "offline", "thanks", "privacy_url", "position" and
 * "bottom" that are set.
 */

void
ngx_http_chatport_custom_json(ngx_http_chatport_json_t *j,
    ngx_http_chatport_custom_conf_t *conf)
{
    if (conf->offline.len) {
        ngx_http_chatport_json_literal(j, ",\"offline\":");
        ngx_http_chatport_json_string(j, &conf->offline);
    }

    if (conf->thanks.len) {
        ngx_http_chatport_json_literal(j, ",\"thanks\":");
        ngx_http_chatport_json_string(j, &conf->thanks);
    }

    if (conf->privacy_url.len) {
        ngx_http_chatport_json_literal(j, ",\"privacy_url\":");
        ngx_http_chatport_json_string(j, &conf->privacy_url);
    }

    if (conf->position != NGX_CONF_UNSET_UINT) {
        ngx_http_chatport_json_literal(j, ",\"position\":");
        ngx_http_chatport_json_string(j,
                                &ngx_http_chatport_sides[conf->position]);
        ngx_http_chatport_json_literal(j, ",\"bottom\":");
        ngx_http_chatport_json_int(j, conf->bottom);
    }
}
