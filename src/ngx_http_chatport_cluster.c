
/*
 * ChatPort: Redis Cluster.
 *
 * Every key is "chatport:{SITE}:...", and a script's keys all share its
 * site's hash tag: a command's slot is its first key's, and it goes to
 * the master owning that slot in the map "CLUSTER SLOTS" gives. The map
 * is asked for on start, after a MOVED (which also fixes its slot at
 * once), and whenever a node's connection is lost or refused (a failover
 * makes a replica the slots' master): at most one question at a time, at
 * most one each NGX_HTTP_CHATPORT_CLUSTER_AGAIN ms.
 *
 * The connections are the Redis link code's (ngx_http_chatport_redis.c):
 * one per master, made when a command first goes there and dropped when
 * the node owns no more slots; the pub/sub link goes to any one node, as
 * a PUBLISH reaches every node of the cluster.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_chatport_redis.h"
#include "ngx_http_chatport_cluster.h"


#define NGX_HTTP_CHATPORT_CLUSTER_SLOTS  16384
#define NGX_HTTP_CHATPORT_CLUSTER_NONE   0xff
#define NGX_HTTP_CHATPORT_CLUSTER_AGAIN  200


typedef struct {
    ngx_http_chatport_addr_t  addr;
    u_char                    buf[2 * NGX_SOCKADDR_STRLEN + 8];
    unsigned                  master:1;   /* owns slots in the map */
    unsigned                  listed:1;   /* in the map, or a seed */
} ngx_http_chatport_cluster_node_t;


static ngx_int_t ngx_http_chatport_cluster_node(u_char *host, size_t len,
    ngx_int_t port);
static void ngx_http_chatport_cluster_again(ngx_event_t *ev);
static void ngx_http_chatport_cluster_slots(redisAsyncContext *ac, void *r,
    void *privdata);
static ngx_int_t ngx_http_chatport_cluster_slot_node(redisReply *e);


static ngx_http_chatport_cluster_node_t
    ngx_http_chatport_cluster_nodes[NGX_HTTP_CHATPORT_CLUSTER_NODES];
static ngx_uint_t  ngx_http_chatport_cluster_nnodes;
static ngx_uint_t  ngx_http_chatport_cluster_nseeds;
static u_char      ngx_http_chatport_cluster_map[
                                            NGX_HTTP_CHATPORT_CLUSTER_SLOTS];
static ngx_uint_t  ngx_http_chatport_cluster_sub_index;

/* a CLUSTER SLOTS under way; one wanted; when the last went out */
static ngx_uint_t  ngx_http_chatport_cluster_asking;
static ngx_uint_t  ngx_http_chatport_cluster_wanted;
static ngx_msec_t  ngx_http_chatport_cluster_asked;
static ngx_event_t ngx_http_chatport_cluster_timer;


void
ngx_http_chatport_cluster_init(ngx_http_chatport_main_conf_t *cmcf)
{
    ngx_uint_t                 i;
    ngx_http_chatport_addr_t  *seed;

    ngx_http_chatport_cluster_nnodes = 0;
    ngx_memset(ngx_http_chatport_cluster_map, NGX_HTTP_CHATPORT_CLUSTER_NONE,
               NGX_HTTP_CHATPORT_CLUSTER_SLOTS);

    seed = cmcf->cluster->elts;

    for (i = 0; i < cmcf->cluster->nelts; i++) {
        (void) ngx_http_chatport_cluster_node(seed[i].host.data,
                                              seed[i].host.len, seed[i].port);
    }

    ngx_http_chatport_cluster_nseeds = ngx_http_chatport_cluster_nnodes;

    /* the workers start their pub/sub links at different nodes */
    ngx_http_chatport_cluster_sub_index = ngx_random();

    ngx_http_chatport_cluster_asking = 0;
    ngx_http_chatport_cluster_wanted = 1;
    ngx_http_chatport_cluster_asked = 0;

    ngx_http_chatport_timer_init(&ngx_http_chatport_cluster_timer,
                                 ngx_http_chatport_cluster_again);
}


ngx_uint_t
ngx_http_chatport_cluster_seeds(void)
{
    return ngx_http_chatport_cluster_nseeds;
}


ngx_http_chatport_addr_t *
ngx_http_chatport_cluster_addr(ngx_uint_t node)
{
    return &ngx_http_chatport_cluster_nodes[node].addr;
}


