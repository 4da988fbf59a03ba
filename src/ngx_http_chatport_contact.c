
/*
 * ChatPort: POST P contact {"email", "name", "key"}.
 *
 * When nobody can answer now, the widget asks inside the conversation for
 * an address the reply can reach. The address is checked like the contact
 * form's email field, stored on the visitor's conversation (only the
 * visitor's cookie leads to it), and told to the operators' inbox.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_chatport.h"
#include "ngx_http_chatport_call.h"
#include "ngx_http_chatport_contact.h"
#include "ngx_http_chatport_form.h"
#include "ngx_http_chatport_http.h"
#include "ngx_http_chatport_identity.h"
#include "ngx_http_chatport_store.h"


/* an address, a name and a key, escaped, with room to spare */
#define NGX_HTTP_CHATPORT_CONTACT_BODY_MAX  4096


typedef struct {
    ngx_http_chatport_call_t        call;
} ngx_http_chatport_contact_ctx_t;


static void ngx_http_chatport_contact_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_chatport_contact_check(ngx_http_request_t *r,
    json_t *root, ngx_str_t *email, ngx_str_t *name);


/* the form's defaults for these two fields */
static ngx_http_chatport_form_field_t  ngx_http_chatport_contact_email = {
    ngx_string("email"), NGX_HTTP_CHATPORT_FIELD_EMAIL, 254, 1,
    { ngx_null_string, ngx_null_string, ngx_null_string }
};

static ngx_http_chatport_form_field_t  ngx_http_chatport_contact_name = {
    ngx_string("name"), NGX_HTTP_CHATPORT_FIELD_TEXT, 200, 0,
    { ngx_null_string, ngx_null_string, ngx_null_string }
};


ngx_int_t
ngx_http_chatport_contact(ngx_http_request_t *r, ngx_str_t *arg)
{
    return ngx_http_chatport_read_json(r, NGX_HTTP_CHATPORT_CONTACT_BODY_MAX,
                                       ngx_http_chatport_contact_body);
}


static void
ngx_http_chatport_contact_body(ngx_http_request_t *r)
{
    json_t                           *root;
    ngx_int_t                         rc;
    ngx_str_t                         email, name, key, cid;
    ngx_http_chatport_srv_conf_t     *cscf;
    ngx_http_chatport_loc_conf_t     *clcf;
    ngx_http_chatport_contact_ctx_t  *ctx;

    root = ngx_http_chatport_body_json(r, NGX_HTTP_CHATPORT_CONTACT_BODY_MAX);
    if (root == NULL) {
        return;
    }

    rc = ngx_http_chatport_json_key(r, root, &key);

    if (rc == NGX_OK) {
        rc = ngx_http_chatport_contact_check(r, root, &email, &name);
    }

    json_decref(root);

    if (rc != NGX_OK) {
        return;
    }

    ctx = ngx_http_chatport_visitor_call(r,
                                   sizeof(ngx_http_chatport_contact_ctx_t),
                                   &cid);
    if (ctx == NULL) {
        return;
    }

    cscf = ngx_http_get_module_srv_conf(r, ngx_http_chatport_module);
    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);

    rc = ngx_http_chatport_store_contact(r->pool, &cscf->site, &cid, &email,
                                         &name, &key, clcf->retention,
                                         ngx_http_chatport_call_empty, ctx,
                                         &ctx->call.cmd);

    ngx_http_chatport_call_posted(&ctx->call, rc);
}


/*
 * "email" and "name" as the form would take them, every error in one
 * answer. NGX_OK, or NGX_DONE when the request has been answered.
 */

static ngx_int_t
ngx_http_chatport_contact_check(ngx_http_request_t *r, json_t *root,
    ngx_str_t *email, ngx_str_t *name)
{
    char                      *err[2];
    ngx_int_t                  rc[2];
    ngx_str_t                  fields;
    ngx_uint_t                 i, n;
    ngx_http_chatport_json_t   j;

    ngx_http_chatport_form_field_t  *f[2] = {
        &ngx_http_chatport_contact_email, &ngx_http_chatport_contact_name
    };

    rc[0] = ngx_http_chatport_json_get_string(r->pool, root, "email", email);
    rc[1] = ngx_http_chatport_json_get_string(r->pool, root, "name", name);

    ngx_http_chatport_json_init(&j, r->pool);
    n = 0;

    for (i = 0; i < 2; i++) {
        if (rc[i] == NGX_ERROR) {
            err[i] = "invalid";

        } else {
            err[i] = ngx_http_chatport_form_check(f[i],
                                                  i ? name : email);
        }

        if (err[i] == NULL) {
            continue;
        }

        if (n++) {
            ngx_http_chatport_json_literal(&j, ",");

        } else {
            ngx_http_chatport_json_literal(&j, "{");
        }

        ngx_http_chatport_json_string(&j, &f[i]->name);
        ngx_http_chatport_json_literal(&j, ":\"");
        ngx_http_chatport_json_raw(&j, (u_char *) err[i], ngx_strlen(err[i]));
        ngx_http_chatport_json_literal(&j, "\"");
    }

    if (n == 0) {
        return NGX_OK;
    }

    ngx_http_chatport_json_literal(&j, "}");

    ngx_http_finalize_request(r,
        ngx_http_chatport_json_result(&j, &fields) == NGX_OK
        ? ngx_http_chatport_send_fields_error(r, &fields)
        : NGX_HTTP_INTERNAL_SERVER_ERROR);

    return NGX_DONE;
}
