
/*
 * ChatPort: one operator location for several sites. With
 * "chatport_agent_sites" a request about one conversation or one site
 * names it with the query argument "site"; the lists (conversations,
 * forms) read every listed site and merge them, each entry labelled with
 * its site. An operator never reaches a site the location does not list.
 * Every handler below chatport_agent takes the site it serves from
 * ngx_http_chatport_request_site() (the server's where no list is set).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_chatport.h"
#include "ngx_http_chatport_call.h"
#include "ngx_http_chatport_http.h"
#include "ngx_http_chatport_json.h"
#include "ngx_http_chatport_forms.h"
#include "ngx_http_chatport_list.h"
#include "ngx_http_chatport_sites.h"
#include "ngx_http_chatport_store.h"


typedef struct ngx_http_chatport_sites_ctx_s  ngx_http_chatport_sites_ctx_t;

/* starts the read of one site's page, answered to sites_read_done() */
typedef ngx_int_t (*ngx_http_chatport_sites_read_pt)(
    ngx_http_chatport_sites_ctx_t *ctx, ngx_str_t *site);


struct ngx_http_chatport_sites_ctx_s {
    ngx_http_chatport_call_t          call;
    ngx_str_t                        *sites;
    ngx_uint_t                        nsites;
    ngx_uint_t                        next;      /* the site being read */
    ngx_int_t                         limit;     /* entries kept, 0: all */
    ngx_str_t                         images;
    ngx_http_chatport_list_t          args;      /* the list's arguments */
    ngx_int_t                         new_forms; /* forms still new */
    char                             *list;      /* the answer's list */
    ngx_http_chatport_sites_read_pt   read;
    int                             (*cmp)(const void *, const void *);
    json_t                           *all;       /* entries, labelled */

    /* conversations: pages with a cursor "MS-CID" (null: no more) */
    unsigned                          places:1;  /* entries are places */
    unsigned                          paged:1;   /* a page had a cursor */
    unsigned                          bounded:1; /* a site has more... */
    int64_t                           bound_ms;  /* ... after this place */
    ngx_str_t                         bound_id;
};


static ngx_int_t ngx_http_chatport_sites_merge(ngx_http_request_t *r,
    char *list, ngx_int_t limit, ngx_http_chatport_sites_read_pt read,
    int (*cmp)(const void *, const void *),
    ngx_http_chatport_sites_ctx_t **ctxp);
static void ngx_http_chatport_sites_cleanup(void *data);
static void ngx_http_chatport_sites_read_done(void *data, redisReply *reply,
    ngx_int_t rc);
static ngx_int_t ngx_http_chatport_sites_add(
    ngx_http_chatport_sites_ctx_t *ctx, ngx_str_t *body);
static ngx_int_t ngx_http_chatport_sites_answer(
    ngx_http_chatport_sites_ctx_t *ctx);
static ngx_int_t ngx_http_chatport_sites_read_list(
    ngx_http_chatport_sites_ctx_t *ctx, ngx_str_t *site);
static ngx_int_t ngx_http_chatport_sites_read_forms(
    ngx_http_chatport_sites_ctx_t *ctx, ngx_str_t *site);
static int ngx_libc_cdecl ngx_http_chatport_sites_newest(const void *one,
    const void *two);
static int ngx_libc_cdecl ngx_http_chatport_sites_oldest(const void *one,
    const void *two);
static int ngx_http_chatport_sites_cmp(json_t *a, json_t *b, char *time);
static ngx_int_t ngx_http_chatport_sites_bound(
    ngx_http_chatport_sites_ctx_t *ctx, json_t *cursor);
static ngx_uint_t ngx_http_chatport_sites_past(
    ngx_http_chatport_sites_ctx_t *ctx, json_t *entry);
static int64_t ngx_http_chatport_sites_ms(json_t *entry);
static void ngx_http_chatport_sites_place(ngx_http_chatport_json_t *j,
    int64_t ms, ngx_str_t *id);


/*
 * What a multi-site location serves without "site": the console, the
 * lists that merge every listed site, and a presence, which may name its
 * site in its body. Everything else is about one site (a conversation,
 * the inbox, the operators, what a later endpoint adds) and is refused
 * without "site".
 */
static ngx_str_t  ngx_http_chatport_sites_all_paths[] = {
    ngx_string(""),
    ngx_string("console.js"),
    ngx_string("console.css"),
    ngx_string("session"),
    ngx_string("conversations"),
    ngx_string("forms"),
    ngx_string("presence"),
    ngx_null_string
};


