
/*
 * ChatPort: Redis on nginx's event loop.
 *
 * hiredis's async API does the protocol; its socket is wrapped in an nginx
 * connection whose read and write events call back into hiredis. The
 * events are level-triggered: hiredis reads at most 16 KB a call, and with
 * edge-triggered epoll the rest of a large reply would wait for the next
 * packet.
 *
 * hiredis frees a context inside its own calls (on a read error, on a
 * failed connect), so nothing here keeps a context pointer across a call
 * into hiredis: the link learns that its context is gone from the adapter's
 * cleanup hook. Every command's callback runs exactly once, with a NULL
 * reply when the context is freed first.
 *
 * With chatport_redis_sentinel, a third link follows a Sentinel
 * (ngx_http_chatport_sentinel.c speaks its protocol): the command and
 * pub/sub links go where it says the master is, check with ROLE that it
 * is one, and ask the sentinels again whenever the master is lost or
 * answers READONLY.
 *
 * With chatport_redis_wait, a write script is followed by WAIT on the
 * command link (WAIT counts the writes of the connection it is sent on)
 * and answered with its outcome. WAIT holds the connection: at most one
 * is under way, and writes sent meanwhile share the next one.
 *
 * With chatport_redis_cluster, the command link is one link per master
 * (ngx_http_chatport_cluster.c knows which one a command goes to): a
 * MOVED or ASK reply sends the command again where it says, a TRYAGAIN
 * (a script's keys split by a slot migration under way) or CLUSTERDOWN
 * (a master failing over) a little later,
 * at most NGX_HTTP_CHATPORT_REDIS_REDIRECTS times and within the
 * command's timeout. A write's WAIT goes to the master that took it.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <ngx_sha1.h>

#include "ngx_http_chatport_redis.h"
#include "ngx_http_chatport_redis_hint.h"
#include "ngx_http_chatport_resp.h"
#include "ngx_http_chatport_sentinel.h"
#include "ngx_http_chatport_cluster.h"


#define NGX_HTTP_CHATPORT_REDIS_BACKOFF_MIN  100
#define NGX_HTTP_CHATPORT_REDIS_BACKOFF_MAX  5000

/* a cluster command's MOVED, ASK and TRYAGAIN retries, and their pause */
#define NGX_HTTP_CHATPORT_REDIS_REDIRECTS    16
#define NGX_HTTP_CHATPORT_REDIS_TRYAGAIN     50

/*
 * An idle pub/sub connection is asked this often whether it is still
 * there: one cut without a close (a partition, a firewall that dropped
 * it) would otherwise hold every parked poll until its timeout, and
 * leave channels waiting for (un)subscribe replies that never come.
 * Re-subscribing to a channel of our own is the heartbeat: Redis answers
 * it in subscribed mode, and hiredis hands the answer to its callback.
 */
#define NGX_HTTP_CHATPORT_REDIS_HEARTBEAT    10000
#define NGX_HTTP_CHATPORT_REDIS_HB_CHANNEL   "chatport:heartbeat"


typedef enum {
    NGX_HTTP_CHATPORT_LINK_DOWN = 0,
    NGX_HTTP_CHATPORT_LINK_CONNECTING,
    NGX_HTTP_CHATPORT_LINK_READY
} ngx_http_chatport_link_state_e;


typedef struct {
    redisAsyncContext            *ac;
    ngx_connection_t             *conn;
    ngx_event_t                   reconnect;
    ngx_event_t                   heartbeat;      /* pub/sub; connecting */
    ngx_event_t                   flush;          /* posted: write out */
    ngx_msec_t                    backoff;
    ngx_http_chatport_link_state_e  state;
    ngx_uint_t                    setup_pending;  /* AUTH, SELECT, ROLE */
    char                         *name;
    ngx_str_t                    *text;           /* address, for logs */
    ngx_uint_t                    node;           /* a cluster master's */

    /* writes sent since the last WAIT went out, and those it covers */
    ngx_queue_t                   unwaited;
    ngx_queue_t                   waited;
    ngx_uint_t                    waiting;

    unsigned                      pubsub:1;
    unsigned                      sentinel:1;
    unsigned                      cluster:1;
    unsigned                      dropped:1;      /* node left the map */
    unsigned                      down_logged:1;
    unsigned                      heartbeat_sent:1;
    unsigned                      flushing:1;
} ngx_http_chatport_redis_link_t;


struct ngx_http_chatport_redis_cmd_s {
    ngx_http_chatport_redis_pt         handler;    /* NULL: nobody waits */
    void                              *data;
    ngx_event_t                        timer;
    ngx_event_t                        retry;      /* TRYAGAIN */
    ngx_http_chatport_redis_link_t    *link;       /* sent on */
    ngx_int_t                          ask;        /* ASK node, or -1 */
    ngx_uint_t                         redirects;
    ngx_http_chatport_redis_script_t  *script;     /* for a NOSCRIPT retry */
    int                                argc;
    const char                       **argv;
    size_t                            *argvlen;
    ngx_queue_t                        queue;      /* of writes to WAIT */
    redisReply                        *saved;      /* its reply meanwhile */
    unsigned                           waits:1;
    unsigned                           queued:1;
};


static void ngx_http_chatport_redis_connect(
    ngx_http_chatport_redis_link_t *link);
static void ngx_http_chatport_redis_schedule(
    ngx_http_chatport_redis_link_t *link);
static void ngx_http_chatport_redis_reconnect(ngx_event_t *ev);
static void ngx_http_chatport_redis_connected(const redisAsyncContext *ac,
    int status);
static void ngx_http_chatport_redis_ready(
    ngx_http_chatport_redis_link_t *link);
static void ngx_http_chatport_redis_setup_done(redisAsyncContext *ac,
    void *r, void *privdata);
static void ngx_http_chatport_redis_close(
    ngx_http_chatport_redis_link_t *link);
static void ngx_http_chatport_redis_heartbeat(ngx_event_t *ev);
static void ngx_http_chatport_redis_restart(
    ngx_http_chatport_redis_link_t *link);
static void ngx_http_chatport_redis_lost(
    ngx_http_chatport_redis_link_t *link);
static void ngx_http_chatport_redis_role(redisAsyncContext *ac, void *r,
    void *privdata);

static void ngx_http_chatport_redis_read_handler(ngx_event_t *ev);
static void ngx_http_chatport_redis_write_handler(ngx_event_t *ev);
static void ngx_http_chatport_redis_flush(ngx_event_t *ev);
static void ngx_http_chatport_redis_add_read(void *privdata);
static void ngx_http_chatport_redis_del_read(void *privdata);
static void ngx_http_chatport_redis_add_write(void *privdata);
static void ngx_http_chatport_redis_del_write(void *privdata);
static void ngx_http_chatport_redis_cleanup(void *privdata);

static ngx_int_t ngx_http_chatport_redis_send(
    ngx_http_chatport_redis_cmd_t *cmd);
static void ngx_http_chatport_redis_done(redisAsyncContext *ac, void *r,
    void *privdata);
