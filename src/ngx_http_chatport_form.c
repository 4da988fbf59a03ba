
/*
 * ChatPort: the contact form.
 *
 * POST P form takes application/x-www-form-urlencoded (a plain HTML form,
 * no JavaScript needed) or JSON. Each configured field is checked and all
 * errors come back together; fields that are not configured are ignored.
 * A filled honeypot field ("website") is answered like a success and
 * dropped. One Redis script counts the client's submissions (the rate
 * limit holds across workers and hosts), stores the submission, and tells
 * the operators' inbox.
 *
 * A browser's plain form (urlencoded, Accept: text/html) is answered with
 * 303 back to the page it came from, with "chatport=sent" or
 * "chatport=error" added to its query.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_chatport.h"
#include "ngx_http_chatport_call.h"
#include "ngx_http_chatport_form.h"
#include "ngx_http_chatport_http.h"
#include "ngx_http_chatport_identity.h"
#include "ngx_http_chatport_mail.h"
#include "ngx_http_chatport_notify.h"
#include "ngx_http_chatport_sites.h"
#include "ngx_http_chatport_store.h"


#define NGX_HTTP_CHATPORT_FORM_NAME_MAX   32
#define NGX_HTTP_CHATPORT_URLENCODED      "application/x-www-form-urlencoded"


typedef struct {
    ngx_str_t                       key;
    ngx_str_t                       value;
    ngx_uint_t                      is_string;  /* unsigned:1 */
    ngx_uint_t                      is_null;    /* unsigned:1 */
} ngx_http_chatport_pair_t;


typedef struct {
    ngx_http_chatport_call_t        call;
    ngx_uint_t                      html;        /* unsigned:1 */
    ngx_uint_t                      new_visitor; /* unsigned:1 */
    ngx_str_t                       page;
    ngx_str_t                       vid;
    ngx_http_chatport_form_entry_t  entry;
} ngx_http_chatport_form_ctx_t;


static void ngx_http_chatport_form_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_chatport_form_pairs(ngx_http_request_t *r,
    ngx_array_t *pairs, ngx_uint_t *status, char **err);
static ngx_int_t ngx_http_chatport_urlencoded(ngx_pool_t *pool,
    ngx_str_t *body, ngx_array_t *pairs);
static ngx_int_t ngx_http_chatport_unescape(ngx_pool_t *pool, u_char *p,
    u_char *last, ngx_str_t *out);
static ngx_http_chatport_pair_t *ngx_http_chatport_pair(ngx_array_t *pairs,
    ngx_str_t *key);
static char *ngx_http_chatport_field_check(ngx_http_chatport_form_field_t *f,
    ngx_http_chatport_pair_t *pair);
static void ngx_http_chatport_form_labels(ngx_http_chatport_json_t *j,
    ngx_array_t *fields, ngx_uint_t lang);
static ngx_int_t ngx_http_chatport_form_store(
    ngx_http_chatport_form_ctx_t *ctx);
static void ngx_http_chatport_form_done(void *data, redisReply *reply,
    ngx_int_t rc);
static ngx_int_t ngx_http_chatport_form_answer(ngx_http_request_t *r,
    ngx_uint_t html, ngx_str_t *page, char *outcome);
static ngx_int_t ngx_http_chatport_form_notify(
    ngx_http_chatport_form_ctx_t *ctx, ngx_str_t *json);
static ngx_int_t ngx_http_chatport_same_host(ngx_http_request_t *r,
    ngx_str_t *url);


static ngx_str_t  ngx_http_chatport_field_types[] = {
    ngx_string("text"),
    ngx_string("textarea"),
    ngx_string("email"),
    ngx_string("tel")
};


/*
 * chatport_form_field NAME [required] [max=SIZE] [type=text|textarea|
 * email|tel] [label=TEXT] [label:en=TEXT] [label:ja=TEXT]; a level that
 * declares fields replaces the inherited ones.
 */