/* chatport_agent_sites SITE ... */

char *
ngx_http_chatport_agent_sites(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_chatport_loc_conf_t *clcf = conf;

    ngx_str_t   *value, *site;
    ngx_uint_t   i, k;

    if (clcf->agent_sites != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    clcf->agent_sites = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                         sizeof(ngx_str_t));
    if (clcf->agent_sites == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_http_chatport_site_name(&value[i]) != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid site \"%V\" in \"%V\" directive, "
                               "it must be 1 to 64 of A-Z a-z 0-9 . _ -",
                               &value[i], &cmd->name);
            return NGX_CONF_ERROR;
        }

        for (k = 1; k < i; k++) {
            if (value[k].len == value[i].len
                && ngx_strncmp(value[k].data, value[i].data, value[i].len)
                   == 0)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "site \"%V\" is listed twice in \"%V\" "
                                   "directive", &value[i], &cmd->name);
                return NGX_CONF_ERROR;
            }
        }

        site = ngx_array_push(clcf->agent_sites);
        if (site == NULL) {
            return NGX_CONF_ERROR;
        }

        *site = value[i];
    }

    return NGX_CONF_OK;
}


/* a name "chatport_site" accepts: 1 to 64 of A-Z a-z 0-9 . _ - */

ngx_int_t
ngx_http_chatport_site_name(ngx_str_t *name)
{
    ngx_uint_t  i;

    if (name->len == 0 || name->len > NGX_HTTP_CHATPORT_SITE_MAX) {
        return NGX_DECLINED;
    }

    for (i = 0; i < name->len; i++) {
        if (!(isalnum(name->data[i]) || name->data[i] == '.'
              || name->data[i] == '_' || name->data[i] == '-'))
        {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


/*
 * Called for every request to a chatport_agent location before its
 * route: a "site" argument must be a site of the location (the server's
 * without a list), and with a list a request about one site must name
 * it. NGX_DECLINED: go on; else the error answer's rc.
 */

ngx_int_t
ngx_http_chatport_sites_check(ngx_http_request_t *r, ngx_str_t *prefix)
{
    ngx_str_t                      value, rest, *path;
    ngx_http_chatport_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);

    if (ngx_http_arg(r, (u_char *) "site", 4, &value) == NGX_OK) {

        if (ngx_http_chatport_sites_find(r, &value) != NULL) {
            return NGX_DECLINED;
        }

        return ngx_http_chatport_send_error(r, NGX_HTTP_BAD_REQUEST,
                                            "invalid_site",
                                            "\"site\" is not a site of "
                                            "this console");
    }

    if (clcf->agent_sites == NULL) {
        return NGX_DECLINED;
    }

    /* the route's path, as ngx_http_chatport_dispatch() finds it */
    rest = r->uri;

    if (rest.len >= prefix->len
        && ngx_strncmp(rest.data, prefix->data, prefix->len) == 0)
    {
        rest.data += prefix->len;
        rest.len -= prefix->len;
    }

    if (rest.len && rest.data[0] == '/') {
        rest.data++;
        rest.len--;
    }

    for (path = ngx_http_chatport_sites_all_paths; path->data; path++) {
        if (path->len == rest.len
            && ngx_strncmp(path->data, rest.data, rest.len) == 0)
        {
            return NGX_DECLINED;
        }
    }

    return ngx_http_chatport_send_error(r, NGX_HTTP_BAD_REQUEST,
                                        "invalid_site",
                                        "name the site of this request "
                                        "with \"site\"");
}


/*
 * The site a request is about: the server's, unless its location has
 * "chatport_agent_sites"; there the listed site its "site" argument
 * names, NULL when it names none (ngx_http_chatport_sites_check() has
 * refused that for every request about one site).
 */

ngx_str_t *
ngx_http_chatport_request_site(ngx_http_request_t *r)
{
    ngx_str_t                      value;
    ngx_http_chatport_srv_conf_t  *cscf;
    ngx_http_chatport_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);

    if (clcf->agent_sites == NULL) {
        cscf = ngx_http_get_module_srv_conf(r, ngx_http_chatport_module);
        return &cscf->site;
    }

    /* site names need no escaping: the raw argument is the name */
    if (ngx_http_arg(r, (u_char *) "site", 4, &value) != NGX_OK) {
        return NULL;
    }

    return ngx_http_chatport_sites_find(r, &value);
}


/* the site of this location called name, NULL if none */

ngx_str_t *
ngx_http_chatport_sites_find(ngx_http_request_t *r, ngx_str_t *name)
{
    ngx_str_t                     *site;
    ngx_uint_t                     i, n;
    ngx_http_chatport_srv_conf_t  *cscf;
    ngx_http_chatport_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);

    if (clcf->agent_sites) {
        site = clcf->agent_sites->elts;
        n = clcf->agent_sites->nelts;

    } else {
        cscf = ngx_http_get_module_srv_conf(r, ngx_http_chatport_module);
        site = &cscf->site;
        n = 1;
    }

    for (i = 0; i < n; i++) {
        if (site[i].len == name->len
            && ngx_strncmp(site[i].data, name->data, name->len) == 0)
        {
            return &site[i];
        }
    }

    return NULL;
}


