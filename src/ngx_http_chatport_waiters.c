
/*
 * ChatPort: long-poll waiters.
 *
 * Each worker keeps a table of the channels its parked requests wait on.
 * The first waiter of a channel SUBSCRIBEs it. When the last one leaves,
 * the channel stays subscribed for NGX_HTTP_CHATPORT_CHANNEL_LINGER and is
 * then UNSUBSCRIBEd: a visitor polls again as soon as a poll is answered,
 * and that poll then finds its channel subscribed (no SUBSCRIBE, no wait
 * for its reply, no UNSUBSCRIBE before it). A waiter reads its stream only once its channel's
 * subscription is confirmed: a message published between the read and the
 * subscription would otherwise be missed. A message that arrives while the
 * read is under way marks the waiter dirty, and it reads again.
 *
 * Pub/sub is at most once: when the pub/sub connection comes back after a
 * loss, every channel is subscribed again and each of its waiters reads
 * its stream from its cursor.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_chatport.h"
#include "ngx_http_chatport_call.h"
#include "ngx_http_chatport_http.h"
#include "ngx_http_chatport_json.h"
#include "ngx_http_chatport_waiters.h"


#define NGX_HTTP_CHATPORT_EXIT_WATCH     1000
#define NGX_HTTP_CHATPORT_CHANNEL_LINGER  5000


typedef enum {
    NGX_HTTP_CHATPORT_WAITER_SUBSCRIBING = 0,
    NGX_HTTP_CHATPORT_WAITER_CHECKING,
    NGX_HTTP_CHATPORT_WAITER_PARKED
} ngx_http_chatport_waiter_state_e;


typedef enum {
    NGX_HTTP_CHATPORT_CHANNEL_NONE = 0,
    NGX_HTTP_CHATPORT_CHANNEL_SUBSCRIBING,
    NGX_HTTP_CHATPORT_CHANNEL_SUBSCRIBED,
    NGX_HTTP_CHATPORT_CHANNEL_UNSUBSCRIBING
} ngx_http_chatport_channel_state_e;


struct ngx_http_chatport_channel_s {
    ngx_str_node_t                      node;
    ngx_queue_t                         all;
    ngx_queue_t                         waiters;
    ngx_http_chatport_channel_state_e   state;
    ngx_uint_t                          busy;   /* being walked: keep it */
    ngx_queue_t                         idle;   /* subscribed, no waiter */
    ngx_msec_t                          idle_since;
    unsigned                            lingers:1;
};


typedef void (*ngx_http_chatport_waiter_visit_pt)(
    ngx_http_chatport_waiter_t *w);


static ngx_http_chatport_channel_t *ngx_http_chatport_channel_get(
    ngx_str_t *name, ngx_uint_t create);
static void ngx_http_chatport_channel_release(
    ngx_http_chatport_channel_t *ch);
static void ngx_http_chatport_channel_drop(ngx_http_chatport_channel_t *ch);
static void ngx_http_chatport_channels_sweep(ngx_event_t *ev);
static void ngx_http_chatport_channel_subscribed(
    ngx_http_chatport_channel_t *ch);
static void ngx_http_chatport_channel_deliver(ngx_http_chatport_channel_t *ch,
    ngx_str_t *payload);

static void ngx_http_chatport_channel_changed(
    ngx_http_chatport_channel_t *ch);
static void ngx_http_chatport_channel_event(ngx_http_chatport_channel_t *ch,
    ngx_str_t *event);

static void ngx_http_chatport_waiter_recheck(ngx_http_chatport_waiter_t *w);
static void ngx_http_chatport_waiter_park(ngx_http_chatport_waiter_t *w);
static void ngx_http_chatport_waiter_finish(ngx_http_chatport_waiter_t *w,
    ngx_uint_t status, ngx_str_t *body, char *code, char *message);
static void ngx_http_chatport_waiter_detach(ngx_http_chatport_waiter_t *w);
static void ngx_http_chatport_waiter_timeout(ngx_event_t *ev);
static void ngx_http_chatport_waiter_read(ngx_event_t *rev);
static void ngx_http_chatport_waiters_exit_watch(ngx_event_t *ev);
static void ngx_http_chatport_waiter_answer_empty(
    ngx_http_chatport_waiter_t *w);
static void ngx_http_chatport_waiter_reread(ngx_http_chatport_waiter_t *w);
static void ngx_http_chatport_waiters_walk(
    ngx_http_chatport_waiter_visit_pt visit);
static void ngx_http_chatport_waiter_cleanup(void *data);
static ngx_int_t ngx_http_chatport_waiter_body(ngx_http_chatport_waiter_t *w,
    ngx_str_t *items, ngx_str_t *events, ngx_str_t *cursor, ngx_str_t *body);