static void ngx_http_chatport_redis_timeout(ngx_event_t *ev);
static void ngx_http_chatport_redis_message(redisAsyncContext *ac, void *r,
    void *privdata);
static ngx_http_chatport_redis_link_t *ngx_http_chatport_redis_route(
    ngx_http_chatport_redis_cmd_t *cmd);
static ngx_int_t ngx_http_chatport_redis_redirect(
    ngx_http_chatport_redis_cmd_t *cmd, redisReply *reply);
static void ngx_http_chatport_redis_again(ngx_event_t *ev);
static void ngx_http_chatport_redis_link_init(
    ngx_http_chatport_redis_link_t *link, ngx_cycle_t *cycle);
static void ngx_http_chatport_redis_wait_next(
    ngx_http_chatport_redis_link_t *link);
static void ngx_http_chatport_redis_waited(redisAsyncContext *ac, void *r,
    void *privdata);
static void ngx_http_chatport_redis_finish(ngx_http_chatport_redis_cmd_t *cmd,
    redisReply *reply, ngx_int_t rc);
static redisReply *ngx_http_chatport_redis_copy(redisReply *reply);
static void ngx_http_chatport_redis_copy_free(redisReply *reply);


static ngx_http_chatport_main_conf_t       *ngx_http_chatport_redis_conf;
static ngx_http_chatport_redis_sub_pt        ngx_http_chatport_redis_on_message;
static ngx_http_chatport_redis_sub_state_pt  ngx_http_chatport_redis_on_sub;
static ngx_http_chatport_redis_ready_pt
    ngx_http_chatport_redis_on_cmd_ready;
static ngx_uint_t                            ngx_http_chatport_redis_exiting;

static ngx_http_chatport_redis_link_t  ngx_http_chatport_redis_cmd_link;
static ngx_http_chatport_redis_link_t  ngx_http_chatport_redis_sub_link;
static ngx_http_chatport_redis_link_t  ngx_http_chatport_redis_sentinel_link;

/* with chatport_redis_cluster, the command links: one per node */
static ngx_http_chatport_redis_link_t
    ngx_http_chatport_redis_nodes[NGX_HTTP_CHATPORT_CLUSTER_NODES];

/* where the Sentinel says the master is; port 0 while unknown */
static ngx_http_chatport_addr_t        ngx_http_chatport_redis_master;
static u_char  ngx_http_chatport_redis_master_text[2 * NGX_SOCKADDR_STRLEN
                                                  + 8];
static ngx_uint_t                      ngx_http_chatport_redis_switching;


/*
 * A worker's timer that belongs to no connection: nginx's timer debug log
 * reads a connection's fd through ev->data, so it gets one that is none.
 */

void
ngx_http_chatport_timer_init(ngx_event_t *ev, ngx_event_handler_pt handler)
{
    static ngx_connection_t  none;

    none.fd = (ngx_socket_t) -1;

    ngx_memzero(ev, sizeof(ngx_event_t));

    ev->data = &none;
    ev->handler = handler;
    ev->log = ngx_cycle->log;
    ev->cancelable = 1;
}


ngx_int_t
ngx_http_chatport_redis_init(ngx_cycle_t *cycle,
    ngx_http_chatport_main_conf_t *cmcf,
    ngx_http_chatport_redis_sub_pt on_message,
    ngx_http_chatport_redis_sub_state_pt on_sub_state,
    ngx_http_chatport_redis_ready_pt on_cmd_ready)
{
    ngx_http_chatport_redis_link_t  *links[3], *link;
    ngx_uint_t                       i, n;

    ngx_http_chatport_redis_conf = cmcf;
    ngx_http_chatport_redis_on_message = on_message;
    ngx_http_chatport_redis_on_sub = on_sub_state;
    ngx_http_chatport_redis_on_cmd_ready = on_cmd_ready;
    ngx_http_chatport_redis_exiting = 0;

    ngx_http_chatport_redis_switching = 0;

    ngx_memzero(&ngx_http_chatport_redis_cmd_link,
                sizeof(ngx_http_chatport_redis_link_t));
    ngx_memzero(&ngx_http_chatport_redis_sub_link,
                sizeof(ngx_http_chatport_redis_link_t));
    ngx_memzero(&ngx_http_chatport_redis_sentinel_link,
                sizeof(ngx_http_chatport_redis_link_t));
    ngx_memzero(&ngx_http_chatport_redis_master,
                sizeof(ngx_http_chatport_addr_t));
    ngx_memzero(ngx_http_chatport_redis_nodes,
                sizeof(ngx_http_chatport_redis_nodes));

    ngx_http_chatport_redis_cmd_link.name = "command";
    ngx_http_chatport_redis_sub_link.name = "pub/sub";
    ngx_http_chatport_redis_sub_link.pubsub = 1;
    ngx_http_chatport_redis_sentinel_link.name = "sentinel";
    ngx_http_chatport_redis_sentinel_link.pubsub = 1;
    ngx_http_chatport_redis_sentinel_link.sentinel = 1;

    links[0] = &ngx_http_chatport_redis_cmd_link;
    links[1] = &ngx_http_chatport_redis_sub_link;
    links[2] = &ngx_http_chatport_redis_sentinel_link;

    if (cmcf->sentinels) {
        ngx_http_chatport_sentinel_init(cmcf);

        ngx_str_set(&ngx_http_chatport_redis_master.text, "the master");
        ngx_http_chatport_redis_cmd_link.text =
                                          &ngx_http_chatport_redis_master.text;
        ngx_http_chatport_redis_sub_link.text =
                                          &ngx_http_chatport_redis_master.text;
        n = 3;

    } else if (cmcf->cluster) {
        ngx_http_chatport_cluster_init(cmcf);

        /* the pub/sub link goes to any node; the seeds give the map */
        links[0] = &ngx_http_chatport_redis_sub_link;
        n = 1;

        for (i = 0; i < NGX_HTTP_CHATPORT_CLUSTER_NODES; i++) {
            link = &ngx_http_chatport_redis_nodes[i];

            link->name = "command";
            link->cluster = 1;
            link->node = i;
            ngx_http_chatport_redis_link_init(link, cycle);

            if (i < ngx_http_chatport_cluster_seeds()) {
                ngx_http_chatport_redis_connect(link);
            }
        }

    } else {
        ngx_http_chatport_redis_cmd_link.text = &cmcf->redis_text;
        ngx_http_chatport_redis_sub_link.text = &cmcf->redis_text;
        n = 2;
    }

    for (i = 0; i < n; i++) {
        ngx_http_chatport_redis_link_init(links[i], cycle);

        /* with a Sentinel, the master's links wait until it is known */
        if (cmcf->sentinels == NULL || links[i]->sentinel) {
            ngx_http_chatport_redis_connect(links[i]);
        }
    }

    return NGX_OK;
}


