
/*
 * ChatPort: operator presence.
 *
 * An operator is available while their status is "online" and a console
 * of theirs holds an operator poll, or ended one less than the grace ago.
 * Each poll is recorded in Redis when it starts (counting until its
 * timeout plus the grace) and again when it ends (counting for the grace):
 * a worker that dies leaves nothing that outlives the timeout and grace.
 *
 * Every page view asks config, so each worker keeps its sites'
 * availability in memory. Every presence write publishes the site's new
 * availability on one channel that every worker subscribes to; as the
 * availability also ends on its own when the grace runs out, each entry
 * keeps that deadline, and a timer reads Redis again for entries that are
 * old (a lost message) or whose deadline has passed.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_chatport.h"
#include "ngx_http_chatport_presence.h"
#include "ngx_http_chatport_store.h"


#define NGX_HTTP_CHATPORT_PRESENCE_TICK     1000
#define NGX_HTTP_CHATPORT_PRESENCE_REFRESH  5000  /* lost pub/sub news */
#define NGX_HTTP_CHATPORT_PRESENCE_ID_LEN   16


typedef struct {
    ngx_str_node_t                node;
    ngx_queue_t                   all;
    ngx_msec_t                    deadline;   /* available until */
    ngx_msec_t                    checked;
    ngx_uint_t                    version;    /* changes with each news */
    unsigned                      available:1;
    unsigned                      reading:1;
} ngx_http_chatport_site_t;


/* a write or read of the worker's own: it owns the pool with the arguments */

typedef struct {
    ngx_pool_t                   *pool;
    ngx_http_chatport_site_t     *site;
    ngx_uint_t                    version;
} ngx_http_chatport_presence_cmd_t;


/* a poll being recorded: the end is written from the request's cleanup */

typedef struct {
    ngx_str_t                     site;
    ngx_str_t                     operator;
    ngx_str_t                     id;
    ngx_msec_t                    grace;
} ngx_http_chatport_presence_poll_t;


static ngx_http_chatport_site_t *ngx_http_chatport_presence_site(
    ngx_str_t *name, ngx_uint_t create);
static void ngx_http_chatport_presence_set(ngx_http_chatport_site_t *s,
    int64_t left);
static ngx_int_t ngx_http_chatport_presence_send(ngx_str_t *site,
    char *what, ngx_str_t *operator, ngx_str_t *value, ngx_msec_t span,
    ngx_http_chatport_site_t *entry);
static ngx_int_t ngx_http_chatport_presence_copy(ngx_pool_t *pool,
    ngx_str_t *to, ngx_str_t *from);
static void ngx_http_chatport_presence_done(void *data, redisReply *reply,
    ngx_int_t rc);
static void ngx_http_chatport_presence_poll_end(void *data);
static void ngx_http_chatport_presence_tick(ngx_event_t *ev);


static ngx_str_t  ngx_http_chatport_presence_channel =
    ngx_string("chatport:presence");

static ngx_rbtree_t       ngx_http_chatport_sites;
static ngx_rbtree_node_t  ngx_http_chatport_sites_sentinel;
static ngx_queue_t        ngx_http_chatport_sites_all;
static ngx_event_t        ngx_http_chatport_presence_timer;


void
ngx_http_chatport_presence_init(void)
{
    ngx_event_t  *ev;

    ngx_rbtree_init(&ngx_http_chatport_sites,
                    &ngx_http_chatport_sites_sentinel,
                    ngx_str_rbtree_insert_value);
    ngx_queue_init(&ngx_http_chatport_sites_all);

    ev = &ngx_http_chatport_presence_timer;

    ngx_http_chatport_timer_init(ev, ngx_http_chatport_presence_tick);
    ngx_add_timer(ev, NGX_HTTP_CHATPORT_PRESENCE_TICK);
}


/* after the Redis links are closed: no read can come back any more */