static void ngx_http_chatport_waiter_answer(ngx_http_chatport_waiter_t *w,
    ngx_str_t *items, ngx_str_t *events, ngx_str_t *cursor);


static ngx_rbtree_t       ngx_http_chatport_channels;
static ngx_rbtree_node_t  ngx_http_chatport_channels_sentinel;
static ngx_queue_t        ngx_http_chatport_channels_all;
static ngx_queue_t        ngx_http_chatport_channels_idle;
static ngx_event_t        ngx_http_chatport_channels_sweeper;
static ngx_event_t        ngx_http_chatport_exit_watch;


void
ngx_http_chatport_waiters_init(void)
{
    ngx_rbtree_init(&ngx_http_chatport_channels,
                    &ngx_http_chatport_channels_sentinel,
                    ngx_str_rbtree_insert_value);
    ngx_queue_init(&ngx_http_chatport_channels_all);
    ngx_queue_init(&ngx_http_chatport_channels_idle);

    ngx_http_chatport_timer_init(&ngx_http_chatport_channels_sweeper,
                                 ngx_http_chatport_channels_sweep);
    ngx_http_chatport_timer_init(&ngx_http_chatport_exit_watch,
                                 ngx_http_chatport_waiters_exit_watch);
}


/*
 * At the worker's exit, after the Redis links are closed: the channels
 * still known (one being unsubscribed, or left by a request that never
 * finished) are freed, so that sanitizers see no leak.
 */

void
ngx_http_chatport_waiters_exit(void)
{
    ngx_queue_t                  *q;
    ngx_http_chatport_channel_t  *ch;

    while (!ngx_queue_empty(&ngx_http_chatport_channels_all)) {
        q = ngx_queue_head(&ngx_http_chatport_channels_all);
        ch = ngx_queue_data(q, ngx_http_chatport_channel_t, all);

        ngx_queue_remove(q);
        ngx_rbtree_delete(&ngx_http_chatport_channels, &ch->node.node);
        ngx_free(ch);
    }

    ngx_queue_init(&ngx_http_chatport_channels_idle);
}


/* "1700000000000-3": a Redis stream id */