/* the site named, else the first listed: the session's presence */

ngx_str_t *
ngx_http_chatport_sites_first(ngx_http_request_t *r)
{
    ngx_str_t                     *site;
    ngx_http_chatport_loc_conf_t  *clcf;

    site = ngx_http_chatport_request_site(r);

    if (site == NULL) {
        clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);
        site = clcf->agent_sites->elts;
    }

    return site;
}


/*
 * GET A conversations in a multi-site location: the named site's, or
 * every listed site's, newest activity first, each with "site".
 */

ngx_int_t
ngx_http_chatport_sites_conversations(ngx_http_request_t *r,
    ngx_http_chatport_list_t *list, ngx_str_t *images)
{
    ngx_int_t                       rc;
    ngx_http_chatport_sites_ctx_t  *ctx;

    rc = ngx_http_chatport_sites_merge(r, "conversations", list->limit,
                                       ngx_http_chatport_sites_read_list,
                                       ngx_http_chatport_sites_newest, &ctx);
    if (rc != NGX_OK) {
        return rc;
    }

    ctx->images = *images;
    ctx->args = *list;
    ctx->places = 1;

    rc = ctx->read(ctx, &ctx->sites[0]);

    return ngx_http_chatport_call_started(&ctx->call, rc);
}


/*
 * GET A forms without "site" in a multi-site location: every listed
 * site's submissions from their start, newest last, each with "site"
 * (the forms stream labels them). A cursor belongs to one site's stream:
 * "after" goes with "site".
 */

ngx_int_t
ngx_http_chatport_sites_forms(ngx_http_request_t *r)
{
    ngx_int_t                       rc;
    ngx_str_t                       after;
    ngx_http_chatport_sites_ctx_t  *ctx;

    if (ngx_http_arg(r, (u_char *) "after", 5, &after) == NGX_OK) {
        return ngx_http_chatport_send_error(r, NGX_HTTP_BAD_REQUEST,
                                            "invalid_site",
                                            "\"after\" is a cursor of one "
                                            "site: name it with \"site\"");
    }

    rc = ngx_http_chatport_sites_merge(r, "forms", 0,
                                       ngx_http_chatport_sites_read_forms,
                                       ngx_http_chatport_sites_oldest, &ctx);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ctx->read(ctx, &ctx->sites[0]);

    return ngx_http_chatport_call_started(&ctx->call, rc);
}


static ngx_int_t
ngx_http_chatport_sites_merge(ngx_http_request_t *r, char *list,
    ngx_int_t limit, ngx_http_chatport_sites_read_pt read,
    int (*cmp)(const void *, const void *),
    ngx_http_chatport_sites_ctx_t **ctxp)
{
    ngx_str_t                      *site;
    ngx_pool_cleanup_t             *cln;
    ngx_http_chatport_loc_conf_t   *clcf;
    ngx_http_chatport_sites_ctx_t  *ctx;

    ctx = ngx_http_chatport_call_create(r,
                                        sizeof(ngx_http_chatport_sites_ctx_t),
                                        "unknown_conversation");
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->all = json_array();
    if (ctx->all == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        json_decref(ctx->all);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_chatport_sites_cleanup;
    cln->data = ctx;

    site = ngx_http_chatport_request_site(r);

    if (site) {
        ctx->sites = site;
        ctx->nsites = 1;

    } else {
        clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);
        ctx->sites = clcf->agent_sites->elts;
        ctx->nsites = clcf->agent_sites->nelts;
    }

    ctx->list = list;
    ctx->limit = limit;
    ctx->read = read;
    ctx->cmp = cmp;

    *ctxp = ctx;

    return NGX_OK;
}