void
ngx_http_chatport_presence_exit(void)
{
    ngx_queue_t               *q;
    ngx_http_chatport_site_t  *s;

    if (ngx_http_chatport_presence_timer.timer_set) {
        ngx_del_timer(&ngx_http_chatport_presence_timer);
    }

    while (!ngx_queue_empty(&ngx_http_chatport_sites_all)) {
        q = ngx_queue_head(&ngx_http_chatport_sites_all);
        s = ngx_queue_data(q, ngx_http_chatport_site_t, all);

        ngx_queue_remove(q);
        ngx_rbtree_delete(&ngx_http_chatport_sites, &s->node.node);
        ngx_free(s);
    }
}


/*
 * Only sites this worker has answered config for are kept: news of other
 * sites (another nginx sharing Redis) is dropped.
 */

static ngx_http_chatport_site_t *
ngx_http_chatport_presence_site(ngx_str_t *name, ngx_uint_t create)
{
    uint32_t                   hash;
    ngx_http_chatport_site_t  *s;

    hash = ngx_crc32_short(name->data, name->len);

    s = (ngx_http_chatport_site_t *)
            ngx_str_rbtree_lookup(&ngx_http_chatport_sites, name, hash);

    if (s || !create) {
        return s;
    }

    s = ngx_alloc(sizeof(ngx_http_chatport_site_t) + name->len,
                  ngx_cycle->log);
    if (s == NULL) {
        return NULL;
    }

    ngx_memzero(s, sizeof(ngx_http_chatport_site_t));

    s->node.str.len = name->len;
    s->node.str.data = (u_char *) (s + 1);
    ngx_memcpy(s->node.str.data, name->data, name->len);
    s->node.node.key = hash;

    ngx_queue_insert_tail(&ngx_http_chatport_sites_all, &s->all);
    ngx_rbtree_insert(&ngx_http_chatport_sites, &s->node.node);

    return s;
}


static void
ngx_http_chatport_presence_set(ngx_http_chatport_site_t *s, int64_t left)
{
    s->available = (left > 0);
    s->deadline = ngx_current_msec + (left > 0 ? (ngx_msec_t) left : 0);
    s->checked = ngx_current_msec;
    s->version++;
}


/* NGX_DECLINED: not known here yet, the caller reads it */

ngx_int_t
ngx_http_chatport_presence_cached(ngx_str_t *site, ngx_uint_t *available)
{
    ngx_http_chatport_site_t  *s;

    s = ngx_http_chatport_presence_site(site, 0);

    if (s == NULL || s->checked == 0) {
        return NGX_DECLINED;
    }

    /* the grace ends without any news */
    *available = s->available
                 && (ngx_msec_int_t) (s->deadline - ngx_current_msec) > 0;

    return NGX_OK;
}


/* a read's reply, for a site this worker serves */

ngx_int_t
ngx_http_chatport_presence_learn(ngx_str_t *site, redisReply *reply)
{
    ngx_http_chatport_site_t  *s;

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2
        || reply->element[0]->type != REDIS_REPLY_INTEGER)
    {
        return NGX_ERROR;
    }

    s = ngx_http_chatport_presence_site(site, 1);
    if (s == NULL) {
        return NGX_ERROR;
    }

    ngx_http_chatport_presence_set(s, reply->element[0]->integer);

    return NGX_OK;
}


/* the i-th operator of a read's reply */

ngx_int_t
ngx_http_chatport_presence_operator(redisReply *reply, ngx_uint_t i,
    ngx_http_chatport_operator_t *op)
{
    redisReply  **e;

    if (reply->type != REDIS_REPLY_ARRAY || 2 + 5 * (i + 1) > reply->elements)
    {
        return NGX_DONE;
    }

    e = &reply->element[2 + 5 * i];

    if (e[0]->type != REDIS_REPLY_STRING || e[1]->type != REDIS_REPLY_STRING
        || e[2]->type != REDIS_REPLY_INTEGER
        || e[3]->type != REDIS_REPLY_INTEGER
        || e[4]->type != REDIS_REPLY_INTEGER)
    {
        return NGX_ERROR;
    }

    op->name.data = (u_char *) e[0]->str;
    op->name.len = e[0]->len;
    op->status.data = (u_char *) e[1]->str;
    op->status.len = e[1]->len;
    op->left = e[2]->integer;
    op->connected = e[3]->integer;
    op->seen = e[4]->integer;

    return NGX_OK;
}