/* the node for the pub/sub link, round robin over the nodes in the map */

ngx_http_chatport_addr_t *
ngx_http_chatport_cluster_sub_next(void)
{
    ngx_uint_t                         i, n;
    ngx_http_chatport_cluster_node_t  *node;

    n = ngx_http_chatport_cluster_nnodes;

    for (i = 0; i < n; i++) {
        node = &ngx_http_chatport_cluster_nodes[
                                   ngx_http_chatport_cluster_sub_index++ % n];

        if (node->listed) {
            return &node->addr;
        }
    }

    return &ngx_http_chatport_cluster_nodes[0].addr;
}


/* Redis's key hash: CRC16-CCITT (XMODEM), polynomial 0x1021 */

static ngx_uint_t
ngx_http_chatport_cluster_crc16(const u_char *p, size_t len)
{
    uint16_t    crc;
    ngx_uint_t  i;

    crc = 0;

    while (len--) {
        crc ^= (uint16_t) *p++ << 8;

        for (i = 0; i < 8; i++) {
            crc = (crc & 0x8000) ? (uint16_t) ((crc << 1) ^ 0x1021)
                                 : (uint16_t) (crc << 1);
        }
    }

    return crc;
}


/* a key's slot: its hash tag's, the part in its first "{...}" */

static ngx_uint_t
ngx_http_chatport_cluster_keyslot(const u_char *key, size_t len)
{
    const u_char  *open, *close, *last;

    last = key + len;

    open = ngx_strlchr((u_char *) key, (u_char *) last, '{');

    if (open) {
        close = ngx_strlchr((u_char *) open + 1, (u_char *) last, '}');

        if (close && close > open + 1) {
            key = open + 1;
            len = close - key;
        }
    }

    return ngx_http_chatport_cluster_crc16(key, len)
           & (NGX_HTTP_CHATPORT_CLUSTER_SLOTS - 1);
}


/*
 * The master for a command ("EVALSHA sha1 numkeys key ...", "EVAL ...",
 * or "COMMAND key ..."), NGX_DECLINED when it has no key or its slot's
 * master is not known yet: any node then answers, MOVED if need be.
 */

ngx_int_t
ngx_http_chatport_cluster_route(int argc, const char **argv,
    const size_t *argvlen)
{
    ngx_int_t   k;
    ngx_uint_t  node;

    k = 1;

    if ((argvlen[0] == 4 && ngx_strncasecmp((u_char *) argv[0],
                                            (u_char *) "EVAL", 4) == 0)
        || (argvlen[0] == 7 && ngx_strncasecmp((u_char *) argv[0],
                                               (u_char *) "EVALSHA", 7) == 0))
    {
        if (argc < 4 || (argvlen[2] == 1 && argv[2][0] == '0')) {
            return NGX_DECLINED;
        }

        k = 3;
    }

    if (argc <= k) {
        return NGX_DECLINED;
    }

    node = ngx_http_chatport_cluster_map[
               ngx_http_chatport_cluster_keyslot((u_char *) argv[k],
                                                 argvlen[k])];

    if (node == NGX_HTTP_CHATPORT_CLUSTER_NONE) {
        ngx_http_chatport_cluster_refresh();
        return NGX_DECLINED;
    }

    return node;
}


/*
 * "MOVED <slot> <ip>:<port>" or "ASK <slot> <ip>:<port>": the node to
 * try, NGX_DECLINED for another error. MOVED changes the map.
 */