ngx_int_t
ngx_http_chatport_stream_id_parse(ngx_str_t *text,
    ngx_http_chatport_stream_id_t *id)
{
    u_char  *p, *last, *dash;

    p = text->data;
    last = p + text->len;

    if (text->len < 3 || text->len > 41) {
        return NGX_ERROR;
    }

    dash = ngx_strlchr(p, last, '-');

    if (dash == NULL || dash == p || dash + 1 == last
        || dash - p > 20 || last - dash - 1 > 20)
    {
        return NGX_ERROR;
    }

    id->ms = 0;
    id->seq = 0;

    for ( /* void */ ; p < dash; p++) {
        if (*p < '0' || *p > '9' || id->ms > (UINT64_MAX - 9) / 10) {
            return NGX_ERROR;
        }

        id->ms = id->ms * 10 + (*p - '0');
    }

    for (p = dash + 1; p < last; p++) {
        if (*p < '0' || *p > '9' || id->seq > (UINT64_MAX - 9) / 10) {
            return NGX_ERROR;
        }

        id->seq = id->seq * 10 + (*p - '0');
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_chatport_stream_id_newer(ngx_http_chatport_stream_id_t *a,
    ngx_http_chatport_stream_id_t *b)
{
    return a->ms > b->ms || (a->ms == b->ms && a->seq > b->seq);
}


ngx_http_chatport_waiter_t *
ngx_http_chatport_waiter_create(ngx_http_request_t *r, ngx_str_t *channel,
    ngx_str_t *cursor, ngx_msec_t timeout, char *list,
    ngx_http_chatport_waiter_check_pt check)
{
    ngx_pool_cleanup_t          *cln;
    ngx_http_chatport_waiter_t  *w;

    w = ngx_pcalloc(r->pool, sizeof(ngx_http_chatport_waiter_t));
    if (w == NULL) {
        return NULL;
    }

    if (ngx_http_chatport_stream_id_parse(cursor, &w->cursor_id) != NGX_OK) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_chatport_waiter_cleanup;
    cln->data = w;

    w->request = r;
    w->channel_name = *channel;
    w->cursor = *cursor;
    w->poll_timeout = timeout;
    w->list.data = (u_char *) list;
    w->list.len = ngx_strlen(list);
    w->check = check;

    w->timeout.handler = ngx_http_chatport_waiter_timeout;
    w->timeout.data = w;
    w->timeout.log = r->connection->log;

    return w;
}


/*
 * Returns NGX_OK when the request now belongs to the waiter (the caller
 * returns NGX_DONE), NGX_DECLINED when pub/sub is unavailable.
 */

ngx_int_t
ngx_http_chatport_waiter_start(ngx_http_chatport_waiter_t *w)
{
    ngx_int_t                     rc;
    ngx_uint_t                    unread;
    ngx_http_request_t           *r;
    ngx_http_chatport_channel_t  *ch;

    if (!ngx_http_chatport_redis_sub_ready()) {
        return NGX_DECLINED;
    }

    ch = ngx_http_chatport_channel_get(&w->channel_name, 1);
    if (ch == NULL) {
        return NGX_ERROR;
    }

    unread = 0;

    ngx_queue_insert_tail(&ch->waiters, &w->queue);
    w->channel = ch;

    if (ch->lingers) {
        ngx_queue_remove(&ch->idle);
        ch->lingers = 0;
    }

    switch (ch->state) {

    case NGX_HTTP_CHATPORT_CHANNEL_NONE:
        if (ngx_http_chatport_redis_subscribe(&ch->node.str, 1) != NGX_OK) {
            ngx_queue_remove(&w->queue);
            w->channel = NULL;
            ngx_http_chatport_channel_release(ch);
            return NGX_DECLINED;
        }

        ch->state = NGX_HTTP_CHATPORT_CHANNEL_SUBSCRIBING;
        w->state = NGX_HTTP_CHATPORT_WAITER_SUBSCRIBING;
        break;

    case NGX_HTTP_CHATPORT_CHANNEL_SUBSCRIBED:
        w->state = NGX_HTTP_CHATPORT_WAITER_CHECKING;

        rc = w->check(w);

        if (rc == NGX_DECLINED && !ngx_exiting) {
            /*
             * The command connection is down, the channel subscribed (it
             * lingers): park below, and read once the connection is back,
             * as a waiter that was subscribing would
             */
            w->dirty = 1;
            unread = 1;
            break;
        }

        if (rc != NGX_OK) {
            ngx_queue_remove(&w->queue);
            w->channel = NULL;
            ngx_http_chatport_channel_release(ch);
            return NGX_DECLINED;
        }

        break;

    default:
        /* the (un)subscribe reply moves this waiter on */
        w->state = NGX_HTTP_CHATPORT_WAITER_SUBSCRIBING;
        break;
    }

    ngx_add_timer(&w->timeout, w->poll_timeout);
    w->request->main->count++;

    /* the ctx is the waiter exactly while it is registered */
    ngx_http_set_ctx(w->request, w, ngx_http_chatport_module);

    /*
     * A client that leaves ends the poll at once, not at its poll timeout,
     * and the pool cleanup frees the waiter: an HTTP/1 close (it may have
     * come with the request itself, and with edge-triggered events it is
     * not reported again), an HTTP/2 stream reset or closed connection (a
     * read event with the error set).
     */

    r = w->request;

    if (!r->discard_body) {
        r->read_event_handler = ngx_http_test_reading;

        if (r->connection->read->ready) {
            ngx_post_event(r->connection->read, &ngx_posted_events);
        }
    }

    if (unread) {
        ngx_http_chatport_waiter_park(w);
    }

    return NGX_OK;
}


void
ngx_http_chatport_waiter_checked(ngx_http_chatport_waiter_t *w,
    ngx_uint_t found, ngx_str_t *body)
{
    w->cmd = NULL;

    if (found) {
        ngx_http_chatport_waiter_finish(w, NGX_HTTP_OK, body, NULL, NULL);
        return;
    }

    if (w->dirty) {
        ngx_http_chatport_waiter_recheck(w);
        return;
    }

    ngx_http_chatport_waiter_park(w);
}


/* the reply of a check's read script: {count, JSON} */

void
ngx_http_chatport_waiter_read_done(void *data, redisReply *reply,
    ngx_int_t rc)
{
    ngx_http_chatport_waiter_t  *w = data;

    ngx_int_t                          count;
    ngx_str_t                          body;
    ngx_http_chatport_error_t          err;
    ngx_http_chatport_store_status_e   status;

    status = ngx_http_chatport_reply_json(reply, rc, w->request, 1, &count,
                                          &body);

    if (status == NGX_HTTP_CHATPORT_STORE_OK) {
        ngx_http_chatport_waiter_checked(w, count > 0, &body);
        return;
    }

    ngx_http_chatport_store_error(status, w->unknown, &err);
    ngx_http_chatport_waiter_fail(w, err.status, err.code, err.message);
}


void
ngx_http_chatport_waiter_fail(ngx_http_chatport_waiter_t *w,
    ngx_uint_t status, char *code, char *message)
{
    w->cmd = NULL;
    ngx_http_chatport_waiter_finish(w, status, NULL, code, message);
}


static void
ngx_http_chatport_waiter_recheck(ngx_http_chatport_waiter_t *w)
{
    ngx_int_t  rc;

    w->dirty = 0;
    w->state = NGX_HTTP_CHATPORT_WAITER_CHECKING;

    rc = w->check(w);

    if (rc == NGX_DECLINED) {
        /*
         * The command connection is down (pub/sub may come back first
         * after a Redis restart): stay parked, still subscribed, and read
         * once it is back; until then pub/sub news is not enough.
         */
        w->dirty = 1;
        ngx_http_chatport_waiter_park(w);
        return;
    }

    if (rc != NGX_OK) {
        ngx_http_chatport_waiter_finish(w, NGX_HTTP_SERVICE_UNAVAILABLE, NULL,
                                        "unavailable",
                                        "the chat store is unavailable");
    }
}


/* the command connection is back: parked waiters that missed a read */

void
ngx_http_chatport_waiters_on_cmd_ready(void)
{
    ngx_http_chatport_waiters_walk(ngx_http_chatport_waiter_reread);
}


static void
ngx_http_chatport_waiter_reread(ngx_http_chatport_waiter_t *w)
{
    if (w->dirty) {
        ngx_http_chatport_waiter_recheck(w);
    }
}


/*
 * Calls visit() for every parked waiter of every channel; visit() may end
 * the waiter, and a channel left without waiters is released after it.
 */

static void
ngx_http_chatport_waiters_walk(ngx_http_chatport_waiter_visit_pt visit)
{
    ngx_queue_t                  *q, *next, *wq, *wnext;
    ngx_http_chatport_waiter_t   *w;
    ngx_http_chatport_channel_t  *ch;

    for (q = ngx_queue_head(&ngx_http_chatport_channels_all);
         q != ngx_queue_sentinel(&ngx_http_chatport_channels_all);
         q = next)
    {
        next = ngx_queue_next(q);
        ch = ngx_queue_data(q, ngx_http_chatport_channel_t, all);

        ch->busy++;

        for (wq = ngx_queue_head(&ch->waiters);
             wq != ngx_queue_sentinel(&ch->waiters);
             wq = wnext)
        {
            wnext = ngx_queue_next(wq);
            w = ngx_queue_data(wq, ngx_http_chatport_waiter_t, queue);

            if (w->state == NGX_HTTP_CHATPORT_WAITER_PARKED) {
                visit(w);
            }
        }

        ch->busy--;
        ngx_http_chatport_channel_release(ch);
    }
}


/*
 * While parked, the connection is marked idle: on a graceful shutdown or
 * reload nginx then calls its read handler with c->close set, and the
 * poll is answered at once instead of holding the old worker.
 */

static void
ngx_http_chatport_waiter_park(ngx_http_chatport_waiter_t *w)
{
    ngx_connection_t  *c;

    w->state = NGX_HTTP_CHATPORT_WAITER_PARKED;

    c = w->request->connection;

    if (ngx_exiting) {
        /* a poll that came on a kept-alive connection after the signal */
        w->request->keepalive = 0;
        ngx_http_chatport_waiter_finish(w, NGX_HTTP_OK, NULL, NULL, NULL);
        return;
    }

#if (NGX_HTTP_V2)
    if (w->request->stream) {
        /*
         * The stream has no connection of its own to mark idle, and
         * nginx keeps an HTTP/2 connection with open streams after a
         * GOAWAY: a timer looks for the worker's exit instead.
         */
        if (!ngx_http_chatport_exit_watch.timer_set) {
            ngx_add_timer(&ngx_http_chatport_exit_watch,
                          NGX_HTTP_CHATPORT_EXIT_WATCH);
        }

        return;
    }
#endif

    if (w->read_handler == NULL) {
        w->read_handler = c->read->handler;
        c->read->handler = ngx_http_chatport_waiter_read;
        c->idle = 1;
    }
}


static void
ngx_http_chatport_waiter_read(ngx_event_t *rev)
{
    ngx_connection_t            *c = rev->data;
    ngx_http_request_t          *r = c->data;
    ngx_http_chatport_waiter_t  *w;

    w = ngx_http_get_module_ctx(r, ngx_http_chatport_module);

    if (c->close) {
        r->keepalive = 0;
        ngx_http_chatport_waiter_finish(w, NGX_HTTP_OK, NULL, NULL, NULL);
        return;
    }

    /* a closed client connection ends the request and frees the waiter */
    ngx_http_test_reading(r);
    ngx_http_run_posted_requests(c);
}


/*
 * Runs every second from the first parked HTTP/2 poll on, while any poll
 * waits: once the worker is exiting (a graceful shutdown or a reload),
 * each parked poll gets its normal empty answer. The timer is cancelable,
 * so it never holds an exiting worker itself.
 */

static void
ngx_http_chatport_waiters_exit_watch(ngx_event_t *ev)
{
    if (!ngx_exiting) {
        if (!ngx_queue_empty(&ngx_http_chatport_channels_all)) {
            ngx_add_timer(ev, NGX_HTTP_CHATPORT_EXIT_WATCH);
        }

        return;
    }

    /* the others are answered when they would park */
    ngx_http_chatport_waiters_walk(ngx_http_chatport_waiter_answer_empty);
}


static void
ngx_http_chatport_waiter_answer_empty(ngx_http_chatport_waiter_t *w)
{
    w->request->keepalive = 0;
    ngx_http_chatport_waiter_finish(w, NGX_HTTP_OK, NULL, NULL, NULL);
}


static void
ngx_http_chatport_waiter_timeout(ngx_event_t *ev)
{
    ngx_http_chatport_waiter_t  *w = ev->data;

    ngx_http_chatport_waiter_finish(w, NGX_HTTP_OK, NULL, NULL, NULL);
}


/* body NULL and code NULL: the empty answer, with the cursor unchanged */

static void
ngx_http_chatport_waiter_finish(ngx_http_chatport_waiter_t *w,
    ngx_uint_t status, ngx_str_t *body, char *code, char *message)
{
    ngx_int_t            rc;
    ngx_str_t            empty, items;
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    if (w->finished) {
        return;
    }

    w->finished = 1;
    ngx_http_chatport_waiter_detach(w);

    r = w->request;
    c = r->connection;

    if (code) {
        rc = ngx_http_chatport_send_error(r, status, code, message);

    } else if (body) {
        rc = ngx_http_chatport_send_json(r, status, body);

    } else {
        ngx_str_null(&items);

        if (ngx_http_chatport_waiter_body(w, &items, &items, &w->cursor,
                                          &empty)
            != NGX_OK)
        {
            rc = NGX_HTTP_INTERNAL_SERVER_ERROR;

        } else {
            rc = ngx_http_chatport_send_json(r, status, &empty);
        }
    }

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}


static void
ngx_http_chatport_waiter_detach(ngx_http_chatport_waiter_t *w)
{
    ngx_connection_t             *c;
    ngx_http_chatport_channel_t  *ch;

    if (w->timeout.timer_set) {
        ngx_del_timer(&w->timeout);
    }

    if (w->cmd) {
        ngx_http_chatport_redis_cancel(w->cmd);
        w->cmd = NULL;
    }

    if (w->read_handler) {
        c = w->request->connection;
        c->read->handler = w->read_handler;
        c->idle = 0;
        w->read_handler = NULL;
    }

    /* the response that follows is not a waiter's business any more */
    ngx_http_set_ctx(w->request, NULL, ngx_http_chatport_module);

    ch = w->channel;

    if (ch) {
        ngx_queue_remove(&w->queue);
        w->channel = NULL;
        ngx_http_chatport_channel_release(ch);
    }
}


/* the request is going away: a client that left, or a finished answer */

static void
ngx_http_chatport_waiter_cleanup(void *data)
{
    ngx_http_chatport_waiter_t  *w = data;

    if (!w->finished) {
        w->finished = 1;
        ngx_http_chatport_waiter_detach(w);
    }
}


/* events: what goes beside the list, for a waiter whose answers have it */

static ngx_int_t
ngx_http_chatport_waiter_body(ngx_http_chatport_waiter_t *w,
    ngx_str_t *items, ngx_str_t *events, ngx_str_t *cursor, ngx_str_t *body)
{
    ngx_http_chatport_json_t  j;

    ngx_http_chatport_json_init(&j, w->request->pool);

    ngx_http_chatport_json_literal(&j, "{");
    ngx_http_chatport_json_string(&j, &w->list);
    ngx_http_chatport_json_literal(&j, ":[");
    ngx_http_chatport_json_raw(&j, items->data, items->len);

    if (w->events) {
        ngx_http_chatport_json_literal(&j, "],\"events\":[");
        ngx_http_chatport_json_raw(&j, events->data, events->len);
    }

    ngx_http_chatport_json_literal(&j, "],\"cursor\":");
    ngx_http_chatport_json_string(&j, cursor);
    ngx_http_chatport_json_literal(&j, "}\n");

    return ngx_http_chatport_json_result(&j, body);
}


/* a parked waiter's answer: what it waited for, with a body of its own */

static void
ngx_http_chatport_waiter_answer(ngx_http_chatport_waiter_t *w,
    ngx_str_t *items, ngx_str_t *events, ngx_str_t *cursor)
{
    ngx_str_t  body;

    if (ngx_http_chatport_waiter_body(w, items, events, cursor, &body)
        != NGX_OK)
    {
        ngx_http_chatport_waiter_finish(w, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                        NULL, "internal", "out of memory");
        return;
    }

    ngx_http_chatport_waiter_finish(w, NGX_HTTP_OK, &body, NULL, NULL);
}


static ngx_http_chatport_channel_t *
ngx_http_chatport_channel_get(ngx_str_t *name, ngx_uint_t create)
{
    uint32_t                      hash;
    ngx_http_chatport_channel_t  *ch;

    hash = ngx_crc32_short(name->data, name->len);

    ch = (ngx_http_chatport_channel_t *)
             ngx_str_rbtree_lookup(&ngx_http_chatport_channels, name, hash);

    if (ch || !create) {
        return ch;
    }

    ch = ngx_alloc(sizeof(ngx_http_chatport_channel_t) + name->len,
                   ngx_cycle->log);
    if (ch == NULL) {
        return NULL;
    }

    ngx_memzero(ch, sizeof(ngx_http_chatport_channel_t));

    ch->node.str.len = name->len;
    ch->node.str.data = (u_char *) (ch + 1);
    ngx_memcpy(ch->node.str.data, name->data, name->len);
    ch->node.node.key = hash;

    ngx_queue_init(&ch->waiters);
    ngx_queue_insert_tail(&ngx_http_chatport_channels_all, &ch->all);
    ngx_rbtree_insert(&ngx_http_chatport_channels, &ch->node.node);

    return ch;
}


/*
 * Called when a waiter left: a subscribed channel without waiters lingers
 * (the sweeper drops it later), any other is dropped now.
 */

static void
ngx_http_chatport_channel_release(ngx_http_chatport_channel_t *ch)
{
    if (!ngx_queue_empty(&ch->waiters) || ch->busy) {
        return;
    }

    if (ch->state == NGX_HTTP_CHATPORT_CHANNEL_SUBSCRIBED && !ngx_exiting) {
        if (ch->lingers) {
            return;
        }

        ch->lingers = 1;
        ch->idle_since = ngx_current_msec;
        ngx_queue_insert_tail(&ngx_http_chatport_channels_idle, &ch->idle);

        if (!ngx_http_chatport_channels_sweeper.timer_set) {
            ngx_add_timer(&ngx_http_chatport_channels_sweeper,
                          NGX_HTTP_CHATPORT_CHANNEL_LINGER);
        }

        return;
    }

    ngx_http_chatport_channel_drop(ch);
}


/* the channels that lingered long enough are unsubscribed, in age order */

static void
ngx_http_chatport_channels_sweep(ngx_event_t *ev)
{
    ngx_msec_t                    age;
    ngx_queue_t                  *q;
    ngx_http_chatport_channel_t  *ch;

    while (!ngx_queue_empty(&ngx_http_chatport_channels_idle)) {
        q = ngx_queue_head(&ngx_http_chatport_channels_idle);
        ch = ngx_queue_data(q, ngx_http_chatport_channel_t, idle);

        age = ngx_current_msec - ch->idle_since;

        if (age < NGX_HTTP_CHATPORT_CHANNEL_LINGER && !ngx_exiting) {
            ngx_add_timer(ev, NGX_HTTP_CHATPORT_CHANNEL_LINGER - age);
            return;
        }

        ngx_queue_remove(q);
        ch->lingers = 0;

        ngx_http_chatport_channel_drop(ch);
    }
}


/* a channel without waiters: unsubscribed, or freed when it is not */

static void
ngx_http_chatport_channel_drop(ngx_http_chatport_channel_t *ch)
{
    if (ch->lingers) {
        ngx_queue_remove(&ch->idle);
        ch->lingers = 0;
    }

    switch (ch->state) {

    case NGX_HTTP_CHATPORT_CHANNEL_SUBSCRIBED:
        if (ngx_http_chatport_redis_subscribe(&ch->node.str, 0) == NGX_OK) {
            ch->state = NGX_HTTP_CHATPORT_CHANNEL_UNSUBSCRIBING;
            return;
        }

        break;

    case NGX_HTTP_CHATPORT_CHANNEL_SUBSCRIBING:
    case NGX_HTTP_CHATPORT_CHANNEL_UNSUBSCRIBING:
        /* its reply comes back to this channel */
        return;

    default:
        break;
    }

    ngx_rbtree_delete(&ngx_http_chatport_channels, &ch->node.node);
    ngx_queue_remove(&ch->all);
    ngx_free(ch);
}


void
ngx_http_chatport_waiters_on_message(redisReply *reply)
{
    ngx_str_t                     kind, name, payload;
    ngx_http_chatport_channel_t  *ch;

    if (reply->element[0]->type != REDIS_REPLY_STRING
        || reply->element[1]->type != REDIS_REPLY_STRING)
    {
        return;
    }

    kind.data = (u_char *) reply->element[0]->str;
    kind.len = reply->element[0]->len;
    name.data = (u_char *) reply->element[1]->str;
    name.len = reply->element[1]->len;

    ch = ngx_http_chatport_channel_get(&name, 0);
    if (ch == NULL) {
        return;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "chatport: pub/sub %V \"%V\"", &kind, &name);

    if (kind.len == 7 && ngx_strncmp(kind.data, "message", 7) == 0) {

        if (reply->element[2]->type != REDIS_REPLY_STRING) {
            return;
        }

        payload.data = (u_char *) reply->element[2]->str;
        payload.len = reply->element[2]->len;

        ngx_http_chatport_channel_deliver(ch, &payload);
        return;
    }

    if (kind.len == 9 && ngx_strncmp(kind.data, "subscribe", 9) == 0) {
        ngx_http_chatport_channel_subscribed(ch);
        return;
    }

    if (kind.len == 11 && ngx_strncmp(kind.data, "unsubscribe", 11) == 0) {
        ch->state = NGX_HTTP_CHATPORT_CHANNEL_NONE;

        if (ngx_queue_empty(&ch->waiters)) {
            ngx_http_chatport_channel_release(ch);
            return;
        }

        /* waiters came while it was being unsubscribed */
        if (ngx_http_chatport_redis_subscribe(&ch->node.str, 1) == NGX_OK) {
            ch->state = NGX_HTTP_CHATPORT_CHANNEL_SUBSCRIBING;
        }
    }
}


static void
ngx_http_chatport_channel_subscribed(ngx_http_chatport_channel_t *ch)
{
    ngx_queue_t                 *q, *next;
    ngx_http_chatport_waiter_t  *w;

    ch->state = NGX_HTTP_CHATPORT_CHANNEL_SUBSCRIBED;
    ch->busy++;

    for (q = ngx_queue_head(&ch->waiters);
         q != ngx_queue_sentinel(&ch->waiters);
         q = next)
    {
        next = ngx_queue_next(q);
        w = ngx_queue_data(q, ngx_http_chatport_waiter_t, queue);

        if (w->state == NGX_HTTP_CHATPORT_WAITER_CHECKING) {
            /* a read under way may predate the subscription */
            w->dirty = 1;
            continue;
        }

        /* new waiters, and parked ones catching up after a reconnect */
        ngx_http_chatport_waiter_recheck(w);
    }

    ch->busy--;
    ngx_http_chatport_channel_release(ch);
}


/*
 * payload: "<stream id> <JSON item>" as the store's scripts publish it,
 * "* ..." (read again) or "~ <event JSON>" (an event, nothing stored)
 */

static void
ngx_http_chatport_channel_deliver(ngx_http_chatport_channel_t *ch,
    ngx_str_t *payload)
{
    u_char                         *space;
    ngx_str_t                       id_text, item, none;
    ngx_queue_t                    *q, *next;
    ngx_http_chatport_waiter_t     *w;
    ngx_http_chatport_stream_id_t   id;

    space = ngx_strlchr(payload->data, payload->data + payload->len, ' ');
    if (space == NULL) {
        return;
    }

    id_text.data = payload->data;
    id_text.len = space - payload->data;

    item.data = space + 1;
    item.len = payload->data + payload->len - item.data;

    if (id_text.len == 1 && id_text.data[0] == '*') {
        ngx_http_chatport_channel_changed(ch);
        return;
    }

    if (id_text.len == 1 && id_text.data[0] == '~') {
        ngx_http_chatport_channel_event(ch, &item);
        return;
    }

    if (ngx_http_chatport_stream_id_parse(&id_text, &id) != NGX_OK) {
        return;
    }

    ngx_str_null(&none);

    ch->busy++;

    for (q = ngx_queue_head(&ch->waiters);
         q != ngx_queue_sentinel(&ch->waiters);
         q = next)
    {
        next = ngx_queue_next(q);
        w = ngx_queue_data(q, ngx_http_chatport_waiter_t, queue);

        if (w->state == NGX_HTTP_CHATPORT_WAITER_CHECKING) {
            w->dirty = 1;
            continue;
        }

        /* a dirty waiter may have missed older messages: it reads them */

        if (w->state != NGX_HTTP_CHATPORT_WAITER_PARKED || w->dirty
            || !ngx_http_chatport_stream_id_newer(&id, &w->cursor_id))
        {
            continue;
        }

        /* the payload is hiredis's: each answer gets its own copy */

        ngx_http_chatport_waiter_answer(w, &item, &none, &id_text);
    }

    ch->busy--;
    ngx_http_chatport_channel_release(ch);
}


/*
 * "*": something about the conversation other than a message changed
 * (it was closed); every waiter reads again, and answers when its reader
 * did not know.
 */

static void
ngx_http_chatport_channel_changed(ngx_http_chatport_channel_t *ch)
{
    ngx_queue_t                 *q, *next;
    ngx_http_chatport_waiter_t  *w;

    ch->busy++;

    for (q = ngx_queue_head(&ch->waiters);
         q != ngx_queue_sentinel(&ch->waiters);
         q = next)
    {
        next = ngx_queue_next(q);
        w = ngx_queue_data(q, ngx_http_chatport_waiter_t, queue);

        if (w->state == NGX_HTTP_CHATPORT_WAITER_PARKED && !w->dirty) {
            ngx_http_chatport_waiter_recheck(w);

        } else {
            w->dirty = 1;
        }
    }

    ch->busy--;
    ngx_http_chatport_channel_release(ch);
}


/*
 * "~ <event JSON>": news that is not in the stream (someone typing, a
 * message seen). Only the polls parked now hear of it, and their cursor
 * stays where it was. A poll that is reading reads again, as for a
 * message: what a stored state change (seen) is about, the read tells.
 */

static void
ngx_http_chatport_channel_event(ngx_http_chatport_channel_t *ch,
    ngx_str_t *event)
{
    ngx_str_t                    none;
    ngx_queue_t                 *q, *next;
    ngx_http_chatport_waiter_t  *w;

    ngx_str_null(&none);

    ch->busy++;

    for (q = ngx_queue_head(&ch->waiters);
         q != ngx_queue_sentinel(&ch->waiters);
         q = next)
    {
        next = ngx_queue_next(q);
        w = ngx_queue_data(q, ngx_http_chatport_waiter_t, queue);

        if (w->state == NGX_HTTP_CHATPORT_WAITER_CHECKING) {
            w->dirty = 1;
            continue;
        }

        if (w->state != NGX_HTTP_CHATPORT_WAITER_PARKED || w->dirty) {
            continue;
        }

        /* the inbox's list is the events; a visitor's has them beside */

        if (w->events) {
            ngx_http_chatport_waiter_answer(w, &none, event, &w->cursor);

        } else {
            ngx_http_chatport_waiter_answer(w, event, &none, &w->cursor);
        }
    }

    ch->busy--;
    ngx_http_chatport_channel_release(ch);
}


void
ngx_http_chatport_waiters_on_sub_state(ngx_uint_t up)
{
    ngx_queue_t                  *q, *next, *wq, *wnext;
    ngx_http_chatport_waiter_t   *w;
    ngx_http_chatport_channel_t  *ch;

    for (q = ngx_queue_head(&ngx_http_chatport_channels_all);
         q != ngx_queue_sentinel(&ngx_http_chatport_channels_all);
         q = next)
    {
        next = ngx_queue_next(q);
        ch = ngx_queue_data(q, ngx_http_chatport_channel_t, all);

        if (up) {
            if (!ngx_queue_empty(&ch->waiters)
                && ngx_http_chatport_redis_subscribe(&ch->node.str, 1)
                   == NGX_OK)
            {
                ch->state = NGX_HTTP_CHATPORT_CHANNEL_SUBSCRIBING;
            }

            continue;
        }

        /*
         * The subscription is gone. Parked waiters stay parked and catch
         * up when it is back; those that had not started cannot.
         */

        ch->state = NGX_HTTP_CHATPORT_CHANNEL_NONE;
        ch->busy++;

        for (wq = ngx_queue_head(&ch->waiters);
             wq != ngx_queue_sentinel(&ch->waiters);
             wq = wnext)
        {
            wnext = ngx_queue_next(wq);
            w = ngx_queue_data(wq, ngx_http_chatport_waiter_t, queue);

            if (w->state == NGX_HTTP_CHATPORT_WAITER_SUBSCRIBING) {
                ngx_http_chatport_waiter_finish(w,
                                                NGX_HTTP_SERVICE_UNAVAILABLE,
                                                NULL, "unavailable",
                                                "the chat store is "
                                                "unavailable");
            }
        }

        ch->busy--;
        ngx_http_chatport_channel_release(ch);
    }
}