static void
ngx_http_chatport_redis_link_init(ngx_http_chatport_redis_link_t *link,
    ngx_cycle_t *cycle)
{
    link->reconnect.handler = ngx_http_chatport_redis_reconnect;
    link->reconnect.data = link;
    link->reconnect.log = cycle->log;
    link->reconnect.cancelable = 1;
    link->backoff = NGX_HTTP_CHATPORT_REDIS_BACKOFF_MIN;

    link->heartbeat.handler = ngx_http_chatport_redis_heartbeat;
    link->heartbeat.data = link;
    link->heartbeat.log = cycle->log;
    link->heartbeat.cancelable = 1;

    link->flush.handler = ngx_http_chatport_redis_flush;
    link->flush.data = link;
    link->flush.log = cycle->log;

    ngx_queue_init(&link->unwaited);
    ngx_queue_init(&link->waited);
}


void
ngx_http_chatport_redis_exit(void)
{
    ngx_uint_t  i;

    ngx_http_chatport_redis_exiting = 1;

    ngx_http_chatport_redis_close(&ngx_http_chatport_redis_cmd_link);
    ngx_http_chatport_redis_close(&ngx_http_chatport_redis_sub_link);
    ngx_http_chatport_redis_close(&ngx_http_chatport_redis_sentinel_link);

    for (i = 0; i < NGX_HTTP_CHATPORT_CLUSTER_NODES; i++) {
        ngx_http_chatport_redis_close(&ngx_http_chatport_redis_nodes[i]);
    }

    ngx_http_chatport_resp_exit();
}


/* a connected cluster node, to ask for the map; NULL if none is */

redisAsyncContext *
ngx_http_chatport_redis_node_ac(void)
{
    ngx_uint_t  i;

    for (i = 0; i < NGX_HTTP_CHATPORT_CLUSTER_NODES; i++) {
        if (ngx_http_chatport_redis_nodes[i].state
            == NGX_HTTP_CHATPORT_LINK_READY)
        {
            return ngx_http_chatport_redis_nodes[i].ac;
        }
    }

    return NULL;
}


/* a node that owns no slot: its link closes, and stays closed */

void
ngx_http_chatport_redis_node_drop(ngx_uint_t node)
{
    ngx_http_chatport_redis_link_t  *link;

    link = &ngx_http_chatport_redis_nodes[node];

    if (link->dropped) {
        return;
    }

    link->dropped = 1;
    link->down_logged = 0;

    if (link->ac || link->reconnect.timer_set) {
        ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                      "chatport: redis cluster node %V owns no slots, "
                      "its connection is closed",
                      &ngx_http_chatport_cluster_addr(node)->text);
    }

    ngx_http_chatport_redis_close(link);
}


/*
 * The Sentinel's answer: a master elsewhere than the links are is
 * followed at once, and whatever they were waiting for fails (503).
 * Only a numeric address is taken, as hiredis would resolve a name with
 * a blocking call.
 */

void
ngx_http_chatport_redis_set_master(u_char *host, size_t len, ngx_int_t port)
{
    ngx_uint_t                 numeric;
    ngx_http_chatport_addr_t  *m = &ngx_http_chatport_redis_master;
#if (NGX_HAVE_INET6)
    u_char                     buf[16];
#endif

    numeric = (ngx_inet_addr(host, len) != INADDR_NONE);

#if (NGX_HAVE_INET6)
    if (!numeric) {
        numeric = (ngx_inet6_addr(host, len, buf) == NGX_OK);
    }
#endif

    if (!numeric || len > NGX_SOCKADDR_STRLEN || port <= 0 || port > 65535) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "chatport: the sentinels name the master \"%*s\" "
                      "port %i: an IP address and port are needed",
                      len, host, port);
        return;
    }

    if (m->port == port && m->host.len == len
        && ngx_strncmp(m->host.data, host, len) == 0)
    {
        return;
    }

    m->host.data = ngx_http_chatport_redis_master_text;
    m->host.len = len;
    m->port = port;
    *ngx_cpymem(m->host.data, host, len) = '\0';

    /* "host:port" after the host's terminating null */
    m->text.data = m->host.data + len + 1;
    m->text.len = ngx_sprintf(m->text.data, "%*s:%i", len, host, port)
                  - m->text.data;

    ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                  "chatport: redis master \"%V\" is %V",
                  &ngx_http_chatport_redis_conf->sentinel_name, &m->text);

    ngx_http_chatport_redis_switching = 1;
    ngx_http_chatport_redis_restart(&ngx_http_chatport_redis_cmd_link);
    ngx_http_chatport_redis_restart(&ngx_http_chatport_redis_sub_link);
    ngx_http_chatport_redis_switching = 0;
}


/*
 * Closes a link and connects it again now, not after a backoff. The
 * channels of a pub/sub link are told they are gone, so that the next
 * waiter of each subscribes again.
 */

static void
ngx_http_chatport_redis_restart(ngx_http_chatport_redis_link_t *link)
{
    ngx_uint_t  subscribed;

    subscribed = link->pubsub && !link->sentinel
                 && link->state == NGX_HTTP_CHATPORT_LINK_READY;

    ngx_http_chatport_redis_close(link);

    if (subscribed) {
        ngx_http_chatport_redis_on_sub(0);
    }

    if (link->reconnect.timer_set) {
        ngx_del_timer(&link->reconnect);
    }

    link->backoff = NGX_HTTP_CHATPORT_REDIS_BACKOFF_MIN;

    if (!ngx_http_chatport_redis_exiting && !ngx_exiting) {
        ngx_http_chatport_redis_connect(link);
    }
}


/*
 * The master's links failed, or it answered as a replica: the sentinels
 * are asked again, by a new connection to the next one (the one open is
 * subscribed and takes no other command). One that is still connecting
 * will ask anyway.
 */

static void
ngx_http_chatport_redis_lost(ngx_http_chatport_redis_link_t *link)
{
    if (ngx_http_chatport_redis_conf->cluster) {
        /* a failover may have made a replica its slots' master */
        if (!ngx_http_chatport_redis_exiting && !ngx_exiting) {
            ngx_http_chatport_cluster_refresh();
        }

        return;
    }

    if (ngx_http_chatport_redis_conf->sentinels == NULL || link->sentinel
        || ngx_http_chatport_redis_switching || ngx_http_chatport_redis_exiting
        || ngx_exiting)
    {
        return;
    }

    if (ngx_http_chatport_redis_sentinel_link.state
        == NGX_HTTP_CHATPORT_LINK_READY)
    {
        ngx_http_chatport_redis_restart(
                                      &ngx_http_chatport_redis_sentinel_link);
    }
}


void
ngx_http_chatport_redis_script_init(ngx_http_chatport_redis_script_t *script)
{
    u_char      digest[20];
    ngx_sha1_t  sha1;

    ngx_sha1_init(&sha1);
    ngx_sha1_update(&sha1, script->source.data, script->source.len);
    ngx_sha1_final(digest, &sha1);

    ngx_hex_dump(script->sha1, digest, 20);
    script->sha1[40] = '\0';
}


