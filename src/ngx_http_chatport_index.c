
/*
 * ChatPort: the search index's queue.
 *
 * The script that stores a message does not index it: it queues the
 * message's text in its site's chatport:{site}:index-queue
 * (src/lua/index.lua). A worker that stored a message in a site flushes
 * that queue NGX_HTTP_CHATPORT_INDEX_DELAY later, with one script for the
 * messages stored meanwhile (NGX_HTTP_CHATPORT_INDEX_BATCH at a time, the
 * next script sent when one is answered, so that none holds Redis long):
 * indexing is off the path of the message, and the words messages share
 * are written once per flush. A search and an erasure flush the queue
 * first, and a message that finds it full flushes part of it: a queue
 * left by a worker that died is flushed then, or by the next worker that
 * stores a message in the site.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_chatport_index.h"
#include "ngx_http_chatport_lua.h"
#include "ngx_http_chatport_redis.h"


#define NGX_HTTP_CHATPORT_INDEX_DELAY  1000
#define NGX_HTTP_CHATPORT_INDEX_BATCH  "500"


typedef struct {
    ngx_str_node_t                   node;     /* the site */
    ngx_queue_t                      queue;    /* while a flush is due */
    ngx_uint_t                       due;
    ngx_http_chatport_redis_cmd_t   *cmd;      /* a flush under way */

    /* numkeys, the queue's key, the batch: kept for a NOSCRIPT retry */
    const char                      *argv[3];
    size_t                           lens[3];
} ngx_http_chatport_index_site_t;


static void ngx_http_chatport_index_tick(ngx_event_t *ev);
static void ngx_http_chatport_index_flush(ngx_http_chatport_index_site_t *s);
static void ngx_http_chatport_index_flushed(void *data, redisReply *reply,
    ngx_int_t rc);


static ngx_http_chatport_redis_script_t  ngx_http_chatport_index_script =
    { ngx_string(NGX_HTTP_CHATPORT_LUA_INDEX
                 NGX_HTTP_CHATPORT_LUA_INDEX_FLUSH), { 0 }, 0 };

static ngx_rbtree_t       ngx_http_chatport_index_sites;
static ngx_rbtree_node_t  ngx_http_chatport_index_sentinel;
static ngx_queue_t        ngx_http_chatport_index_due;
static ngx_event_t        ngx_http_chatport_index_timer;


void
ngx_http_chatport_index_init(void)
{
    ngx_http_chatport_redis_script_init(&ngx_http_chatport_index_script);

    ngx_rbtree_init(&ngx_http_chatport_index_sites,
                    &ngx_http_chatport_index_sentinel,
                    ngx_str_rbtree_insert_value);
    ngx_queue_init(&ngx_http_chatport_index_due);

    ngx_http_chatport_timer_init(&ngx_http_chatport_index_timer,
                                 ngx_http_chatport_index_tick);
}


/*
 * A message of the site was sent to be stored: its queue is flushed
 * soon. A site's record is made once per worker (the sites are those of
 * the configuration) and kept until the worker exits.
 */

void
ngx_http_chatport_index_note(ngx_str_t *site)
{
    u_char                          *key;
    uint32_t                         hash;
    ngx_http_chatport_index_site_t  *s;

    hash = ngx_crc32_short(site->data, site->len);

    s = (ngx_http_chatport_index_site_t *)
            ngx_str_rbtree_lookup(&ngx_http_chatport_index_sites, site, hash);

    if (s == NULL) {
        s = ngx_alloc(sizeof(ngx_http_chatport_index_site_t)
                      + site->len + sizeof("chatport:{}:index-queue") - 1
                      + site->len, ngx_cycle->log);
        if (s == NULL) {
            return;
        }

        ngx_memzero(s, sizeof(ngx_http_chatport_index_site_t));

        s->node.str.data = (u_char *) (s + 1);
        s->node.str.len = site->len;
        s->node.node.key = hash;

        key = ngx_cpymem(s->node.str.data, site->data, site->len);

        s->argv[0] = "1";
        s->lens[0] = 1;
        s->argv[1] = (const char *) key;
        s->lens[1] = ngx_sprintf(key, "chatport:{%V}:index-queue", site)
                     - key;
        s->argv[2] = NGX_HTTP_CHATPORT_INDEX_BATCH;
        s->lens[2] = sizeof(NGX_HTTP_CHATPORT_INDEX_BATCH) - 1;

        ngx_rbtree_insert(&ngx_http_chatport_index_sites, &s->node.node);
    }

    if (s->due) {
        return;
    }

    s->due = 1;
    ngx_queue_insert_tail(&ngx_http_chatport_index_due, &s->queue);

    if (!ngx_http_chatport_index_timer.timer_set && !ngx_exiting) {
        ngx_add_timer(&ngx_http_chatport_index_timer,
                      NGX_HTTP_CHATPORT_INDEX_DELAY);
    }
}


static void
ngx_http_chatport_index_tick(ngx_event_t *ev)
{
    ngx_queue_t                     *q, *next;
    ngx_http_chatport_index_site_t  *s;

    for (q = ngx_queue_head(&ngx_http_chatport_index_due);
         q != ngx_queue_sentinel(&ngx_http_chatport_index_due);
         q = next)
    {
        next = ngx_queue_next(q);
        s = ngx_queue_data(q, ngx_http_chatport_index_site_t, queue);

        /* one flush at a time per site: the next one goes after it */
        if (s->cmd) {
            continue;
        }

        s->due = 0;
        ngx_queue_remove(q);

        ngx_http_chatport_index_flush(s);
    }

    if (!ngx_queue_empty(&ngx_http_chatport_index_due) && !ngx_exiting) {
        ngx_add_timer(ev, NGX_HTTP_CHATPORT_INDEX_DELAY);
    }
}


static void
ngx_http_chatport_index_flush(ngx_http_chatport_index_site_t *s)
{
    if (ngx_http_chatport_redis_eval(&ngx_http_chatport_index_script,
                                     ngx_http_chatport_index_flushed, s,
                                     &s->cmd, 3, s->argv, s->lens)
        != NGX_OK)
    {
        /* Redis is unavailable: what waits goes with a later flush */
        s->cmd = NULL;
    }
}


static void
ngx_http_chatport_index_flushed(void *data, redisReply *reply, ngx_int_t rc)
{
    ngx_http_chatport_index_site_t  *s = data;

    s->cmd = NULL;

    /* more are waiting: the next batch, once Redis served the others */
    if (rc == NGX_OK && reply && reply->type == REDIS_REPLY_INTEGER
        && reply->integer > 0 && !ngx_exiting)
    {
        ngx_http_chatport_index_flush(s);
        return;
    }

    if (rc == NGX_OK && reply && reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "chatport: indexing the messages of site \"%V\": %*s",
                      &s->node.str, (size_t) reply->len, reply->str);
    }
}


/* after the Redis links are closed: no reply can come back any more */

void
ngx_http_chatport_index_exit(void)
{
    ngx_rbtree_node_t               *node;
    ngx_http_chatport_index_site_t  *s;

    while (ngx_http_chatport_index_sites.root
           != &ngx_http_chatport_index_sentinel)
    {
        node = ngx_rbtree_min(ngx_http_chatport_index_sites.root,
                              &ngx_http_chatport_index_sentinel);
        s = (ngx_http_chatport_index_site_t *) node;

        ngx_rbtree_delete(&ngx_http_chatport_index_sites, node);
        ngx_free(s);
    }

    ngx_queue_init(&ngx_http_chatport_index_due);
}