/*
 * A write of the worker's own, not tied to a request: the arguments live
 * in a pool of their own until the reply (a NOSCRIPT retry resends them).
 * entry: the site whose cached availability the reply refreshes, or NULL.
 */

static ngx_int_t
ngx_http_chatport_presence_send(ngx_str_t *site, char *what,
    ngx_str_t *operator, ngx_str_t *value, ngx_msec_t span,
    ngx_http_chatport_site_t *entry)
{
    ngx_int_t                          rc;
    ngx_str_t                          a[3];
    ngx_pool_t                        *pool;
    ngx_http_chatport_presence_cmd_t  *pc;

    pool = ngx_create_pool(1024, ngx_cycle->log);
    if (pool == NULL) {
        return NGX_ERROR;
    }

    pc = ngx_palloc(pool, sizeof(ngx_http_chatport_presence_cmd_t));

    if (pc == NULL
        || ngx_http_chatport_presence_copy(pool, &a[0], site) != NGX_OK
        || ngx_http_chatport_presence_copy(pool, &a[1], operator) != NGX_OK
        || ngx_http_chatport_presence_copy(pool, &a[2], value) != NGX_OK)
    {
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    pc->pool = pool;
    pc->site = entry;
    pc->version = entry ? entry->version : 0;

    rc = ngx_http_chatport_store_presence(pool, &a[0], what,
                                          operator ? &a[1] : NULL, &a[2],
                                          span,
                                          ngx_http_chatport_presence_done,
                                          pc, NULL);
    if (rc != NGX_OK) {
        ngx_destroy_pool(pool);
        return rc;
    }

    if (entry) {
        entry->reading = 1;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_chatport_presence_copy(ngx_pool_t *pool, ngx_str_t *to,
    ngx_str_t *from)
{
    if (from == NULL || from->len == 0) {
        ngx_str_null(to);
        return NGX_OK;
    }

    to->data = ngx_pstrdup(pool, from);
    to->len = from->len;

    return to->data ? NGX_OK : NGX_ERROR;
}


static void
ngx_http_chatport_presence_done(void *data, redisReply *reply, ngx_int_t rc)
{
    ngx_http_chatport_presence_cmd_t  *pc = data;

    ngx_http_chatport_site_t          *s;
    ngx_http_chatport_store_status_e   status;

    s = pc->site;

    status = ngx_http_chatport_store_status(reply, rc, ngx_cycle->log);

    if (s) {
        s->reading = 0;

        if (status != NGX_HTTP_CHATPORT_STORE_OK
            || reply->type != REDIS_REPLY_ARRAY || reply->elements < 1
            || reply->element[0]->type != REDIS_REPLY_INTEGER)
        {
            /* without Redis, visitors get the form rather than silence */
            ngx_http_chatport_presence_set(s, 0);

        } else if (s->version == pc->version) {
            /* news that came while reading is at least as new */
            ngx_http_chatport_presence_set(s, reply->element[0]->integer);
        }

    } else if (status != NGX_HTTP_CHATPORT_STORE_OK) {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "chatport: an operator's presence was not recorded");
    }

    ngx_destroy_pool(pc->pool);
}


/*
 * A console holds an operator poll: it counts as connected until the
 * poll's timeout plus the grace, and, from the poll's end, for the grace.
 */

ngx_int_t
ngx_http_chatport_presence_poll(ngx_http_request_t *r, ngx_str_t *site,
    ngx_str_t *operator, ngx_msec_t timeout, ngx_msec_t grace)
{
    u_char                             *p;
    uint32_t                            rnd[2];
    ngx_pool_cleanup_t                 *cln;
    ngx_http_chatport_presence_poll_t  *pp;

    cln = ngx_pool_cleanup_add(r->pool,
                               sizeof(ngx_http_chatport_presence_poll_t));
    if (cln == NULL) {
        return NGX_ERROR;
    }

    pp = cln->data;

    p = ngx_pnalloc(r->pool, NGX_HTTP_CHATPORT_PRESENCE_ID_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    /* unique enough among the polls of one operator within the grace */
    rnd[0] = (uint32_t) ngx_random();
    rnd[1] = (uint32_t) ngx_random() ^ ((uint32_t) ngx_pid << 16);

    pp->id.data = p;
    pp->id.len = ngx_hex_dump(p, (u_char *) rnd, sizeof(rnd)) - p;
    pp->site = *site;
    pp->operator = *operator;
    pp->grace = grace;

    /* a Redis that is down now only costs the record */
    (void) ngx_http_chatport_presence_send(site, "poll", operator, &pp->id,
                                           timeout + grace, NULL);

    cln->handler = ngx_http_chatport_presence_poll_end;

    return NGX_OK;
}


static void
ngx_http_chatport_presence_poll_end(void *data)
{
    ngx_http_chatport_presence_poll_t  *pp = data;

    (void) ngx_http_chatport_presence_send(&pp->site, "poll", &pp->operator,
                                           &pp->id, pp->grace, NULL);
}


/* "<ms available> <site>" on the presence channel */

ngx_int_t
ngx_http_chatport_presence_on_message(redisReply *reply)
{
    u_char                    *p;
    int64_t                    left;
    ngx_int_t                  rc;
    ngx_str_t                  ms, site;
    ngx_http_chatport_site_t  *s;

    rc = ngx_http_chatport_redis_channel_message(reply,
                                         &ngx_http_chatport_presence_channel,
                                                 &ms, &site);
    if (rc != NGX_OK) {
        return rc == NGX_DECLINED ? NGX_DECLINED : NGX_OK;
    }

    s = ngx_http_chatport_presence_site(&site, 0);
    if (s == NULL) {
        return NGX_OK;
    }

    left = 0;

    for (p = ms.data; p < ms.data + ms.len; p++) {
        if (*p < '0' || *p > '9' || left > NGX_MAX_INT32_VALUE) {
            return NGX_OK;
        }

        left = left * 10 + (*p - '0');
    }

    ngx_http_chatport_presence_set(s, left);

    return NGX_OK;
}


/*
 * While pub/sub is down news can be lost: the timer reads every site
 * again, each second until the link is back.
 */

void
ngx_http_chatport_presence_on_sub_state(ngx_uint_t up)
{
    if (up) {
        (void) ngx_http_chatport_redis_subscribe(
                                          &ngx_http_chatport_presence_channel,
                                          1);
    }
}


static void
ngx_http_chatport_presence_tick(ngx_event_t *ev)
{
    ngx_msec_t                 age;
    ngx_queue_t               *q;
    ngx_http_chatport_site_t  *s;

    if (ngx_exiting) {
        return;
    }

    for (q = ngx_queue_head(&ngx_http_chatport_sites_all);
         q != ngx_queue_sentinel(&ngx_http_chatport_sites_all);
         q = ngx_queue_next(q))
    {
        s = ngx_queue_data(q, ngx_http_chatport_site_t, all);

        if (s->reading) {
            continue;
        }

        age = ngx_current_msec - s->checked;

        if (age >= NGX_HTTP_CHATPORT_PRESENCE_REFRESH
            || (s->available
                && (ngx_msec_int_t) (s->deadline - ngx_current_msec) <= 0)
            || (!ngx_http_chatport_redis_sub_ready()
                && age >= NGX_HTTP_CHATPORT_PRESENCE_TICK))
        {
            if (ngx_http_chatport_presence_send(&s->node.str, "read", NULL,
                                                NULL, 0, s)
                == NGX_DECLINED)
            {
                ngx_http_chatport_presence_set(s, 0);
            }
        }
    }

    ngx_add_timer(ev, NGX_HTTP_CHATPORT_PRESENCE_TICK);
}