static void
ngx_http_chatport_redis_connect(ngx_http_chatport_redis_link_t *link)
{
    ngx_http_chatport_main_conf_t  *cmcf = ngx_http_chatport_redis_conf;

    ngx_str_t                 *password;
    ngx_connection_t          *c;
    redisAsyncContext         *ac;
    ngx_http_chatport_addr_t  *addr;

    password = &cmcf->redis_password;

    if (link->sentinel) {
        addr = ngx_http_chatport_sentinel_next();
        link->text = &addr->text;

        if (cmcf->sentinel_password.len) {
            password = &cmcf->sentinel_password;
        }

        ac = redisAsyncConnect((char *) addr->host.data, (int) addr->port);

    } else if (link->cluster || (cmcf->cluster && link->pubsub)) {
        addr = link->cluster ? ngx_http_chatport_cluster_addr(link->node)
                             : ngx_http_chatport_cluster_sub_next();
        link->text = &addr->text;

        ac = redisAsyncConnect((char *) addr->host.data, (int) addr->port);

    } else if (cmcf->sentinels) {
        addr = &ngx_http_chatport_redis_master;

        if (addr->port == 0) {
            link->state = NGX_HTTP_CHATPORT_LINK_DOWN;
            return;
        }

        ac = redisAsyncConnect((char *) addr->host.data, (int) addr->port);

    } else if (cmcf->redis_port) {
        ac = redisAsyncConnect((char *) cmcf->redis_host.data,
                               (int) cmcf->redis_port);
    } else {
        ac = redisAsyncConnectUnix((char *) cmcf->redis_unix.data);
    }

    if (ac == NULL) {
        ngx_http_chatport_redis_schedule(link);
        return;
    }

    if (ac->err) {
        if (!link->down_logged) {
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "chatport: redis %s connection to %V failed: %s",
                          link->name, link->text, ac->errstr);
            link->down_logged = 1;
        }

        redisAsyncFree(ac);
        ngx_http_chatport_redis_schedule(link);
        return;
    }

    c = ngx_get_connection(ac->c.fd, ngx_cycle->log);
    if (c == NULL) {
        redisAsyncFree(ac);
        ngx_http_chatport_redis_schedule(link);
        return;
    }

    c->data = link;
    c->read->handler = ngx_http_chatport_redis_read_handler;
    c->write->handler = ngx_http_chatport_redis_write_handler;
    c->read->log = c->log;
    c->write->log = c->log;

    link->ac = ac;
    link->conn = c;
    link->state = NGX_HTTP_CHATPORT_LINK_CONNECTING;

    ac->data = link;
    ac->ev.data = link;
    ac->ev.addRead = ngx_http_chatport_redis_add_read;
    ac->ev.delRead = ngx_http_chatport_redis_del_read;
    ac->ev.addWrite = ngx_http_chatport_redis_add_write;
    ac->ev.delWrite = ngx_http_chatport_redis_del_write;
    ac->ev.cleanup = ngx_http_chatport_redis_cleanup;

    redisAsyncSetConnectCallback(ac, ngx_http_chatport_redis_connected);

    /* these go out first, on every (re)connect */

    link->setup_pending = 0;

    if (password->len) {
        link->setup_pending++;
        redisAsyncCommand(ac, ngx_http_chatport_redis_setup_done, link,
                          "AUTH %b", password->data, password->len);
    }

    if (cmcf->redis_db && !link->sentinel) {
        link->setup_pending++;
        redisAsyncCommand(ac, ngx_http_chatport_redis_setup_done, link,
                          "SELECT %d", (int) cmcf->redis_db);
    }

    if (cmcf->sentinels && !link->sentinel) {
        link->setup_pending++;
        redisAsyncCommand(ac, ngx_http_chatport_redis_role, link, "ROLE");
    }

    /* a server that takes the connection but never answers is left */
    ngx_add_timer(&link->heartbeat, cmcf->redis_timeout);

    /* the connect completes with the first write event */
    ngx_http_chatport_redis_add_write(link);
}


static void
ngx_http_chatport_redis_schedule(ngx_http_chatport_redis_link_t *link)
{
    ngx_msec_t  delay;

    link->state = NGX_HTTP_CHATPORT_LINK_DOWN;

    if (ngx_http_chatport_redis_exiting || ngx_exiting || ngx_quit
        || ngx_terminate || link->dropped)
    {
        return;
    }

    ngx_http_chatport_redis_lost(link);

    /* capped exponential backoff, with jitter so workers spread out */
    delay = link->backoff + ngx_random() % (link->backoff / 4 + 1);

    link->backoff = ngx_min(link->backoff * 2,
                            NGX_HTTP_CHATPORT_REDIS_BACKOFF_MAX);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "chatport: redis %s reconnect in %M ms", link->name,
                   delay);

    if (!link->reconnect.timer_set) {
        ngx_add_timer(&link->reconnect, delay);
    }
}


static void
ngx_http_chatport_redis_reconnect(ngx_event_t *ev)
{
    ngx_http_chatport_redis_link_t  *link = ev->data;

    if (ngx_http_chatport_redis_exiting || ngx_exiting) {
        return;
    }

    ngx_http_chatport_redis_connect(link);
}


static void
ngx_http_chatport_redis_connected(const redisAsyncContext *ac, int status)
{
    ngx_http_chatport_redis_link_t  *link = ac->data;

    if (status != REDIS_OK) {
        /* hiredis frees the context next; the cleanup hook reschedules */
        if (!link->down_logged) {
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "chatport: redis %s connection to %V failed: %s",
                          link->name, link->text, ac->errstr);
            link->down_logged = 1;
        }

        return;
    }

    /* with AUTH or SELECT, the link is ready once they have succeeded */
    if (link->setup_pending == 0) {
        ngx_http_chatport_redis_ready(link);
    }
}


static void
ngx_http_chatport_redis_ready(ngx_http_chatport_redis_link_t *link)
{
    link->state = NGX_HTTP_CHATPORT_LINK_READY;
    link->backoff = NGX_HTTP_CHATPORT_REDIS_BACKOFF_MIN;

    if (link->down_logged) {
        ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                      "chatport: redis %s connection to %V is back",
                      link->name, link->text);
        link->down_logged = 0;
    }

    if (link->heartbeat.timer_set) {
        ngx_del_timer(&link->heartbeat);
    }

    if (link->sentinel) {
        link->heartbeat_sent = 0;
        ngx_add_timer(&link->heartbeat, NGX_HTTP_CHATPORT_REDIS_HEARTBEAT);

        ngx_http_chatport_sentinel_ready(link->ac);

    } else if (link->pubsub) {
        link->heartbeat_sent = 0;
        ngx_add_timer(&link->heartbeat, NGX_HTTP_CHATPORT_REDIS_HEARTBEAT);

        ngx_http_chatport_redis_on_sub(1);

    } else {
        if (link->cluster) {
            ngx_http_chatport_cluster_link_ready(link->ac);
        }

        ngx_http_chatport_redis_hint(link->ac);
        ngx_http_chatport_redis_on_cmd_ready();
    }
}


static void
ngx_http_chatport_redis_setup_done(redisAsyncContext *ac, void *r,
    void *privdata)
{
    redisReply                      *reply = r;
    ngx_http_chatport_redis_link_t  *link = privdata;

    if (reply == NULL) {
        return;
    }

    if (reply->type != REDIS_REPLY_ERROR) {
        if (--link->setup_pending == 0) {
            ngx_http_chatport_redis_ready(link);
        }

        return;
    }

    if (!link->down_logged) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "chatport: redis %s connection to %V: AUTH or SELECT "
                      "failed: %*s", link->name, link->text,
                      (size_t) reply->len, reply->str);
        link->down_logged = 1;
    }

    link->state = NGX_HTTP_CHATPORT_LINK_DOWN;

    /* safe inside a callback: hiredis defers it */
    redisAsyncDisconnect(ac);
}


