
/*
 * ChatPort: operators' display names.
 *
 * "chatport_operator LOGIN NAME" (server, location; repeated) gives the
 * operator whose $remote_user is LOGIN the name visitors see on replies
 * and typing, and the other operators in the console. A location with
 * its own chatport_operator lines does not inherit the server's, as with
 * add_header. Nothing is stored for it but beside each reply ("name").
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_chatport.h"
#include "ngx_http_chatport_http.h"
#include "ngx_http_chatport_names.h"


/*
 * A login as this module accepts it in its configuration and API: 1 to 64
 * of A-Z a-z 0-9 . _ @ + - (user names and email addresses). Other
 * $remote_user values still log in, but get no display name and cannot be
 * assigned a conversation.
 */

ngx_int_t
ngx_http_chatport_login_valid(ngx_str_t *login)
{
    u_char      c;
    ngx_uint_t  i;

    if (login->len == 0 || login->len > NGX_HTTP_CHATPORT_LOGIN_MAX) {
        return NGX_DECLINED;
    }

    for (i = 0; i < login->len; i++) {
        c = login->data[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || c == '.' || c == '_' || c == '@' || c == '+' || c == '-'))
        {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


char *
ngx_http_chatport_operator_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    char  *p = conf;

    ngx_str_t                          *value;
    ngx_uint_t                          i, blank;
    ngx_array_t                       **ops;
    ngx_http_chatport_operator_name_t  *op;

    ops = (ngx_array_t **) (p + cmd->offset);
    value = cf->args->elts;

    if (ngx_http_chatport_login_valid(&value[1]) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid operator login \"%V\": 1 to 64 of "
                           "A-Z a-z 0-9 . _ @ + -", &value[1]);
        return NGX_CONF_ERROR;
    }

    /* no tab either: a name is one line of visible text */
    if (ngx_http_chatport_utf8_text(&value[2], 0, &blank) != NGX_OK
        || ngx_strlchr(value[2].data, value[2].data + value[2].len, '\t')
        || blank
        || ngx_utf8_length(value[2].data, value[2].len)
           > NGX_HTTP_CHATPORT_NAME_MAX)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid display name \"%V\" of operator "
                           "\"%V\": 1 to 64 characters of UTF-8 without "
                           "control characters", &value[2], &value[1]);
        return NGX_CONF_ERROR;
    }

    if (*ops == NGX_CONF_UNSET_PTR) {
        *ops = ngx_array_create(cf->pool, 4,
                                sizeof(ngx_http_chatport_operator_name_t));
        if (*ops == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    op = (*ops)->elts;

    for (i = 0; i < (*ops)->nelts; i++) {
        if (op[i].login.len == value[1].len
            && ngx_strncmp(op[i].login.data, value[1].data, value[1].len)
               == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate operator \"%V\"", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    op = ngx_array_push(*ops);
    if (op == NULL) {
        return NGX_CONF_ERROR;
    }

    op->login = value[1];
    op->name = value[2];

    return NGX_CONF_OK;
}


/* the display name of a login in the request's location, or NULL */

ngx_str_t *
ngx_http_chatport_operator_name(ngx_http_request_t *r, ngx_str_t *login)
{
    ngx_uint_t                          i;
    ngx_http_chatport_loc_conf_t       *clcf;
    ngx_http_chatport_operator_name_t  *op;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);

    if (clcf->operators == NULL) {
        return NULL;
    }

    op = clcf->operators->elts;

    for (i = 0; i < clcf->operators->nelts; i++) {
        if (op[i].login.len == login->len
            && ngx_strncmp(op[i].login.data, login->data, login->len) == 0)
        {
            return &op[i].name;
        }
    }

    return NULL;
}


/* an operator's message carries the name beside the login */

void
ngx_http_chatport_operator_name_set(ngx_http_request_t *r,
    ngx_http_chatport_message_t *m)
{
    ngx_str_t  *name;

    name = ngx_http_chatport_operator_name(r, &m->agent);

    if (name) {
        m->name = *name;

    } else {
        ngx_str_null(&m->name);
    }
}


/*
 * For the console's session, where the location names operators:
 * ,"name": its operator's display name or null, ,"names": {login: name}
 * of each, so that a login in a list or an event is shown by its name.
 * Without chatport_operator the session is as it was.
 */

void
ngx_http_chatport_names_json(ngx_http_request_t *r,
    ngx_http_chatport_json_t *j, ngx_str_t *login)
{
    ngx_str_t                          *name;
    ngx_uint_t                          i;
    ngx_http_chatport_loc_conf_t       *clcf;
    ngx_http_chatport_operator_name_t  *op;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);

    if (clcf->operators == NULL) {
        return;
    }

    name = ngx_http_chatport_operator_name(r, login);

    ngx_http_chatport_json_literal(j, ",\"name\":");

    if (name) {
        ngx_http_chatport_json_string(j, name);

    } else {
        ngx_http_chatport_json_literal(j, "null");
    }

    ngx_http_chatport_json_literal(j, ",\"names\":{");

    op = clcf->operators->elts;

    for (i = 0; i < clcf->operators->nelts; i++) {
        if (i) {
            ngx_http_chatport_json_literal(j, ",");
        }

        ngx_http_chatport_json_string(j, &op[i].login);
        ngx_http_chatport_json_literal(j, ":");
        ngx_http_chatport_json_string(j, &op[i].name);
    }

    ngx_http_chatport_json_literal(j, "}");
}