char *
ngx_http_chatport_form_field_parse(ngx_conf_t *cf, ngx_array_t **fields)
{
    char                            *err;
    ngx_str_t                       *value, v;
    ngx_int_t                        max;
    ngx_uint_t                       i, t;
    ngx_http_chatport_form_field_t  *f, *other;

    value = cf->args->elts;

    if (*fields == NGX_CONF_UNSET_PTR) {
        *fields = ngx_array_create(cf->pool, 4,
                                   sizeof(ngx_http_chatport_form_field_t));
        if (*fields == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    if (value[1].len == 0 || value[1].len > NGX_HTTP_CHATPORT_FORM_NAME_MAX) {
        return "a name of 1 to 32 of a-z 0-9 _";
    }

    for (i = 0; i < value[1].len; i++) {
        if (!((value[1].data[i] >= 'a' && value[1].data[i] <= 'z')
              || (value[1].data[i] >= '0' && value[1].data[i] <= '9')
              || value[1].data[i] == '_'))
        {
            return "a name of 1 to 32 of a-z 0-9 _";
        }
    }

    if ((value[1].len == 4 && ngx_strncmp(value[1].data, "page", 4) == 0)
        || (value[1].len == 3 && ngx_strncmp(value[1].data, "key", 3) == 0)
        || (value[1].len == 8
            && ngx_strncmp(value[1].data, "referrer", 8) == 0)
        || (value[1].len == sizeof(NGX_HTTP_CHATPORT_HONEYPOT) - 1
            && ngx_strncmp(value[1].data, NGX_HTTP_CHATPORT_HONEYPOT,
                           value[1].len) == 0))
    {
        return "a name other than \"page\", \"referrer\", \"key\" and "
               "\"website\"";
    }

    other = (*fields)->elts;

    for (i = 0; i < (*fields)->nelts; i++) {
        if (other[i].name.len == value[1].len
            && ngx_strncmp(other[i].name.data, value[1].data, value[1].len)
               == 0)
        {
            return "a field not declared yet";
        }
    }

    f = ngx_array_push(*fields);
    if (f == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(f, sizeof(ngx_http_chatport_form_field_t));

    f->name = value[1];
    f->type = NGX_HTTP_CHATPORT_FIELD_TEXT;
    f->max = 1000;
    f->required = 0;

    for (i = 2; i < cf->args->nelts; i++) {

        if (value[i].len == 8 && ngx_strncmp(value[i].data, "required", 8) == 0)
        {
            f->required = 1;
            continue;
        }

        if (value[i].len > 4 && ngx_strncmp(value[i].data, "max=", 4) == 0) {
            v.data = value[i].data + 4;
            v.len = value[i].len - 4;

            max = ngx_parse_size(&v);
            if (max <= 0 || max > 65536) {
                return "followed by a max= of 1 to 64k";
            }

            f->max = max;
            continue;
        }

        if (value[i].len > 5 && ngx_strncmp(value[i].data, "type=", 5) == 0) {
            v.data = value[i].data + 5;
            v.len = value[i].len - 5;

            for (t = 0; t < 4; t++) {
                if (ngx_http_chatport_field_types[t].len == v.len
                    && ngx_strncmp(ngx_http_chatport_field_types[t].data,
                                   v.data, v.len) == 0)
                {
                    break;
                }
            }

            if (t == 4) {
                return "followed by a type= of text, textarea, email or tel";
            }

            f->type = t;
            continue;
        }

        switch (ngx_http_chatport_label_parse(&value[i], f->label, &err)) {

        case NGX_OK:
            continue;

        case NGX_ERROR:
            return err;

        default:  /* NGX_DECLINED: not a label */
            break;
        }

        return "followed by \"required\", \"max=SIZE\", \"type=TYPE\" or "
               "\"label=TEXT\"";
    }

    return NGX_CONF_OK;
}


ngx_array_t *
ngx_http_chatport_form_default_fields(ngx_conf_t *cf)
{
    ngx_array_t                     *fields;
    ngx_http_chatport_form_field_t  *f;

    fields = ngx_array_create(cf->pool, 3,
                              sizeof(ngx_http_chatport_form_field_t));
    if (fields == NULL) {
        return NULL;
    }

    f = ngx_array_push_n(fields, 3);
    if (f == NULL) {
        return NULL;
    }

    ngx_memzero(f, 3 * sizeof(ngx_http_chatport_form_field_t));

    ngx_str_set(&f[0].name, "name");
    f[0].type = NGX_HTTP_CHATPORT_FIELD_TEXT;
    f[0].max = 200;
    f[0].required = 0;

    ngx_str_set(&f[1].name, "email");
    f[1].type = NGX_HTTP_CHATPORT_FIELD_EMAIL;
    f[1].max = 254;
    f[1].required = 1;

    ngx_str_set(&f[2].name, "message");
    f[2].type = NGX_HTTP_CHATPORT_FIELD_TEXTAREA;
    f[2].max = 5000;
    f[2].required = 1;

    return fields;
}


/* the fields for the widget, each with its label in lang when it has one */

void
ngx_http_chatport_form_fields_json(ngx_http_chatport_json_t *j,
    ngx_array_t *fields, ngx_uint_t lang)
{
    ngx_str_t                       *label;
    ngx_uint_t                       i;
    ngx_http_chatport_form_field_t  *f;

    f = fields->elts;

    ngx_http_chatport_json_literal(j, "[");

    for (i = 0; i < fields->nelts; i++) {
        if (i) {
            ngx_http_chatport_json_literal(j, ",");
        }

        ngx_http_chatport_json_literal(j, "{\"name\":");
        ngx_http_chatport_json_string(j, &f[i].name);
        ngx_http_chatport_json_literal(j, ",\"type\":");
        ngx_http_chatport_json_string(j,
                                  &ngx_http_chatport_field_types[f[i].type]);
        ngx_http_chatport_json_literal(j, ",\"required\":");
        ngx_http_chatport_json_bool(j, f[i].required);
        ngx_http_chatport_json_literal(j, ",\"max\":");
        ngx_http_chatport_json_int(j, f[i].max);

        label = ngx_http_chatport_label(f[i].label, lang);

        if (label) {
            ngx_http_chatport_json_literal(j, ",\"label\":");
            ngx_http_chatport_json_string(j, label);
        }

        ngx_http_chatport_json_literal(j, "}");
    }

    ngx_http_chatport_json_literal(j, "]");
}


/*
 * ,"labels":{NAME: LABEL} of the fields that have one in lang, for the
 * console and the owners' mail; nothing when none has.
 */

static void
ngx_http_chatport_form_labels(ngx_http_chatport_json_t *j,
    ngx_array_t *fields, ngx_uint_t lang)
{
    ngx_str_t                       *label;
    ngx_uint_t                       i, n;
    ngx_http_chatport_form_field_t  *f;

    f = fields->elts;
    n = 0;

    for (i = 0; i < fields->nelts; i++) {
        label = ngx_http_chatport_label(f[i].label, lang);

        if (label == NULL) {
            continue;
        }

        if (n++) {
            ngx_http_chatport_json_literal(j, ",");

        } else {
            ngx_http_chatport_json_literal(j, ",\"labels\":{");
        }

        ngx_http_chatport_json_string(j, &f[i].name);
        ngx_http_chatport_json_literal(j, ":");
        ngx_http_chatport_json_string(j, label);
    }

    if (n) {
        ngx_http_chatport_json_literal(j, "}");
    }
}


/* all fields at their longest, percent-encoded, and a page */

static size_t
ngx_http_chatport_form_limit(ngx_http_chatport_loc_conf_t *clcf)
{
    size_t                           size;
    ngx_uint_t                       i;
    ngx_http_chatport_form_field_t  *f;

    size = 3 * NGX_HTTP_CHATPORT_PAGE_MAX + 4096;
    f = clcf->form_fields->elts;

    for (i = 0; i < clcf->form_fields->nelts; i++) {
        size += 3 * f[i].max + f[i].name.len + 2;
    }

    return size;
}


ngx_int_t
ngx_http_chatport_form(ngx_http_request_t *r, ngx_str_t *arg)
{
    ngx_int_t                      rc;
    ngx_http_chatport_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);

    if (ngx_http_chatport_content_type(r, NGX_HTTP_CHATPORT_URLENCODED)
        != NGX_OK)
    {
        /* JSON, or the error for what is neither */
        return ngx_http_chatport_read_json(r,
                                           ngx_http_chatport_form_limit(clcf),
                                           ngx_http_chatport_form_body);
    }

    if (ngx_http_chatport_same_origin(r) != NGX_OK) {
        return ngx_http_chatport_send_error(r, NGX_HTTP_FORBIDDEN,
                                            "cross_origin",
                                            "requests from other sites "
                                            "are refused");
    }

    if (r->headers_in.content_length_n
        > (off_t) ngx_http_chatport_form_limit(clcf))
    {
        return ngx_http_chatport_send_error(r,
                                            NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                            "body_too_large",
                                            "the request body is too large");
    }

    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r, ngx_http_chatport_form_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_chatport_form_body(ngx_http_request_t *r)
{
    char                            *err, *field_err;
    ngx_int_t                        rc;
    ngx_str_t                        *referrer, *label, text;
    ngx_uint_t                       i, status, html, honeypot, stored,
                                     owner;
    ngx_array_t                      pairs;
    ngx_http_chatport_json_t         j, errors, line, para;
    ngx_http_chatport_pair_t        *pair;
    ngx_http_chatport_srv_conf_t    *cscf;
    ngx_http_chatport_loc_conf_t    *clcf;
    ngx_http_chatport_form_ctx_t    *ctx;
    ngx_http_chatport_form_field_t  *f;
    ngx_str_t                        name = ngx_string("page");
    ngx_str_t                        from = ngx_string("referrer");
    ngx_str_t                        idem = ngx_string("key");
    ngx_str_t                        trap = ngx_string(
                                                NGX_HTTP_CHATPORT_HONEYPOT);

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);
    cscf = ngx_http_get_module_srv_conf(r, ngx_http_chatport_module);

    /* the owners read the submission in the language of their mail */
    owner = (clcf->lang == NGX_HTTP_CHATPORT_LANG_JA)
            ? NGX_HTTP_CHATPORT_LANG_JA : NGX_HTTP_CHATPORT_LANG_EN;

    ctx = ngx_http_chatport_call_create(r, sizeof(ngx_http_chatport_form_ctx_t),
                                        "unknown_visitor");
    if (ctx == NULL
        || ngx_array_init(&pairs, r->pool, 8,
                          sizeof(ngx_http_chatport_pair_t))
           != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    html = (ngx_http_chatport_content_type(r, NGX_HTTP_CHATPORT_URLENCODED)
            == NGX_OK
            && ngx_http_chatport_accepts_html(r));

    ctx->html = html;

    err = NULL;
    status = NGX_HTTP_BAD_REQUEST;

    rc = ngx_http_chatport_form_pairs(r, &pairs, &status, &err);

    if (rc == NGX_DONE) {
        return;
    }

    /* the page to go back to: a "page" field, or the Referer, this site's */

    pair = ngx_http_chatport_pair(&pairs, &name);
    referrer = r->headers_in.referer ? &r->headers_in.referer->value : NULL;

    if (pair && pair->is_string && pair->value.len
        && pair->value.len <= NGX_HTTP_CHATPORT_PAGE_MAX
        && ngx_http_chatport_same_host(r, &pair->value) == NGX_OK)
    {
        ctx->page = pair->value;

    } else if (referrer && referrer->len <= NGX_HTTP_CHATPORT_PAGE_MAX
               && ngx_http_chatport_same_host(r, referrer) == NGX_OK)
    {
        ctx->page = *referrer;
    }

    if (rc != NGX_OK) {
        ngx_http_finalize_request(r,
            html ? ngx_http_chatport_form_answer(r, 1, &ctx->page, "error")
                 : ngx_http_chatport_send_error(r, status, err,
                                                "the form could not be read"));
        return;
    }

    /* a retry's key: the same submission is stored once; null is none */

    pair = ngx_http_chatport_pair(&pairs, &idem);

    if (pair && pair->is_null) {
        pair = NULL;
    }

    if (pair && !(pair->is_string && ngx_http_chatport_post_key(&pair->value)))
    {
        ngx_http_finalize_request(r,
            html ? ngx_http_chatport_form_answer(r, 1, &ctx->page, "error")
                 : ngx_http_chatport_send_error(r, NGX_HTTP_BAD_REQUEST,
                                                "invalid_key",
                                                NGX_HTTP_CHATPORT_KEY_ERROR));
        return;
    }

    if (pair) {
        ctx->entry.key = pair->value;
    }

    /* anything in the trap, even a JSON number, is a robot's */
    pair = ngx_http_chatport_pair(&pairs, &trap);
    honeypot = (pair && (pair->value.len || !pair->is_string));

    /* every field's error in one answer */

    ngx_http_chatport_json_init(&errors, r->pool);
    ngx_http_chatport_json_init(&j, r->pool);

    /* as a message: "name: value" lines, then the long texts */
    ngx_http_chatport_json_init(&line, r->pool);
    ngx_http_chatport_json_init(&para, r->pool);

    ngx_http_chatport_json_literal(&j, "{\"fields\":{");

    stored = 0;
    f = clcf->form_fields->elts;

    for (i = 0; i < clcf->form_fields->nelts; i++) {
        pair = ngx_http_chatport_pair(&pairs, &f[i].name);
        field_err = ngx_http_chatport_field_check(&f[i], pair);

        if (field_err) {
            if (errors.pos == errors.start) {
                ngx_http_chatport_json_literal(&errors, "{");

            } else {
                ngx_http_chatport_json_literal(&errors, ",");
            }

            ngx_http_chatport_json_string(&errors, &f[i].name);
            ngx_http_chatport_json_literal(&errors, ":\"");
            ngx_http_chatport_json_raw(&errors, (u_char *) field_err,
                                       ngx_strlen(field_err));
            ngx_http_chatport_json_literal(&errors, "\"");
            continue;
        }

        if (pair == NULL || pair->value.len == 0) {
            continue;
        }

        if (stored++) {
            ngx_http_chatport_json_literal(&j, ",");
        }

        ngx_http_chatport_json_string(&j, &f[i].name);
        ngx_http_chatport_json_literal(&j, ":");
        ngx_http_chatport_json_string(&j, &pair->value);

        if (f[i].type == NGX_HTTP_CHATPORT_FIELD_TEXTAREA) {
            ngx_http_chatport_json_literal(&para, "\n");
            ngx_http_chatport_json_raw(&para, pair->value.data,
                                       pair->value.len);

        } else {
            label = ngx_http_chatport_label(f[i].label, owner);

            if (label == NULL) {
                label = &f[i].name;
            }

            ngx_http_chatport_json_raw(&line, label->data, label->len);
            ngx_http_chatport_json_literal(&line, ": ");
            ngx_http_chatport_json_raw(&line, pair->value.data,
                                       pair->value.len);
            ngx_http_chatport_json_literal(&line, "\n");
        }
    }

    if (errors.pos != errors.start) {
        ngx_http_chatport_json_literal(&errors, "}");

        if (html) {
            ngx_http_finalize_request(r,
                ngx_http_chatport_form_answer(r, 1, &ctx->page, "error"));
            return;
        }

        if (ngx_http_chatport_json_result(&errors, &text) != NGX_OK) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        ngx_http_finalize_request(r,
            ngx_http_chatport_send_fields_error(r, &text));
        return;
    }

    if (honeypot) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "chatport: form honeypot filled, submission dropped");

        ngx_http_finalize_request(r,
            ngx_http_chatport_form_answer(r, html, &ctx->page, "sent"));
        return;
    }

    ngx_http_chatport_json_literal(&j, "}");
    ngx_http_chatport_form_labels(&j, clcf->form_fields, owner);

    ngx_http_chatport_json_literal(&j, ",\"page\":");
    ngx_http_chatport_json_string(&j, &ctx->page);

    /* the widget sends the page's document.referrer, see visitor.c */

    ngx_http_chatport_json_literal(&j, ",\"referrer\":");
    pair = ngx_http_chatport_pair(&pairs, &from);

    if (pair && pair->is_string) {
        text = pair->value;

        if (!ngx_http_chatport_url(&text)) {
            ngx_str_null(&text);
        }

    } else {
        ngx_http_chatport_referrer(r, NULL, &ctx->page, &text);
    }

    ngx_http_chatport_json_string(&j, &text);

    ngx_http_chatport_json_literal(&j, ",\"user_agent\":");
    ngx_http_chatport_header_text(r->headers_in.user_agent,
                                  NGX_HTTP_CHATPORT_AGENT_MAX, &text);
    ngx_http_chatport_json_string(&j, &text);

    if (para.pos != para.start) {
        ngx_http_chatport_json_raw(&line, para.start, para.pos - para.start);
    }

    if (ngx_http_chatport_json_result(&j, &ctx->entry.json) != NGX_OK
        || ngx_http_chatport_json_result(&line, &ctx->entry.text) != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    /* no blank line before the long texts when they come alone */
    while (ctx->entry.text.len && ctx->entry.text.data[0] == '\n') {
        ctx->entry.text.data++;
        ctx->entry.text.len--;
    }

    while (ctx->entry.text.len
           && ctx->entry.text.data[ctx->entry.text.len - 1] == '\n')
    {
        ctx->entry.text.len--;
    }

    /*
     * A key counts per client address, as the rate does: a retry comes
     * from the same browser, without a cookie on a first visit, and one
     * client's key can never swallow another client's submission.
     */

    ctx->entry.site = cscf->site;
    ctx->entry.client = r->connection->addr_text;
    ctx->entry.rate = &clcf->form_rate;
    ctx->entry.history = clcf->history;
    ctx->entry.retention = clcf->retention;

    /*
     * The submission goes into the visitor's conversation, or opens one
     * with a new visitor id, as a first message does.
     */

    if (ngx_http_chatport_visitor_cookie(r, &ctx->vid) != NGX_OK) {
        if (ngx_http_chatport_new_visitor(r->pool, &ctx->vid) != NGX_OK) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        ctx->new_visitor = 1;
    }

    ngx_http_chatport_call_posted(&ctx->call,
                                  ngx_http_chatport_form_store(ctx));
}


static ngx_int_t
ngx_http_chatport_form_store(ngx_http_chatport_form_ctx_t *ctx)
{
    ngx_http_request_t            *r;
    ngx_http_chatport_loc_conf_t  *clcf;

    r = ctx->call.request;
    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);

    if (ngx_http_chatport_visitor_cid(r->pool, &ctx->vid, &ctx->entry.cid)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ctx->entry.create = ctx->new_visitor;
    ctx->entry.mail = clcf->mail;

    if (clcf->mail.len
        && ngx_http_chatport_console_link(r, &ctx->entry.cid,
                                          &ctx->entry.link)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_chatport_store_form(r->pool, &ctx->entry,
                                        ngx_http_chatport_form_done, ctx,
                                        &ctx->call.cmd);
}


/*
 * The body as key/value pairs. NGX_OK; NGX_ERROR with an error code and
 * status; NGX_DONE when the request has been answered already.
 */

static ngx_int_t
ngx_http_chatport_form_pairs(ngx_http_request_t *r, ngx_array_t *pairs,
    ngx_uint_t *status, char **err)
{
    json_t                        *root, *value;
    ngx_int_t                      rc;
    ngx_str_t                      body;
    const char                    *key;
    ngx_http_chatport_pair_t      *pair;
    ngx_http_chatport_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);

    *status = NGX_HTTP_BAD_REQUEST;

    if (ngx_http_chatport_json_request(r) == NGX_OK) {
        root = ngx_http_chatport_body_json(r,
                                           ngx_http_chatport_form_limit(clcf));
        if (root == NULL) {
            return NGX_DONE;
        }

        if (json_object_size(root) > NGX_HTTP_CHATPORT_FORM_PAIRS_MAX) {
            json_decref(root);
            *err = "too_many_fields";
            return NGX_ERROR;
        }

        json_object_foreach(root, key, value) {
            pair = ngx_array_push(pairs);
            if (pair == NULL) {
                json_decref(root);
                *status = NGX_HTTP_INTERNAL_SERVER_ERROR;
                *err = "internal";
                return NGX_ERROR;
            }

            ngx_memzero(pair, sizeof(ngx_http_chatport_pair_t));

            pair->key.len = ngx_strlen(key);
            pair->key.data = (u_char *) key;
            pair->key.data = ngx_pstrdup(r->pool, &pair->key);

            pair->is_string = json_is_string(value);
            pair->is_null = json_is_null(value);
            ngx_str_null(&pair->value);

            if (pair->is_string) {
                pair->value.len = json_string_length(value);
                pair->value.data = ngx_pnalloc(r->pool, pair->value.len + 1);

                if (pair->value.data != NULL) {
                    ngx_memcpy(pair->value.data, json_string_value(value),
                               pair->value.len);
                }
            }

            if (pair->key.data == NULL
                || (pair->is_string && pair->value.data == NULL))
            {
                json_decref(root);
                *status = NGX_HTTP_INTERNAL_SERVER_ERROR;
                *err = "internal";
                return NGX_ERROR;
            }
        }

        json_decref(root);
        return NGX_OK;
    }

    rc = ngx_http_chatport_read_body(r, ngx_http_chatport_form_limit(clcf),
                                     &body);

    if (rc == NGX_HTTP_REQUEST_ENTITY_TOO_LARGE) {
        *status = NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
        *err = "body_too_large";
        return NGX_ERROR;
    }

    if (rc != NGX_OK) {
        *status = NGX_HTTP_INTERNAL_SERVER_ERROR;
        *err = "internal";
        return NGX_ERROR;
    }

    rc = ngx_http_chatport_urlencoded(r->pool, &body, pairs);

    if (rc == NGX_DECLINED) {
        *err = "too_many_fields";
        return NGX_ERROR;
    }

    if (rc != NGX_OK) {
        *err = "invalid_encoding";
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* "a=1&b=x+y%21": NGX_OK, NGX_DECLINED for too many pairs, NGX_ERROR */

static ngx_int_t
ngx_http_chatport_urlencoded(ngx_pool_t *pool, ngx_str_t *body,
    ngx_array_t *pairs)
{
    u_char                    *p, *last, *amp, *eq;
    ngx_http_chatport_pair_t  *pair;

    /* no body: data NULL, and NULL + 0 is undefined */

    if (body->len == 0) {
        return NGX_OK;
    }

    p = body->data;
    last = p + body->len;

    while (p < last) {
        amp = ngx_strlchr(p, last, '&');
        if (amp == NULL) {
            amp = last;
        }

        if (amp == p) {
            p++;
            continue;
        }

        if (pairs->nelts == NGX_HTTP_CHATPORT_FORM_PAIRS_MAX) {
            return NGX_DECLINED;
        }

        pair = ngx_array_push(pairs);
        if (pair == NULL) {
            return NGX_ERROR;
        }

        /* a pair that fails to decode is still looked at for "page" */
        ngx_memzero(pair, sizeof(ngx_http_chatport_pair_t));

        eq = ngx_strlchr(p, amp, '=');
        if (eq == NULL) {
            eq = amp;
        }

        pair->is_string = 1;

        if (ngx_http_chatport_unescape(pool, p, eq, &pair->key) != NGX_OK
            || ngx_http_chatport_unescape(pool, eq < amp ? eq + 1 : amp, amp,
                                          &pair->value)
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        p = amp + 1;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_chatport_unescape(ngx_pool_t *pool, u_char *p, u_char *last,
    ngx_str_t *out)
{
    u_char     *d, c;
    ngx_int_t   hi, lo;

    out->data = ngx_pnalloc(pool, last - p + 1);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    d = out->data;

    while (p < last) {
        c = *p++;

        if (c == '+') {
            *d++ = ' ';
            continue;
        }

        if (c != '%') {
            *d++ = c;
            continue;
        }

        if (last - p < 2) {
            return NGX_ERROR;
        }

        hi = ngx_hextoi(p, 1);
        lo = ngx_hextoi(p + 1, 1);

        if (hi == NGX_ERROR || lo == NGX_ERROR) {
            return NGX_ERROR;
        }

        *d++ = (u_char) (hi * 16 + lo);
        p += 2;
    }

    out->len = d - out->data;

    return NGX_OK;
}


/* the first pair with that key: repeated keys after it are ignored */

static ngx_http_chatport_pair_t *
ngx_http_chatport_pair(ngx_array_t *pairs, ngx_str_t *key)
{
    ngx_uint_t                 i;
    ngx_http_chatport_pair_t  *pair;

    pair = pairs->elts;

    for (i = 0; i < pairs->nelts; i++) {
        if (pair[i].key.len == key->len
            && ngx_strncmp(pair[i].key.data, key->data, key->len) == 0)
        {
            return &pair[i];
        }
    }

    return NULL;
}


static char *
ngx_http_chatport_field_check(ngx_http_chatport_form_field_t *f,
    ngx_http_chatport_pair_t *pair)
{
    if (pair && !pair->is_string) {
        return "invalid";
    }

    return ngx_http_chatport_form_check(f, pair ? &pair->value : NULL);
}


/*
 * NULL when a field's value (NULL: absent) is fine, or its error:
 * "required", "too_long" or "invalid".
 */

char *
ngx_http_chatport_form_check(ngx_http_chatport_form_field_t *f,
    ngx_str_t *value)
{
    ngx_uint_t  blank;

    if (value == NULL || value->len == 0) {
        return f->required ? "required" : NULL;
    }

    if (value->len > f->max) {
        return "too_long";
    }

    if (ngx_http_chatport_utf8_text(value,
                                    f->type == NGX_HTTP_CHATPORT_FIELD_TEXTAREA,
                                    &blank)
        != NGX_OK)
    {
        return "invalid";
    }

    if (blank) {
        return f->required ? "required" : NULL;
    }

    if (f->type == NGX_HTTP_CHATPORT_FIELD_EMAIL
        && !ngx_http_chatport_mail_address(value))
    {
        return "invalid";
    }

    return NULL;
}


static void
ngx_http_chatport_form_done(void *data, redisReply *reply, ngx_int_t rc)
{
    ngx_http_chatport_form_ctx_t  *ctx = data;

    ngx_str_t                          json;
    ngx_http_request_t                *r;
    ngx_http_chatport_json_t           j;
    ngx_http_chatport_error_t          err;
    ngx_http_chatport_store_status_e   status;

    r = ctx->call.request;
    ctx->call.cmd = NULL;

    status = ngx_http_chatport_store_status(reply, rc, r->connection->log);

    if (status == NGX_HTTP_CHATPORT_STORE_UNKNOWN && !ctx->new_visitor) {
        /* the cookie's conversation expired: a new one, with a new id */
        if (ngx_http_chatport_new_visitor(r->pool, &ctx->vid) != NGX_OK) {
            ngx_http_chatport_call_done(&ctx->call,
                                        NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        ctx->new_visitor = 1;

        rc = ngx_http_chatport_form_store(ctx);

        if (rc == NGX_OK) {
            return;
        }

        status = (rc == NGX_DECLINED) ? NGX_HTTP_CHATPORT_STORE_UNAVAILABLE
                                      : NGX_HTTP_CHATPORT_STORE_UNKNOWN;
    }

    if (status == NGX_HTTP_CHATPORT_STORE_RATE) {
        ngx_http_chatport_call_done(&ctx->call,
            ngx_http_chatport_send_rate_limited(r, reply,
                                                "too many messages from this "
                                                "address, try again later"));
        return;
    }

    if (status == NGX_HTTP_CHATPORT_STORE_REPEAT) {
        /* a retry of a stored submission: no second notification */
        ngx_http_chatport_call_done(&ctx->call,
            ctx->html ? ngx_http_chatport_form_answer(r, 1, &ctx->page, "sent")
                      : ngx_http_chatport_send_created(r, reply));
        return;
    }

    if (status == NGX_HTTP_CHATPORT_STORE_UNSAFE && !ctx->html) {
        ngx_http_chatport_store_error(status, ctx->call.unknown, &err);
        ngx_http_chatport_call_done(&ctx->call,
            ngx_http_chatport_send_error(r, err.status, err.code,
                                         err.message));
        return;
    }

    if (status != NGX_HTTP_CHATPORT_STORE_OK
        || reply->type != REDIS_REPLY_STRING)
    {
        ngx_http_chatport_call_done(&ctx->call,
            ngx_http_chatport_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                         "unavailable",
                                         "the form store is unavailable"));
        return;
    }

    /* the submission as stored: the script adds the conversation */

    ngx_http_chatport_json_init(&j, r->pool);
    ngx_http_chatport_json_raw(&j, ctx->entry.json.data, ctx->entry.json.len);
    ngx_http_chatport_json_literal(&j, ",\"conversation\":");
    ngx_http_chatport_json_string(&j, &ctx->entry.cid);
    ngx_http_chatport_json_literal(&j, "}");

    if (ngx_http_chatport_json_result(&j, &json) != NGX_OK
        || ngx_http_chatport_form_notify(ctx, &json) != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "chatport: cannot notify of a form submission");
    }

    if (ctx->new_visitor
        && ngx_http_chatport_set_cookie(r, &ctx->vid) != NGX_OK)
    {
        ngx_http_chatport_call_done(&ctx->call,
                                    NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (ctx->html) {
        ngx_http_chatport_call_done(&ctx->call,
            ngx_http_chatport_form_answer(r, 1, &ctx->page, "sent"));
        return;
    }

    ngx_http_chatport_call_done(&ctx->call,
                                ngx_http_chatport_send_created(r, reply));
}


/*
 * A success without storing (the honeypot) or the 303 of a plain form:
 * back to the page with "chatport=sent" or "chatport=error".
 */

static ngx_int_t
ngx_http_chatport_form_answer(ngx_http_request_t *r, ngx_uint_t html,
    ngx_str_t *page, char *outcome)
{
    u_char     *p, *hash;
    size_t      len;
    ngx_str_t   location, body;

    if (!html) {
        ngx_str_set(&body, "{\"id\":null}\n");
        return ngx_http_chatport_send_json(r, NGX_HTTP_CREATED, &body);
    }

    if (page->len == 0) {
        ngx_str_set(page, "/");
    }

    hash = ngx_strlchr(page->data, page->data + page->len, '#');
    len = hash ? (size_t) (hash - page->data) : page->len;

    location.data = ngx_pnalloc(r->pool, len
                                 + 2 * ngx_escape_uri(NULL, page->data, len,
                                                      NGX_ESCAPE_REFRESH)
                                 + sizeof("&chatport=error"));
    if (location.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* bytes a header cannot carry are percent-encoded */
    p = (u_char *) ngx_escape_uri(location.data, page->data, len,
                                  NGX_ESCAPE_REFRESH);
    p = ngx_sprintf(p, "%cchatport=%s",
                    ngx_strlchr(location.data, p, '?') ? '&' : '?', outcome);
    location.len = p - location.data;

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        r->keepalive = 0;
    }

    if (ngx_http_chatport_add_header(r, "Location", &location) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_str_null(&body);

    return ngx_http_chatport_send_json(r, NGX_HTTP_SEE_OTHER, &body);
}


static ngx_int_t
ngx_http_chatport_form_notify(ngx_http_chatport_form_ctx_t *ctx,
    ngx_str_t *json)
{
    ngx_str_t                      event, link, cid;
    ngx_http_request_t            *r;
    ngx_http_chatport_json_t       j;
    ngx_http_chatport_srv_conf_t  *cscf;
    ngx_http_chatport_loc_conf_t  *clcf;

    r = ctx->call.request;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);
    cscf = ngx_http_get_module_srv_conf(r, ngx_http_chatport_module);

    if (clcf->notify.len == 0) {
        return NGX_OK;
    }

    ngx_str_set(&cid, "forms");

    if (ngx_http_chatport_console_link(r, &cid, &link) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_chatport_json_init(&j, r->pool);
    ngx_http_chatport_json_literal(&j, "{\"type\":\"form\",\"site\":");
    ngx_http_chatport_json_string(&j, &cscf->site);
    ngx_http_chatport_json_literal(&j, ",\"form\":");
    ngx_http_chatport_json_raw(&j, json->data, json->len);
    ngx_http_chatport_json_literal(&j, ",\"console\":");
    ngx_http_chatport_json_string(&j, &link);
    ngx_http_chatport_json_literal(&j, "}\n");

    if (ngx_http_chatport_json_result(&j, &event) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_chatport_notify(r, &event);
}


/* 400 {"error": "invalid_fields", "fields": {"email": "invalid"}} */

ngx_int_t
ngx_http_chatport_send_fields_error(ngx_http_request_t *r, ngx_str_t *fields)
{
    ngx_http_chatport_json_t  j;

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        r->keepalive = 0;
    }

    ngx_http_chatport_json_init(&j, r->pool);
    ngx_http_chatport_json_literal(&j,
                                   "{\"error\":\"invalid_fields\","
                                   "\"message\":\"some fields are missing "
                                   "or invalid\",\"fields\":");
    ngx_http_chatport_json_raw(&j, fields->data, fields->len);
    ngx_http_chatport_json_literal(&j, "}\n");

    return ngx_http_chatport_send_built(r, NGX_HTTP_BAD_REQUEST, &j);
}


/* "https://HOST/..." with this request's Host: no open redirect */

static ngx_int_t
ngx_http_chatport_same_host(ngx_http_request_t *r, ngx_str_t *url)
{
    u_char     *p, *last, *end;
    ngx_str_t  *host;

    if (r->headers_in.host == NULL) {
        return NGX_DECLINED;
    }

    host = &r->headers_in.host->value;
    p = url->data;
    last = p + url->len;

    if (url->len > 8 && ngx_strncasecmp(p, (u_char *) "https://", 8) == 0) {
        p += 8;

    } else if (url->len > 7
               && ngx_strncasecmp(p, (u_char *) "http://", 7) == 0)
    {
        p += 7;

    } else {
        return NGX_DECLINED;
    }

    for (end = p; end < last; end++) {
        if (*end == '/' || *end == '?' || *end == '#') {
            break;
        }

        if (*end < 0x21 || *end >= 0x7f) {
            return NGX_DECLINED;
        }
    }

    for ( /* void */ ; end < last; end++) {
        if (*end < 0x21 || *end == 0x7f) {
            return NGX_DECLINED;
        }
    }

    end = p;

    while (end < last && *end != '/' && *end != '?' && *end != '#') {
        end++;
    }

    if ((size_t) (end - p) != host->len
        || ngx_strncasecmp(p, host->data, host->len) != 0)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}