ngx_int_t
ngx_http_chatport_cluster_redirect(const char *err, size_t len,
    ngx_uint_t *ask)
{
    u_char     *p, *last, *slot, *colon;
    ngx_int_t   s, port, node;

    p = (u_char *) err;
    last = p + len;

    if (len > 6 && ngx_strncmp(p, "MOVED ", 6) == 0) {
        *ask = 0;
        p += 6;

    } else if (len > 4 && ngx_strncmp(p, "ASK ", 4) == 0) {
        *ask = 1;
        p += 4;

    } else {
        return NGX_DECLINED;
    }

    slot = p;
    p = ngx_strlchr(p, last, ' ');

    if (p == NULL) {
        return NGX_DECLINED;
    }

    s = ngx_atoi(slot, p - slot);
    p++;

    for (colon = last - 1; colon > p && *colon != ':'; colon--) {
        /* void */
    }

    port = ngx_atoi(colon + 1, last - colon - 1);

    if (s < 0 || s >= NGX_HTTP_CHATPORT_CLUSTER_SLOTS || colon == p) {
        return NGX_DECLINED;
    }

    node = ngx_http_chatport_cluster_node(p, colon - p, port);

    if (node == NGX_ERROR) {
        return NGX_DECLINED;
    }

    if (!*ask) {
        ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                      "chatport: redis cluster: slot %i moved to %V", s,
                      &ngx_http_chatport_cluster_nodes[node].addr.text);

        ngx_http_chatport_cluster_map[s] = (u_char) node;
        ngx_http_chatport_cluster_nodes[node].master = 1;
        ngx_http_chatport_cluster_nodes[node].listed = 1;

        /* the other slots that moved with it */
        ngx_http_chatport_cluster_refresh();
    }

    return node;
}


/*
 * A node by its address, added if new. Only a numeric address is taken,
 * as hiredis would resolve a name with a blocking call.
 */

static ngx_int_t
ngx_http_chatport_cluster_node(u_char *host, size_t len, ngx_int_t port)
{
    ngx_uint_t                         i, numeric;
    ngx_http_chatport_addr_t          *a;
    ngx_http_chatport_cluster_node_t  *node;
#if (NGX_HAVE_INET6)
    u_char                             buf[16];
#endif

    for (i = 0; i < ngx_http_chatport_cluster_nnodes; i++) {
        a = &ngx_http_chatport_cluster_nodes[i].addr;

        if (a->port == port && a->host.len == len
            && ngx_strncmp(a->host.data, host, len) == 0)
        {
            return i;
        }
    }

    numeric = (ngx_inet_addr(host, len) != INADDR_NONE);

#if (NGX_HAVE_INET6)
    if (!numeric) {
        numeric = (ngx_inet6_addr(host, len, buf) == NGX_OK);
    }
#endif

    if (!numeric || len > NGX_SOCKADDR_STRLEN || port <= 0 || port > 65535) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "chatport: redis cluster node \"%*s\" port %i: an IP "
                      "address and port are needed", len, host, port);
        return NGX_ERROR;
    }

    if (ngx_http_chatport_cluster_nnodes == NGX_HTTP_CHATPORT_CLUSTER_NODES) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "chatport: redis cluster: more than %d nodes, "
                      "%*s:%i left out", NGX_HTTP_CHATPORT_CLUSTER_NODES,
                      len, host, port);
        return NGX_ERROR;
    }

    node = &ngx_http_chatport_cluster_nodes[ngx_http_chatport_cluster_nnodes];

    ngx_memzero(node, sizeof(ngx_http_chatport_cluster_node_t));

    a = &node->addr;
    a->host.data = node->buf;
    a->host.len = len;
    a->port = port;
    *ngx_cpymem(a->host.data, host, len) = '\0';

    /* "host:port" after the host's terminating null */
    a->text.data = a->host.data + len + 1;
    a->text.len = ngx_sprintf(a->text.data, "%*s:%i", len, host, port)
                  - a->text.data;

    node->listed = 1;

    return ngx_http_chatport_cluster_nnodes++;
}


/* asks any connected node for the map, if it was not asked just now */

void
ngx_http_chatport_cluster_refresh(void)
{
    ngx_msec_t          since;
    redisAsyncContext  *ac;

    ngx_http_chatport_cluster_wanted = 1;

    if (ngx_http_chatport_cluster_asking
        || ngx_http_chatport_cluster_timer.timer_set || ngx_exiting)
    {
        return;
    }

    since = ngx_current_msec - ngx_http_chatport_cluster_asked;

    if (ngx_http_chatport_cluster_asked
        && since < NGX_HTTP_CHATPORT_CLUSTER_AGAIN)
    {
        ngx_add_timer(&ngx_http_chatport_cluster_timer,
                      NGX_HTTP_CHATPORT_CLUSTER_AGAIN - since);
        return;
    }

    /* none connected: the first that is asks (link_ready) */
    ac = ngx_http_chatport_redis_node_ac();

    if (ac == NULL
        || redisAsyncCommand(ac, ngx_http_chatport_cluster_slots, NULL,
                             "CLUSTER SLOTS")
           != REDIS_OK)
    {
        return;
    }

    ngx_http_chatport_cluster_wanted = 0;
    ngx_http_chatport_cluster_asking = 1;
    ngx_http_chatport_cluster_asked = ngx_current_msec;
}