static void
ngx_http_chatport_sites_cleanup(void *data)
{
    ngx_http_chatport_sites_ctx_t  *ctx = data;

    json_decref(ctx->all);
}


/*
 * The page of one site read: its entries labelled and kept, then the next
 * site, or the answer after the last. The sites are read one after the
 * other: each has its own hash tag (its own slot in a cluster).
 */

static void
ngx_http_chatport_sites_read_done(void *data, redisReply *reply,
    ngx_int_t rc)
{
    ngx_http_chatport_sites_ctx_t  *ctx = data;

    ngx_int_t                          count, refused;
    ngx_str_t                          body;
    ngx_http_request_t                *r;
    ngx_http_chatport_store_status_e   status;

    r = ctx->call.request;
    ctx->call.cmd = NULL;

    if (ctx->places) {
        refused = ngx_http_chatport_list_refused(r, reply, rc);

        if (refused != NGX_DECLINED) {
            ngx_http_chatport_call_done(&ctx->call, refused);
            return;
        }
    }

    status = ngx_http_chatport_reply_json(reply, rc, r, 0, &count, &body);

    if (status != NGX_HTTP_CHATPORT_STORE_OK) {
        ngx_http_chatport_call_failed(&ctx->call, status);
        return;
    }

    if (ngx_http_chatport_sites_add(ctx, &body) != NGX_OK) {
        ngx_http_chatport_call_done(&ctx->call,
                                    NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (++ctx->next < ctx->nsites) {
        rc = ctx->read(ctx, &ctx->sites[ctx->next]);

        if (rc == NGX_OK) {
            return;
        }

        ngx_http_chatport_call_done(&ctx->call,
                                    rc == NGX_DECLINED
                                    ? ngx_http_chatport_send_error(r,
                                          NGX_HTTP_SERVICE_UNAVAILABLE,
                                          "unavailable",
                                          "the chat store is unavailable")
                                    : NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_chatport_call_done(&ctx->call,
                                ngx_http_chatport_sites_answer(ctx));
}


/* the entries of one site's answer, each given "site" */

static ngx_int_t
ngx_http_chatport_sites_add(ngx_http_chatport_sites_ctx_t *ctx,
    ngx_str_t *body)
{
    json_t     *root, *list, *entry, *name;
    size_t      i;
    ngx_str_t  *site;

    root = ngx_http_chatport_json_parse(body);
    if (root == NULL) {
        ngx_log_error(NGX_LOG_ERR, ctx->call.request->connection->log, 0,
                      "chatport: a site's %s are not JSON", ctx->list);
        return NGX_ERROR;
    }

    if (ctx->places
        && ngx_http_chatport_sites_bound(ctx,
                                         json_object_get(root, "cursor"))
           != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ERR, ctx->call.request->connection->log, 0,
                      "chatport: a site's list has an invalid cursor");
        json_decref(root);
        return NGX_ERROR;
    }

    site = &ctx->sites[ctx->next];
    list = json_object_get(root, ctx->list);

    /* forms: the sites' counts of forms still new add up */
    ctx->new_forms += json_integer_value(json_object_get(root, "new"));

    json_array_foreach(list, i, entry) {

        name = json_stringn((char *) site->data, site->len);

        if (name == NULL
            || json_object_set_new(entry, "site", name) != 0
            || json_array_append(ctx->all, entry) != 0)
        {
            json_decref(root);
            return NGX_ERROR;
        }
    }

    json_decref(root);

    return NGX_OK;
}


/* the entries of every site in order, at most limit of them */

static ngx_int_t
ngx_http_chatport_sites_answer(ngx_http_chatport_sites_ctx_t *ctx)
{
    char                      *text;
    json_t                   **entries;
    size_t                     i, n, m;
    ngx_str_t                  id;
    ngx_http_request_t        *r;
    ngx_http_chatport_json_t   j;

    r = ctx->call.request;
    n = json_array_size(ctx->all);

    entries = ngx_palloc(r->pool, (n ? n : 1) * sizeof(json_t *));
    if (entries == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < n; i++) {
        entries[i] = json_array_get(ctx->all, i);
    }

    ngx_qsort(entries, n, sizeof(json_t *), ctx->cmp);

    /*
     * A site with more (its cursor) is known only up to its cursor: what
     * the other sites have after that place waits for the next page,
     * which starts there.
     */
    for (m = 0; m < n; m++) {
        if (ngx_http_chatport_sites_past(ctx, entries[m])) {
            break;
        }
    }

    n = m;

    if (ctx->limit && n > (size_t) ctx->limit) {
        n = ctx->limit;
    }

    ngx_http_chatport_json_init(&j, r->pool);
    ngx_http_chatport_json_literal(&j, "{\"");
    ngx_http_chatport_json_raw(&j, (u_char *) ctx->list,
                               ngx_strlen(ctx->list));
    ngx_http_chatport_json_literal(&j, "\":[");

    for (i = 0; i < n; i++) {
        text = json_dumps(entries[i], JSON_COMPACT);
        if (text == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (i) {
            ngx_http_chatport_json_literal(&j, ",");
        }

        ngx_http_chatport_json_raw(&j, (u_char *) text, ngx_strlen(text));
        free(text);
    }

    ngx_http_chatport_json_literal(&j, "]");

    if (!ctx->places) {
        ngx_http_chatport_json_literal(&j, ",\"new\":");
        ngx_http_chatport_json_int(&j, ctx->new_forms);
    }

    if (ctx->paged) {
        ngx_http_chatport_json_literal(&j, ",\"cursor\":");

        if (n < m) {
            /* the page is full: the next starts after its last entry */
            id.data = (u_char *) json_string_value(
                                     json_object_get(entries[n - 1], "id"));
            id.len = id.data ? ngx_strlen(id.data) : 0;

            ngx_http_chatport_sites_place(&j,
                                   ngx_http_chatport_sites_ms(entries[n - 1]),
                                   &id);

        } else if (ctx->bounded) {
            ngx_http_chatport_sites_place(&j, ctx->bound_ms, &ctx->bound_id);

        } else {
            ngx_http_chatport_json_literal(&j, "null");
        }
    }

    ngx_http_chatport_json_literal(&j, "}\n");

    return ngx_http_chatport_send_built(r, NGX_HTTP_OK, &j);
}


/*
 * One site's page of conversations as the per-site list call answers it:
 * {"conversations": [...], "cursor"}, newest activity first. The merge
 * assumes only that: each site's page holds that site's first "limit"
 * conversations after the request's place, ordered by "updated" (the
 * last activity, ms), then "id", both descending, and "cursor" is absent
 * (no paging), null (nothing more) or "MS-CID", the place the page
 * stopped at, a place valid in every site's list. Pointing this at
 * another per-site list call (a cursor "before", a filter, a search, the
 * same arguments for every site) keeps the merge and its cursor correct.
 */

static ngx_int_t
ngx_http_chatport_sites_read_list(ngx_http_chatport_sites_ctx_t *ctx,
    ngx_str_t *site)
{
    return ngx_http_chatport_list_store(ctx->call.request->pool, site,
                                        &ctx->args, &ctx->images,
                                        ngx_http_chatport_sites_read_done,
                                        ctx, &ctx->call.cmd);
}


static ngx_int_t
ngx_http_chatport_sites_read_forms(ngx_http_chatport_sites_ctx_t *ctx,
    ngx_str_t *site)
{
    ngx_str_t  start = ngx_string("0-0");

    return ngx_http_chatport_forms_store(ctx->call.request->pool, site,
                                         &start,
                                         ngx_http_chatport_sites_read_done,
                                         ctx, &ctx->call.cmd);
}


static int ngx_libc_cdecl
ngx_http_chatport_sites_newest(const void *one, const void *two)
{
    return ngx_http_chatport_sites_cmp(*(json_t **) two, *(json_t **) one,
                                       "updated");
}


static int ngx_libc_cdecl
ngx_http_chatport_sites_oldest(const void *one, const void *two)
{
    return ngx_http_chatport_sites_cmp(*(json_t **) one, *(json_t **) two,
                                       "ts");
}


/* by time, then by id: a total order whatever the sites */

static int
ngx_http_chatport_sites_cmp(json_t *a, json_t *b, char *time)
{
    int         c;
    double      ta, tb;
    const char *ia, *ib;

    ta = json_number_value(json_object_get(a, time));
    tb = json_number_value(json_object_get(b, time));

    if (ta != tb) {
        return ta < tb ? -1 : 1;
    }

    ia = json_string_value(json_object_get(a, "id"));
    ib = json_string_value(json_object_get(b, "id"));

    ia = ia ? ia : "";
    ib = ib ? ib : "";

    /* "ms-seq" of one millisecond: the longer sequence is the later */
    if (ngx_strlen(ia) != ngx_strlen(ib)) {
        return ngx_strlen(ia) < ngx_strlen(ib) ? -1 : 1;
    }

    c = ngx_strcmp(ia, ib);

    if (c) {
        return c;
    }

    ia = json_string_value(json_object_get(a, "site"));
    ib = json_string_value(json_object_get(b, "site"));

    return ngx_strcmp(ia ? ia : "", ib ? ib : "");
}


/*
 * A site's cursor: absent (a list without paging), null (nothing more),
 * or "MS-CID", the place its page stopped at. The newest of them bounds
 * the merged page.
 */

static ngx_int_t
ngx_http_chatport_sites_bound(ngx_http_chatport_sites_ctx_t *ctx,
    json_t *cursor)
{
    u_char      *dash, *p;
    int64_t      ms;
    ngx_str_t    text, id;
    ngx_int_t    c;

    if (cursor == NULL) {
        return NGX_OK;
    }

    ctx->paged = 1;

    if (json_is_null(cursor)) {
        return NGX_OK;
    }

    if (!json_is_string(cursor)) {
        return NGX_ERROR;
    }

    text.data = (u_char *) json_string_value(cursor);
    text.len = json_string_length(cursor);

    dash = ngx_strlchr(text.data, text.data + text.len, '-');
    if (dash == NULL || dash == text.data || dash + 1 == text.data + text.len)
    {
        return NGX_ERROR;
    }

    ms = ngx_atotm(text.data, dash - text.data);
    if (ms == NGX_ERROR) {
        return NGX_ERROR;
    }

    id.data = dash + 1;
    id.len = text.data + text.len - id.data;

    for (p = id.data; p < id.data + id.len; p++) {
        if (!isxdigit(*p)) {
            return NGX_ERROR;
        }
    }

    if (ctx->bounded) {
        c = ms != ctx->bound_ms ? (ms < ctx->bound_ms ? -1 : 1)
            : ngx_memn2cmp(id.data, ctx->bound_id.data, id.len,
                           ctx->bound_id.len);
        if (c <= 0) {
            return NGX_OK;
        }
    }

    ctx->bound_id.data = ngx_pstrdup(ctx->call.request->pool, &id);
    if (ctx->bound_id.data == NULL) {
        return NGX_ERROR;
    }

    ctx->bound_id.len = id.len;
    ctx->bound_ms = ms;
    ctx->bounded = 1;

    return NGX_OK;
}


/* a conversation after the place some site's page stopped at */

static ngx_uint_t
ngx_http_chatport_sites_past(ngx_http_chatport_sites_ctx_t *ctx,
    json_t *entry)
{
    int64_t      ms;
    ngx_str_t    id;

    if (!ctx->bounded) {
        return 0;
    }

    ms = ngx_http_chatport_sites_ms(entry);

    if (ms != ctx->bound_ms) {
        return ms < ctx->bound_ms;
    }

    id.data = (u_char *) json_string_value(json_object_get(entry, "id"));

    if (id.data == NULL) {
        return 0;
    }

    id.len = ngx_strlen(id.data);

    return ngx_memn2cmp(id.data, ctx->bound_id.data, id.len,
                        ctx->bound_id.len)
           < 0;
}


/* a conversation's last activity (ms), its place in the list */

static int64_t
ngx_http_chatport_sites_ms(json_t *entry)
{
    return (int64_t) json_number_value(json_object_get(entry, "updated"));
}


/* a place in the list as a cursor: "MS-CID" */

static void
ngx_http_chatport_sites_place(ngx_http_chatport_json_t *j, int64_t ms,
    ngx_str_t *id)
{
    u_char  buf[NGX_INT64_LEN + 1];

    ngx_http_chatport_json_literal(j, "\"");
    ngx_http_chatport_json_raw(j, buf, ngx_sprintf(buf, "%L-", ms) - buf);

    /* a CID is hex digits (a cursor's is checked): nothing to escape */
    ngx_http_chatport_json_raw(j, id->data, id->len);
    ngx_http_chatport_json_literal(j, "\"");
}