/* the server the Sentinel named must be a master still */

static void
ngx_http_chatport_redis_role(redisAsyncContext *ac, void *r, void *privdata)
{
    redisReply                      *reply = r;
    ngx_http_chatport_redis_link_t  *link = privdata;

    if (reply == NULL) {
        return;
    }

    if (reply->type == REDIS_REPLY_ARRAY && reply->elements > 0
        && reply->element[0]->type == REDIS_REPLY_STRING
        && reply->element[0]->len == 6
        && ngx_strncmp(reply->element[0]->str, "master", 6) == 0)
    {
        if (--link->setup_pending == 0) {
            ngx_http_chatport_redis_ready(link);
        }

        return;
    }

    ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                  "chatport: redis %s connection to %V: not a master, "
                  "asking the sentinels again", link->name, link->text);

    link->down_logged = 1;
    link->state = NGX_HTTP_CHATPORT_LINK_DOWN;

    redisAsyncDisconnect(ac);
}


static void
ngx_http_chatport_redis_close(ngx_http_chatport_redis_link_t *link)
{
    redisAsyncContext  *ac;

    if (link->reconnect.timer_set) {
        ngx_del_timer(&link->reconnect);
    }

    if (link->heartbeat.timer_set) {
        ngx_del_timer(&link->heartbeat);
    }

    ac = link->ac;

    if (ac == NULL) {
        return;
    }

    link->state = NGX_HTTP_CHATPORT_LINK_DOWN;

    /* runs every pending callback with NULL, then the cleanup hook */
    redisAsyncFree(ac);
}


static void
ngx_http_chatport_redis_heartbeat(ngx_event_t *ev)
{
    ngx_http_chatport_redis_link_t  *link = ev->data;

    if (link->ac == NULL) {
        return;
    }

    if (link->state == NGX_HTTP_CHATPORT_LINK_CONNECTING) {
        ngx_log_error(NGX_LOG_ERR, ev->log, 0,
                      "chatport: redis %s connection to %V: not ready in "
                      "%M ms, reconnecting", link->name, link->text,
                      ngx_http_chatport_redis_conf->redis_timeout);
        link->down_logged = 1;

        redisAsyncFree(link->ac);
        return;
    }

    if (link->state != NGX_HTTP_CHATPORT_LINK_READY) {
        return;
    }

    if (link->heartbeat_sent) {
        ngx_log_error(NGX_LOG_ERR, ev->log, 0,
                      "chatport: redis %s connection to %V: no heartbeat "
                      "reply in %M ms, reconnecting", link->name, link->text,
                      ngx_http_chatport_redis_conf->redis_timeout);

        /* as if Redis had closed it: the cleanup hook takes over */
        redisAsyncFree(link->ac);
        return;
    }

    if (redisAsyncCommand(link->ac, ngx_http_chatport_redis_message, NULL,
                          "SUBSCRIBE " NGX_HTTP_CHATPORT_REDIS_HB_CHANNEL)
        != REDIS_OK)
    {
        return;
    }

    link->heartbeat_sent = 1;
    ngx_add_timer(ev, ngx_http_chatport_redis_conf->redis_timeout);
}


static void
ngx_http_chatport_redis_read_handler(ngx_event_t *ev)
{
    ngx_connection_t                *c = ev->data;
    ngx_http_chatport_redis_link_t  *link = c->data;

    /* anything from Redis shows that the connection is alive */
    if (link->heartbeat_sent) {
        link->heartbeat_sent = 0;
        ngx_add_timer(&link->heartbeat, NGX_HTTP_CHATPORT_REDIS_HEARTBEAT);
    }

    if (link->ac) {
        redisAsyncHandleRead(link->ac);
    }
}


static void
ngx_http_chatport_redis_write_handler(ngx_event_t *ev)
{
    ngx_connection_t                *c = ev->data;
    ngx_http_chatport_redis_link_t  *link = c->data;

    if (link->ac) {
        redisAsyncHandleWrite(link->ac);
    }
}


static void
ngx_http_chatport_redis_add_read(void *privdata)
{
    ngx_http_chatport_redis_link_t  *link = privdata;

    if (link->conn && !link->conn->read->active) {
        (void) ngx_add_event(link->conn->read, NGX_READ_EVENT,
                             NGX_LEVEL_EVENT);
    }
}


static void
ngx_http_chatport_redis_del_read(void *privdata)
{
    ngx_http_chatport_redis_link_t  *link = privdata;

    if (link->conn && link->conn->read->active) {
        (void) ngx_del_event(link->conn->read, NGX_READ_EVENT, 0);
    }
}


static void
ngx_http_chatport_redis_flush(ngx_event_t *ev)
{
    ngx_http_chatport_redis_link_t  *link = ev->data;

    if (link->ac && (link->ac->c.flags & REDIS_CONNECTED)) {
        link->flushing = 1;
        redisAsyncHandleWrite(link->ac);
        link->flushing = 0;
    }
}


/*
 * hiredis asks to write when a command is queued. Once connected, what a
 * turn of the event loop queued goes out at its end (a posted event)
 * rather than after another epoll_wait() and a pair of epoll_ctl()s; a
 * command that finds nothing else in flight goes out at once, so Redis
 * works on it while the worker reads the turn's other requests (commands
 * sent in lock-step left both processes idle a third of the time). The
 * write event is left for a full socket buffer, and for the connect.
 */

static void
ngx_http_chatport_redis_add_write(void *privdata)
{
    ngx_http_chatport_redis_link_t  *link = privdata;

    int                 done;
    redisAsyncContext  *ac;

    ac = link->ac;

    if (link->conn == NULL) {
        return;
    }

    if (ac && (ac->c.flags & REDIS_CONNECTED) && !link->flushing) {

        /*
         * not through redisAsyncHandleWrite(): its error path would run
         * the callbacks inside redisAsyncCommand(); an error is kept in
         * the context, and the posted flush meets it. A subscription
         * has no reply in flight to count: it always waits for the end
         * of the turn.
         */
        if (!link->pubsub && ac->replies.head == ac->replies.tail
            && redisBufferWrite(&ac->c, &done) == REDIS_OK && done)
        {
            ngx_http_chatport_redis_add_read(link);
            return;
        }

        if (!link->flush.posted) {
            ngx_post_event(&link->flush, &ngx_posted_events);
        }

        return;
    }

    if (!link->conn->write->active) {
        (void) ngx_add_event(link->conn->write, NGX_WRITE_EVENT,
                             NGX_LEVEL_EVENT);
    }
}


static void
ngx_http_chatport_redis_del_write(void *privdata)
{
    ngx_http_chatport_redis_link_t  *link = privdata;

    if (link->conn && link->conn->write->active) {
        (void) ngx_del_event(link->conn->write, NGX_WRITE_EVENT, 0);
    }
}