static void
ngx_http_chatport_cluster_again(ngx_event_t *ev)
{
    ngx_http_chatport_cluster_refresh();
}


void
ngx_http_chatport_cluster_link_ready(redisAsyncContext *ac)
{
    if (ngx_http_chatport_cluster_wanted) {
        ngx_http_chatport_cluster_refresh();
    }
}


/* [start, end, [ip, port, id], replica ...] ... */

static void
ngx_http_chatport_cluster_slots(redisAsyncContext *ac, void *r,
    void *privdata)
{
    redisReply  *reply = r;

    ngx_int_t    node, start, end;
    ngx_uint_t   i, j, n;
    redisReply  *e;

    ngx_http_chatport_cluster_asking = 0;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
        if (reply) {
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "chatport: redis cluster node %s:%d: CLUSTER "
                          "SLOTS failed%s%*s", ac->c.tcp.host, ac->c.tcp.port,
                          reply->type == REDIS_REPLY_ERROR ? ": " : "",
                          reply->type == REDIS_REPLY_ERROR
                          ? (size_t) reply->len : 0,
                          reply->type == REDIS_REPLY_ERROR ? reply->str : "");
        }

        ngx_http_chatport_cluster_wanted = 1;
        return;
    }

    for (i = 0; i < ngx_http_chatport_cluster_nnodes; i++) {
        ngx_http_chatport_cluster_nodes[i].master = 0;
        ngx_http_chatport_cluster_nodes[i].listed = 0;
    }

    ngx_memset(ngx_http_chatport_cluster_map, NGX_HTTP_CHATPORT_CLUSTER_NONE,
               NGX_HTTP_CHATPORT_CLUSTER_SLOTS);

    n = 0;

    for (i = 0; i < reply->elements; i++) {
        e = reply->element[i];

        if (e->type != REDIS_REPLY_ARRAY || e->elements < 3
            || e->element[0]->type != REDIS_REPLY_INTEGER
            || e->element[1]->type != REDIS_REPLY_INTEGER)
        {
            continue;
        }

        start = e->element[0]->integer;
        end = e->element[1]->integer;

        if (start < 0 || end >= NGX_HTTP_CHATPORT_CLUSTER_SLOTS
            || start > end)
        {
            continue;
        }

        node = ngx_http_chatport_cluster_slot_node(e->element[2]);
        if (node == NGX_ERROR) {
            continue;
        }

        ngx_http_chatport_cluster_nodes[node].master = 1;
        ngx_memset(&ngx_http_chatport_cluster_map[start], (u_char) node,
                   end - start + 1);
        n += end - start + 1;

        /* replicas may take the pub/sub link */
        for (j = 3; j < e->elements; j++) {
            (void) ngx_http_chatport_cluster_slot_node(e->element[j]);
        }
    }

    if (n < NGX_HTTP_CHATPORT_CLUSTER_SLOTS) {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "chatport: redis cluster: %ui of %d slots have a "
                      "master", n, NGX_HTTP_CHATPORT_CLUSTER_SLOTS);
    }

    /* a node that owns no slot takes no command: its link goes */
    for (i = 0; i < ngx_http_chatport_cluster_nnodes; i++) {
        if (!ngx_http_chatport_cluster_nodes[i].master) {
            ngx_http_chatport_redis_node_drop(i);
        }
    }

    if (ngx_http_chatport_cluster_wanted) {
        ngx_http_chatport_cluster_refresh();
    }
}


static ngx_int_t
ngx_http_chatport_cluster_slot_node(redisReply *e)
{
    ngx_int_t  node;

    if (e->type != REDIS_REPLY_ARRAY || e->elements < 2
        || e->element[0]->type != REDIS_REPLY_STRING
        || e->element[1]->type != REDIS_REPLY_INTEGER)
    {
        return NGX_ERROR;
    }

    node = ngx_http_chatport_cluster_node((u_char *) e->element[0]->str,
                                          e->element[0]->len,
                                          (ngx_int_t) e->element[1]->integer);

    if (node != NGX_ERROR) {
        ngx_http_chatport_cluster_nodes[node].listed = 1;
    }

    return node;
}