/* hiredis is about to free the context and close its socket */

static void
ngx_http_chatport_redis_cleanup(void *privdata)
{
    ngx_http_chatport_redis_link_t  *link = privdata;

    ngx_connection_t  *c;

    c = link->conn;

    if (link->flush.posted) {
        ngx_delete_posted_event(&link->flush);
    }

    if (c) {
        ngx_http_chatport_redis_del_read(link);
        ngx_http_chatport_redis_del_write(link);
        ngx_free_connection(c);
        c->fd = (ngx_socket_t) -1;
    }

    link->conn = NULL;
    link->ac = NULL;

    if (link->heartbeat.timer_set) {
        ngx_del_timer(&link->heartbeat);
    }

    if (link->state == NGX_HTTP_CHATPORT_LINK_READY
        && !ngx_http_chatport_redis_exiting)
    {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "chatport: redis %s connection to %V lost",
                      link->name, link->text);
        link->down_logged = 1;
    }

    if (link->pubsub && !link->sentinel
        && link->state == NGX_HTTP_CHATPORT_LINK_READY)
    {
        link->state = NGX_HTTP_CHATPORT_LINK_DOWN;
        ngx_http_chatport_redis_on_sub(0);
    }

    ngx_http_chatport_redis_schedule(link);
}


ngx_int_t
ngx_http_chatport_redis_command(ngx_http_chatport_redis_pt handler,
    void *data, ngx_http_chatport_redis_cmd_t **cmdp, int argc,
    const char **argv, const size_t *argvlen)
{
    return ngx_http_chatport_redis_eval(NULL, handler, data, cmdp, argc, argv,
                                        argvlen);
}


/*
 * Runs a script by its SHA1 (or a plain command when script is NULL).
 * Returns NGX_OK when the handler will be called, NGX_DECLINED when
 * Redis is unavailable now, NGX_ERROR on a memory error.
 */

ngx_int_t
ngx_http_chatport_redis_eval(ngx_http_chatport_redis_script_t *script,
    ngx_http_chatport_redis_pt handler, void *data,
    ngx_http_chatport_redis_cmd_t **cmdp, int argc, const char **argv,
    const size_t *argvlen)
{
    int                             i, n;
    ngx_int_t                       rc;
    ngx_http_chatport_redis_cmd_t  *cmd;

    if (ngx_http_chatport_redis_conf->cluster == NULL
        && (ngx_http_chatport_redis_cmd_link.state
            == NGX_HTTP_CHATPORT_LINK_DOWN
            || ngx_http_chatport_redis_cmd_link.ac == NULL))
    {
        return NGX_DECLINED;
    }

    /* "EVALSHA sha1" go before the arguments */
    n = script ? argc + 2 : argc;

    cmd = ngx_alloc(sizeof(ngx_http_chatport_redis_cmd_t)
                    + n * (sizeof(char *) + sizeof(size_t)),
                    ngx_cycle->log);
    if (cmd == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(cmd, sizeof(ngx_http_chatport_redis_cmd_t));

    cmd->handler = handler;
    cmd->data = data;
    cmd->script = script;
    cmd->waits = (script && script->wait
                  && ngx_http_chatport_redis_conf->redis_wait) ? 1 : 0;
    cmd->argc = n;
    cmd->argv = (const char **) (cmd + 1);
    cmd->argvlen = (size_t *) (cmd->argv + n);

    cmd->timer.handler = ngx_http_chatport_redis_timeout;
    cmd->timer.data = cmd;
    cmd->timer.log = ngx_cycle->log;

    cmd->retry.handler = ngx_http_chatport_redis_again;
    cmd->retry.data = cmd;
    cmd->retry.log = ngx_cycle->log;

    cmd->ask = -1;

    i = 0;

    if (script) {
        cmd->argv[0] = "EVALSHA";
        cmd->argvlen[0] = 7;
        cmd->argv[1] = (const char *) script->sha1;
        cmd->argvlen[1] = 40;
        i = 2;
    }

    ngx_memcpy(&cmd->argv[i], argv, argc * sizeof(char *));
    ngx_memcpy(&cmd->argvlen[i], argvlen, argc * sizeof(size_t));

    rc = ngx_http_chatport_redis_send(cmd);

    if (rc != NGX_OK) {
        ngx_free(cmd);
        return rc;
    }

    if (cmdp) {
        *cmdp = cmd;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_chatport_redis_send(ngx_http_chatport_redis_cmd_t *cmd)
{
    ngx_msec_t                       timeout;
    redisAsyncContext               *ac;
    ngx_http_chatport_redis_link_t  *link;

    link = ngx_http_chatport_redis_route(cmd);
    ac = link ? link->ac : NULL;

    /* an ASK is for this one command, and goes after an ASKING */
    if (ac && cmd->ask >= 0
        && redisAsyncCommand(ac, NULL, NULL, "ASKING") != REDIS_OK)
    {
        ac = NULL;
    }

    cmd->ask = -1;

    if (ac == NULL
        || ngx_http_chatport_resp_send(ac, ngx_http_chatport_redis_done, cmd,
                                       cmd->argc, cmd->argv, cmd->argvlen)
           != REDIS_OK)
    {
        return NGX_DECLINED;
    }

    cmd->link = link;

    if (cmd->waits) {
        /* a NOSCRIPT retry goes out again: the next WAIT covers it */
        if (cmd->queued) {
            ngx_queue_remove(&cmd->queue);
        }

        ngx_queue_insert_tail(&link->unwaited, &cmd->queue);
        cmd->queued = 1;

        ngx_http_chatport_redis_wait_next(link);
    }

    /*
     * any command may queue behind a WAIT under way, and a write waits
     * for the next one too
     */
    timeout = ngx_http_chatport_redis_conf->redis_timeout
              + 2 * ngx_http_chatport_redis_conf->redis_wait_timeout;

    if (!cmd->timer.timer_set) {
        ngx_add_timer(&cmd->timer, timeout);
    }

    return NGX_OK;
}


/*
 * The link for a command: the command link, or with a cluster the link
 * of the master its slot is on (connected now if it is not yet); NULL
 * when that master's link is down.
 */

static ngx_http_chatport_redis_link_t *
ngx_http_chatport_redis_route(ngx_http_chatport_redis_cmd_t *cmd)
{
    ngx_int_t                        node;
    ngx_http_chatport_redis_link_t  *link;

    if (ngx_http_chatport_redis_conf->cluster == NULL) {
        return &ngx_http_chatport_redis_cmd_link;
    }

    node = cmd->ask >= 0 ? cmd->ask
                         : ngx_http_chatport_cluster_route(cmd->argc,
                                                           cmd->argv,
                                                           cmd->argvlen);

    if (node == NGX_DECLINED) {
        /* no map yet: any node answers, MOVED if the slot is not its */
        for (node = 0; node < NGX_HTTP_CHATPORT_CLUSTER_NODES; node++) {
            if (ngx_http_chatport_redis_nodes[node].state
                == NGX_HTTP_CHATPORT_LINK_READY)
            {
                return &ngx_http_chatport_redis_nodes[node];
            }
        }

        return NULL;
    }

    link = &ngx_http_chatport_redis_nodes[node];

    if (link->ac == NULL && !link->reconnect.timer_set
        && !ngx_http_chatport_redis_exiting && !ngx_exiting)
    {
        link->dropped = 0;
        link->backoff = NGX_HTTP_CHATPORT_REDIS_BACKOFF_MIN;
        ngx_http_chatport_redis_connect(link);
    }

    if (link->ac == NULL) {
        ngx_http_chatport_cluster_refresh();
        return NULL;
    }

    return link;
}


/*
 * A cluster's MOVED, ASK or TRYAGAIN: NGX_OK when the command goes out
 * again (now or after a pause), NGX_ERROR when it cannot (too many
 * tries, or the node is down), NGX_DECLINED for any other reply.
 */

static ngx_int_t
ngx_http_chatport_redis_redirect(ngx_http_chatport_redis_cmd_t *cmd,
    redisReply *reply)
{
    ngx_int_t   node;
    ngx_uint_t  ask;

    if (ngx_http_chatport_redis_conf->cluster == NULL
        || reply == NULL || reply->type != REDIS_REPLY_ERROR)
    {
        return NGX_DECLINED;
    }

    /* a migration under way, or a master failing over: again shortly */
    if ((reply->len >= 8 && ngx_strncmp(reply->str, "TRYAGAIN", 8) == 0)
        || (reply->len >= 11
            && ngx_strncmp(reply->str, "CLUSTERDOWN", 11) == 0))
    {
        node = NGX_AGAIN;
        ask = 0;

    } else {
        node = ngx_http_chatport_cluster_redirect(reply->str, reply->len,
                                                  &ask);
        if (node == NGX_DECLINED) {
            return NGX_DECLINED;
        }
    }

    /* the arguments are the caller's: gone once it stopped waiting */
    if (cmd->handler == NULL
        || cmd->redirects++ == NGX_HTTP_CHATPORT_REDIS_REDIRECTS)
    {
        if (cmd->handler) {
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "chatport: redis cluster: still \"%*s\" after "
                          "%d tries", (size_t) reply->len, reply->str,
                          NGX_HTTP_CHATPORT_REDIS_REDIRECTS);
        }

        return NGX_ERROR;
    }

    /* it goes to the next WAIT of the link it is sent on */
    if (cmd->queued) {
        ngx_queue_remove(&cmd->queue);
        cmd->queued = 0;
    }

    if (node == NGX_AGAIN) {
        ngx_add_timer(&cmd->retry, NGX_HTTP_CHATPORT_REDIS_TRYAGAIN);
        return NGX_OK;
    }

    if (ask) {
        cmd->ask = node;
    }

    return ngx_http_chatport_redis_send(cmd) == NGX_OK ? NGX_OK : NGX_ERROR;
}


static void
ngx_http_chatport_redis_again(ngx_event_t *ev)
{
    ngx_http_chatport_redis_cmd_t  *cmd = ev->data;

    if (cmd->handler == NULL
        || ngx_http_chatport_redis_send(cmd) != NGX_OK)
    {
        ngx_http_chatport_redis_finish(cmd, NULL, NGX_ERROR);
    }
}


/* one WAIT under way at a time, for every write sent before it */

static void
ngx_http_chatport_redis_wait_next(ngx_http_chatport_redis_link_t *link)
{
    ngx_queue_t        *q;
    redisAsyncContext  *ac;

    ac = link->ac;

    if (link->waiting || ac == NULL || ngx_queue_empty(&link->unwaited)) {
        return;
    }

    if (redisAsyncCommand(ac, ngx_http_chatport_redis_waited, link,
                          "WAIT %d %d",
                          (int) ngx_http_chatport_redis_conf->redis_wait,
                          (int) ngx_http_chatport_redis_conf
                                ->redis_wait_timeout)
        != REDIS_OK)
    {
        /* the context is going: every write's callback runs with NULL */
        return;
    }

    link->waiting = 1;

    /* the unwaited writes move to the (empty) queue of this WAIT */
    q = &link->unwaited;

    ngx_queue_add(&link->waited, q);
    ngx_queue_init(q);
}


static void
ngx_http_chatport_redis_waited(redisAsyncContext *ac, void *r,
    void *privdata)
{
    redisReply                      *reply = r;
    ngx_http_chatport_redis_link_t  *link = privdata;

    ngx_int_t                       rc;
    ngx_queue_t                    *q;
    long long                       acked;
    ngx_http_chatport_redis_cmd_t  *cmd;

    link->waiting = 0;

    acked = (reply && reply->type == REDIS_REPLY_INTEGER) ? reply->integer
                                                           : -1;

    if (acked < 0) {
        rc = NGX_ERROR;

    } else if (acked >= ngx_http_chatport_redis_conf->redis_wait) {
        rc = NGX_OK;

    } else {
        rc = NGX_BUSY;

        if (!ngx_queue_empty(&link->waited)) {
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "chatport: redis WAIT: %L of %i replicas "
                          "acknowledged in %M ms by %V, writes are answered "
                          "503", acked,
                          ngx_http_chatport_redis_conf->redis_wait,
                          ngx_http_chatport_redis_conf->redis_wait_timeout,
                          link->text);
        }
    }

    while (!ngx_queue_empty(&link->waited)) {
        q = ngx_queue_head(&link->waited);
        ngx_queue_remove(q);

        cmd = ngx_queue_data(q, ngx_http_chatport_redis_cmd_t, queue);
        cmd->queued = 0;

        ngx_http_chatport_redis_finish(cmd, rc == NGX_ERROR ? NULL
                                                           : cmd->saved,
                                       rc);
    }

    if (reply) {
        ngx_http_chatport_redis_wait_next(link);
    }
}


/*
 * The arguments are the caller's and may be gone by the time a reply
 * comes; a NOSCRIPT retry therefore only happens from within this
 * callback's first run, while the caller still waits (handler set).
 */

static void
ngx_http_chatport_redis_done(redisAsyncContext *ac, void *r, void *privdata)
{
    redisReply                     *reply = r;
    ngx_http_chatport_redis_cmd_t  *cmd = privdata;

    if (reply && reply->type == REDIS_REPLY_ERROR
        && ngx_strstr(reply->str, "READONLY") != NULL)
    {
        /* a master turned replica under us */
        ngx_http_chatport_redis_lost(cmd->link);
    }

    switch (ngx_http_chatport_redis_redirect(cmd, reply)) {

    case NGX_OK:
        return;

    case NGX_ERROR:
        reply = NULL;
        break;

    default: /* NGX_DECLINED */
        break;
    }

    if (reply && reply->type == REDIS_REPLY_ERROR && cmd->script
        && cmd->handler && ngx_strncmp(reply->str, "NOSCRIPT", 8) == 0)
    {
        /* EVAL runs the script and leaves it cached for EVALSHA */
        cmd->argv[0] = "EVAL";
        cmd->argvlen[0] = 4;
        cmd->argv[1] = (const char *) cmd->script->source.data;
        cmd->argvlen[1] = cmd->script->source.len;
        cmd->script = NULL;

        if (ngx_http_chatport_redis_send(cmd) == NGX_OK) {
            return;
        }

        reply = NULL;
    }

    if (cmd->waits) {
        /* a stored write is answered with its WAIT; the reply is kept */
        if (reply && cmd->handler && cmd->queued
            && reply->type != REDIS_REPLY_ERROR)
        {
            cmd->saved = ngx_http_chatport_redis_copy(reply);

            if (cmd->saved) {
                return;
            }

            reply = NULL;
        }

        if (cmd->queued) {
            ngx_queue_remove(&cmd->queue);
            cmd->queued = 0;
        }
    }

    ngx_http_chatport_redis_finish(cmd, reply, reply ? NGX_OK : NGX_ERROR);
}


static void
ngx_http_chatport_redis_finish(ngx_http_chatport_redis_cmd_t *cmd,
    redisReply *reply, ngx_int_t rc)
{
    ngx_http_chatport_redis_pt  handler;

    if (cmd->timer.timer_set) {
        ngx_del_timer(&cmd->timer);
    }

    if (cmd->retry.timer_set) {
        ngx_del_timer(&cmd->retry);
    }

    handler = cmd->handler;

    if (handler) {
        cmd->handler = NULL;
        handler(cmd->data, reply, rc);
    }

    if (cmd->saved) {
        ngx_http_chatport_redis_copy_free(cmd->saved);
    }

    ngx_free(cmd);
}


/*
 * A reply kept until its WAIT is answered (hiredis frees its own when the
 * callback returns): a string, an integer or an array of them, as
 * scripts return them.
 */

static redisReply *
ngx_http_chatport_redis_copy(redisReply *reply)
{
    size_t       i;
    redisReply  *copy;

    copy = ngx_calloc(sizeof(redisReply), ngx_cycle->log);
    if (copy == NULL) {
        return NULL;
    }

    copy->type = reply->type;
    copy->integer = reply->integer;

    if (reply->str) {
        copy->str = ngx_alloc(reply->len + 1, ngx_cycle->log);
        if (copy->str == NULL) {
            goto failed;
        }

        ngx_memcpy(copy->str, reply->str, reply->len);
        copy->str[reply->len] = '\0';
        copy->len = reply->len;
    }

    if (reply->elements) {
        copy->element = ngx_calloc(reply->elements * sizeof(redisReply *),
                                   ngx_cycle->log);
        if (copy->element == NULL) {
            goto failed;
        }

        copy->elements = reply->elements;

        for (i = 0; i < reply->elements; i++) {
            copy->element[i] = ngx_http_chatport_redis_copy(reply->element[i]);
            if (copy->element[i] == NULL) {
                goto failed;
            }
        }
    }

    return copy;

failed:

    ngx_http_chatport_redis_copy_free(copy);
    return NULL;
}


static void
ngx_http_chatport_redis_copy_free(redisReply *reply)
{
    size_t  i;

    for (i = 0; i < reply->elements; i++) {
        if (reply->element[i]) {
            ngx_http_chatport_redis_copy_free(reply->element[i]);
        }
    }

    if (reply->element) {
        ngx_free(reply->element);
    }

    if (reply->str) {
        ngx_free(reply->str);
    }

    ngx_free(reply);
}


static void
ngx_http_chatport_redis_timeout(ngx_event_t *ev)
{
    ngx_http_chatport_redis_cmd_t  *cmd = ev->data;

    ngx_http_chatport_redis_pt  handler;

    ngx_log_error(NGX_LOG_ERR, ev->log, 0,
                  "chatport: redis did not answer in %M ms, reconnecting",
                  ngx_http_chatport_redis_conf->redis_timeout
                  + 2 * ngx_http_chatport_redis_conf->redis_wait_timeout);

    if (cmd->retry.timer_set) {
        /* between two tries: no connection holds it */
        ngx_http_chatport_redis_finish(cmd, NULL, NGX_ERROR);
        return;
    }

    handler = cmd->handler;

    if (handler) {
        cmd->handler = NULL;
        handler(cmd->data, NULL, NGX_ERROR);
    }

    /* frees the command through its callback, and reconnects */
    ngx_http_chatport_redis_close(cmd->link);
}


void
ngx_http_chatport_redis_cancel(ngx_http_chatport_redis_cmd_t *cmd)
{
    cmd->handler = NULL;
}


/*
 * A reply of the pub/sub link read as a message of one channel: NGX_OK
 * with the message split at its first space ("<head> <tail>"), NGX_DONE
 * for the channel's subscription or a message without a space,
 * NGX_DECLINED for another channel.
 */

ngx_int_t
ngx_http_chatport_redis_channel_message(redisReply *reply,
    ngx_str_t *channel, ngx_str_t *head, ngx_str_t *tail)
{
    u_char  *p, *last, *space;

    if (reply->element[1]->type != REDIS_REPLY_STRING
        || reply->element[1]->len != channel->len
        || ngx_strncmp(reply->element[1]->str, channel->data, channel->len)
           != 0)
    {
        return NGX_DECLINED;
    }

    if (reply->element[0]->type != REDIS_REPLY_STRING
        || reply->element[0]->len != 7
        || ngx_strncmp(reply->element[0]->str, "message", 7) != 0
        || reply->element[2]->type != REDIS_REPLY_STRING)
    {
        return NGX_DONE;
    }

    p = (u_char *) reply->element[2]->str;
    last = p + reply->element[2]->len;

    space = ngx_strlchr(p, last, ' ');
    if (space == NULL) {
        return NGX_DONE;
    }

    head->data = p;
    head->len = space - p;
    tail->data = space + 1;
    tail->len = last - tail->data;

    return NGX_OK;
}


ngx_uint_t
ngx_http_chatport_redis_sub_ready(void)
{
    return ngx_http_chatport_redis_sub_link.state
           == NGX_HTTP_CHATPORT_LINK_READY;
}


ngx_int_t
ngx_http_chatport_redis_subscribe(ngx_str_t *channel, ngx_uint_t subscribe)
{
    const char         *argv[2];
    size_t              argvlen[2];
    redisAsyncContext  *ac;

    ac = ngx_http_chatport_redis_sub_link.ac;

    if (ac == NULL
        || ngx_http_chatport_redis_sub_link.state
           != NGX_HTTP_CHATPORT_LINK_READY)
    {
        return NGX_DECLINED;
    }

    argv[0] = subscribe ? "SUBSCRIBE" : "UNSUBSCRIBE";
    argvlen[0] = subscribe ? 9 : 11;
    argv[1] = (const char *) channel->data;
    argvlen[1] = channel->len;

    if (redisAsyncCommandArgv(ac, ngx_http_chatport_redis_message, NULL, 2,
                              argv, argvlen)
        != REDIS_OK)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


static void
ngx_http_chatport_redis_message(redisAsyncContext *ac, void *r,
    void *privdata)
{
    redisReply  *reply = r;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || reply->elements < 3)
    {
        return;
    }

    ngx_http_chatport_redis_on_message(reply);
}
