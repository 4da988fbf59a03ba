
/*
 * ChatPort: the outbox.
 *
 * A mail is recorded in Redis by the script that stores the form, the
 * message or the reply implying it (src/lua/mail_schedule.lua), as due
 * at a time. Each worker looks at the outbox of every site with mail when
 * something is due or announced on "chatport:mail", and at least every
 * half claim time: one script (src/lua/outbox_take.lua) moves what is due
 * into the site's outbox stream and gives this worker, a consumer of the
 * stream's group, the entries a dead sender left and new ones. A mail
 * leaves the stream only once the SMTP server accepted it, is scheduled
 * again with a growing delay after a failure, and is recorded as failed
 * on its conversation when the server refuses it for good or the retry
 * time is over. Only a sender dying between the server's acceptance and
 * that record makes a mail go twice.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_chatport_mail.h"
#include "ngx_http_chatport_outbox.h"
#include "ngx_http_chatport_smtp.h"
#include "ngx_http_chatport_store.h"
#include "ngx_http_chatport_lua.h"


#define NGX_HTTP_CHATPORT_OUTBOX_MAX          16     /* mails in flight */
#define NGX_HTTP_CHATPORT_OUTBOX_AGAIN        1000   /* Redis unavailable */
#define NGX_HTTP_CHATPORT_OUTBOX_LOOK_MIN     1000
#define NGX_HTTP_CHATPORT_OUTBOX_LOOK_MAX     30000
#define NGX_HTTP_CHATPORT_OUTBOX_BACKOFF      2000   /* the first retry */
#define NGX_HTTP_CHATPORT_OUTBOX_BACKOFF_MAX  (15 * 60 * 1000)

/* the inbox's lifetime when an entry does not tell the site's retention */
#define NGX_HTTP_CHATPORT_OUTBOX_KEEP  (30LL * 24 * 60 * 60 * 1000)


typedef struct {
    ngx_str_t                         name;
    ngx_str_t                         prefix;    /* of conversation keys */
    ngx_str_t                         inbox;
    ngx_str_t                         outbox;
    ngx_msec_t                        next;      /* when to look again */
    ngx_http_chatport_redis_cmd_t    *cmd;       /* a take under way */

    /* the take's command, kept for a NOSCRIPT retry */
    const char                       *argv[9];
    size_t                            lens[9];
    u_char                            count[NGX_INT_T_LEN];
} ngx_http_chatport_outbox_site_t;


typedef enum {
    NGX_HTTP_CHATPORT_MAIL_SENDING = 0,
    NGX_HTTP_CHATPORT_MAIL_RECORD,             /* to tell Redis */
    NGX_HTTP_CHATPORT_MAIL_RECORDING
} ngx_http_chatport_outbox_state_e;


typedef struct {
    ngx_queue_t                       queue;
    ngx_pool_t                       *pool;
    ngx_http_chatport_outbox_site_t  *site;
    ngx_str_t                         id;
    json_t                           *entry;
    ngx_http_chatport_mail_t          mail;
    ngx_http_chatport_outbox_state_e  state;
    ngx_http_chatport_redis_cmd_t    *cmd;

    /* the record: done, retry or fail */
    ngx_http_chatport_redis_script_t *script;
    ngx_str_t                         args[7];
    ngx_uint_t                        nkeys;
    ngx_uint_t                        nargs;
} ngx_http_chatport_outbox_mail_t;


static void ngx_http_chatport_outbox_tick(ngx_event_t *ev);
static void ngx_http_chatport_outbox_arm(ngx_msec_t delay);
static void ngx_http_chatport_outbox_take(
    ngx_http_chatport_outbox_site_t *site);
static void ngx_http_chatport_outbox_taken(void *data, redisReply *reply,
    ngx_int_t rc);
static void ngx_http_chatport_outbox_accept(
    ngx_http_chatport_outbox_site_t *site, redisReply *id, redisReply *json);
static void ngx_http_chatport_outbox_sent(void *data, ngx_int_t rc,
    ngx_str_t *error);
static ngx_int_t ngx_http_chatport_outbox_retry(
    ngx_http_chatport_outbox_mail_t *m, ngx_str_t *error);
static ngx_int_t ngx_http_chatport_outbox_fail(
    ngx_http_chatport_outbox_mail_t *m, ngx_str_t *error);
static ngx_int_t ngx_http_chatport_outbox_dump(ngx_pool_t *pool,
    json_t *json, ngx_str_t *out);
static void ngx_http_chatport_outbox_record(
    ngx_http_chatport_outbox_mail_t *m);
static void ngx_http_chatport_outbox_recorded(void *data, redisReply *reply,
    ngx_int_t rc);
static void ngx_http_chatport_outbox_free(ngx_http_chatport_outbox_mail_t *m);


/*
 * Under chatport_redis_wait a take is answered once the replicas have it:
 * a new master that never saw it would give the same mails to a second
 * sender at once. Mails taken but not yet safe are not sent here; they
 * are claimed again after the claim time.
 */
static ngx_http_chatport_redis_script_t  ngx_http_chatport_outbox_take_script =
    { ngx_string(NGX_HTTP_CHATPORT_LUA_NOW_MS
                 NGX_HTTP_CHATPORT_LUA_MESSAGE
                 NGX_HTTP_CHATPORT_LUA_AFTER_ID
                 NGX_HTTP_CHATPORT_LUA_OUTBOX_TAKE), { 0 }, 1 };

static ngx_http_chatport_redis_script_t  ngx_http_chatport_outbox_done_script =
    { ngx_string(NGX_HTTP_CHATPORT_LUA_OUTBOX_DONE), { 0 }, 0 };

static ngx_http_chatport_redis_script_t  ngx_http_chatport_outbox_retry_script =
    { ngx_string(NGX_HTTP_CHATPORT_LUA_NOW_MS
                 NGX_HTTP_CHATPORT_LUA_OUTBOX_RETRY), { 0 }, 0 };

static ngx_http_chatport_redis_script_t  ngx_http_chatport_outbox_fail_script =
    { ngx_string(NGX_HTTP_CHATPORT_LUA_EVENT
                 NGX_HTTP_CHATPORT_LUA_OUTBOX_FAIL), { 0 }, 0 };


static ngx_str_t  ngx_http_chatport_outbox_channel =
    ngx_string("chatport:mail");

static ngx_http_chatport_outbox_site_t  *ngx_http_chatport_outbox_sites;
static ngx_uint_t                        ngx_http_chatport_outbox_nsites;
static ngx_queue_t                       ngx_http_chatport_outbox_mails;
static ngx_uint_t                        ngx_http_chatport_outbox_busy;
static ngx_event_t                       ngx_http_chatport_outbox_timer;
static ngx_msec_t                        ngx_http_chatport_outbox_look;
static ngx_msec_t                        ngx_http_chatport_outbox_retry_for;


ngx_int_t
ngx_http_chatport_outbox_init(ngx_cycle_t *cycle,
    ngx_http_chatport_main_conf_t *cmcf)
{
    ngx_str_t                        *names, keys[2], swept, claim, consumer;
    ngx_uint_t                        i;
    ngx_http_chatport_outbox_site_t  *site;

    ngx_http_chatport_outbox_nsites = 0;
    ngx_queue_init(&ngx_http_chatport_outbox_mails);

    if (cmcf->smtp.url.len == 0 || cmcf->mail_sites == NULL) {
        return NGX_OK;
    }

    if (ngx_http_chatport_smtp_init(cycle, &cmcf->smtp) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_chatport_redis_script_init(
                                      &ngx_http_chatport_outbox_take_script);
    ngx_http_chatport_redis_script_init(
                                      &ngx_http_chatport_outbox_done_script);
    ngx_http_chatport_redis_script_init(
                                     &ngx_http_chatport_outbox_retry_script);
    ngx_http_chatport_redis_script_init(
                                      &ngx_http_chatport_outbox_fail_script);

    /*
     * An entry pending longer than two whole SMTP transactions belongs to
     * a sender that is gone; each worker looks at least twice as often.
     */

    ngx_http_chatport_outbox_look = ngx_max(NGX_HTTP_CHATPORT_OUTBOX_LOOK_MIN,
                                            ngx_min(cmcf->smtp.timeout,
                                            NGX_HTTP_CHATPORT_OUTBOX_LOOK_MAX));
    ngx_http_chatport_outbox_retry_for = cmcf->mail_retry;

    if (ngx_http_chatport_store_number(cycle->pool, &claim,
                                       2 * (int64_t) cmcf->smtp.timeout)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    consumer.data = ngx_pnalloc(cycle->pool, cycle->hostname.len
                                             + 1 + NGX_INT64_LEN);
    if (consumer.data == NULL) {
        return NGX_ERROR;
    }

    consumer.len = ngx_sprintf(consumer.data, "%V:%P", &cycle->hostname,
                               ngx_pid)
                   - consumer.data;

    names = cmcf->mail_sites->elts;

    site = ngx_pcalloc(cycle->pool, cmcf->mail_sites->nelts
                                    * sizeof(ngx_http_chatport_outbox_site_t));
    if (site == NULL) {
        return NGX_ERROR;
    }

    ngx_http_chatport_outbox_sites = site;

    for (i = 0; i < cmcf->mail_sites->nelts; i++) {
        site = &ngx_http_chatport_outbox_sites[i];
        site->name = names[i];

        if (ngx_http_chatport_store_mail_keys(cycle->pool, &names[i], keys)
            != NGX_OK
            || ngx_http_chatport_store_key(cycle->pool, &site->outbox,
                                           "chatport:{%V}:outbox", &names[i])
               != NGX_OK
            || ngx_http_chatport_store_key(cycle->pool, &swept,
                                           "chatport:{%V}:outbox-swept",
                                           &names[i])
               != NGX_OK
            || ngx_http_chatport_store_key(cycle->pool, &site->prefix,
                                           "chatport:{%V}:conv:", &names[i])
               != NGX_OK
            || ngx_http_chatport_store_inbox_channel(cycle->pool, &names[i],
                                                     &site->inbox)
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        /* numkeys, KEYS: due, pending, outbox, swept; ARGV: prefix,
         * consumer, claim, count */

        site->argv[0] = "4";
        site->lens[0] = 1;
        site->argv[1] = (const char *) keys[0].data;
        site->lens[1] = keys[0].len;
        site->argv[2] = (const char *) keys[1].data;
        site->lens[2] = keys[1].len;
        site->argv[3] = (const char *) site->outbox.data;
        site->lens[3] = site->outbox.len;
        site->argv[4] = (const char *) swept.data;
        site->lens[4] = swept.len;
        site->argv[5] = (const char *) site->prefix.data;
        site->lens[5] = site->prefix.len;
        site->argv[6] = (const char *) consumer.data;
        site->lens[6] = consumer.len;
        site->argv[7] = (const char *) claim.data;
        site->lens[7] = claim.len;
        site->argv[8] = (const char *) site->count;

        site->next = ngx_current_msec;
    }

    ngx_http_chatport_outbox_nsites = cmcf->mail_sites->nelts;

    ngx_http_chatport_timer_init(&ngx_http_chatport_outbox_timer,
                                 ngx_http_chatport_outbox_tick);
    ngx_add_timer(&ngx_http_chatport_outbox_timer,
                  NGX_HTTP_CHATPORT_OUTBOX_AGAIN);

    return NGX_OK;
}


/* after the Redis links are closed: no reply can come back any more */

void
ngx_http_chatport_outbox_exit(void)
{
    ngx_queue_t                      *q;
    ngx_http_chatport_outbox_mail_t  *m;

    if (ngx_http_chatport_outbox_nsites == 0) {
        return;
    }

    if (ngx_http_chatport_outbox_timer.timer_set) {
        ngx_del_timer(&ngx_http_chatport_outbox_timer);
    }

    /* curl lets go of the mails before they are freed */
    ngx_http_chatport_smtp_exit();

    while (!ngx_queue_empty(&ngx_http_chatport_outbox_mails)) {
        q = ngx_queue_head(&ngx_http_chatport_outbox_mails);
        m = ngx_queue_data(q, ngx_http_chatport_outbox_mail_t, queue);
        ngx_http_chatport_outbox_free(m);
    }

    ngx_http_chatport_outbox_nsites = 0;
}


/* "<ms> <site>": a mail of the site is due in ms */

ngx_int_t
ngx_http_chatport_outbox_on_message(redisReply *reply)
{
    ngx_int_t                         rc, ms;
    ngx_str_t                         delay, name;
    ngx_uint_t                        i;
    ngx_http_chatport_outbox_site_t  *site;

    rc = ngx_http_chatport_redis_channel_message(reply,
                                             &ngx_http_chatport_outbox_channel,
                                             &delay, &name);
    if (rc != NGX_OK) {
        return rc == NGX_DECLINED ? NGX_DECLINED : NGX_OK;
    }

    ms = ngx_atoi(delay.data, delay.len);
    if (ms == NGX_ERROR) {
        return NGX_OK;
    }

    for (i = 0; i < ngx_http_chatport_outbox_nsites; i++) {
        site = &ngx_http_chatport_outbox_sites[i];

        if (site->name.len == name.len
            && ngx_strncmp(site->name.data, name.data, name.len) == 0)
        {
            if ((ngx_msec_int_t) (ngx_current_msec + ms - site->next) < 0) {
                site->next = ngx_current_msec + ms;
                ngx_http_chatport_outbox_arm(ms);
            }

            break;
        }
    }

    return NGX_OK;
}


/* news may have been missed while the link was down: look at once */

void
ngx_http_chatport_outbox_on_sub_state(ngx_uint_t up)
{
    ngx_uint_t  i;

    if (!up || ngx_http_chatport_outbox_nsites == 0) {
        return;
    }

    (void) ngx_http_chatport_redis_subscribe(&ngx_http_chatport_outbox_channel,
                                             1);

    for (i = 0; i < ngx_http_chatport_outbox_nsites; i++) {
        ngx_http_chatport_outbox_sites[i].next = ngx_current_msec;
    }

    ngx_http_chatport_outbox_arm(0);
}


static void
ngx_http_chatport_outbox_tick(ngx_event_t *ev)
{
    ngx_msec_t                        wait;
    ngx_msec_int_t                    left;
    ngx_uint_t                        i;
    ngx_queue_t                      *q;
    ngx_http_chatport_outbox_mail_t  *m;
    ngx_http_chatport_outbox_site_t  *site;

    if (ngx_exiting) {
        return;
    }

    wait = ngx_http_chatport_outbox_look;

    for (q = ngx_queue_head(&ngx_http_chatport_outbox_mails);
         q != ngx_queue_sentinel(&ngx_http_chatport_outbox_mails);
         q = ngx_queue_next(q))
    {
        m = ngx_queue_data(q, ngx_http_chatport_outbox_mail_t, queue);

        if (m->state == NGX_HTTP_CHATPORT_MAIL_RECORD) {
            ngx_http_chatport_outbox_record(m);
        }

        if (m->state == NGX_HTTP_CHATPORT_MAIL_RECORD) {
            wait = ngx_min(wait, NGX_HTTP_CHATPORT_OUTBOX_AGAIN);
        }
    }

    for (i = 0; i < ngx_http_chatport_outbox_nsites; i++) {
        site = &ngx_http_chatport_outbox_sites[i];

        if (site->cmd == NULL
            && (ngx_msec_int_t) (site->next - ngx_current_msec) <= 0)
        {
            ngx_http_chatport_outbox_take(site);
        }

        if (site->cmd == NULL) {
            left = site->next - ngx_current_msec;
            wait = ngx_min(wait, (ngx_msec_t) ngx_max(left, 0));
        }
    }

    ngx_add_timer(ev, wait);
}


/* the timer goes off in delay at the latest */

static void
ngx_http_chatport_outbox_arm(ngx_msec_t delay)
{
    ngx_event_t  *ev;

    ev = &ngx_http_chatport_outbox_timer;

    if (ngx_exiting || ngx_http_chatport_outbox_nsites == 0) {
        return;
    }

    if (ev->timer_set) {
        if ((ngx_msec_int_t) (ev->timer.key - (ngx_current_msec + delay))
            <= 0)
        {
            return;
        }

        ngx_del_timer(ev);
    }

    ngx_add_timer(ev, delay);
}


static void
ngx_http_chatport_outbox_take(ngx_http_chatport_outbox_site_t *site)
{
    ngx_int_t   rc;
    ngx_uint_t  count;

    count = NGX_HTTP_CHATPORT_OUTBOX_MAX - ngx_http_chatport_outbox_busy;

    if (count == 0) {
        site->next = ngx_current_msec + NGX_HTTP_CHATPORT_OUTBOX_AGAIN;
        return;
    }

    site->lens[8] = ngx_sprintf(site->count, "%ui", count) - site->count;

    rc = ngx_http_chatport_redis_eval(&ngx_http_chatport_outbox_take_script,
                                      ngx_http_chatport_outbox_taken, site,
                                      &site->cmd, 9, site->argv, site->lens);

    if (rc != NGX_OK) {
        site->cmd = NULL;
        site->next = ngx_current_msec + NGX_HTTP_CHATPORT_OUTBOX_AGAIN;
    }
}


static void
ngx_http_chatport_outbox_taken(void *data, redisReply *reply, ngx_int_t rc)
{
    ngx_http_chatport_outbox_site_t  *site = data;

    size_t       i, taken;
    long long    due;
    ngx_msec_t   delay;

    site->cmd = NULL;

    if (rc != NGX_OK || reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || reply->elements == 0 || reply->elements % 2 == 0
        || reply->element[0]->type != REDIS_REPLY_INTEGER)
    {
        if (rc == NGX_OK && reply && reply->type == REDIS_REPLY_ERROR) {
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "chatport: the outbox of \"%V\": %*s", &site->name,
                          (size_t) reply->len, reply->str);
        }

        site->next = ngx_current_msec + NGX_HTTP_CHATPORT_OUTBOX_AGAIN;
        ngx_http_chatport_outbox_arm(NGX_HTTP_CHATPORT_OUTBOX_AGAIN);
        return;
    }

    taken = reply->elements / 2;

    for (i = 1; i + 1 < reply->elements; i += 2) {
        ngx_http_chatport_outbox_accept(site, reply->element[i],
                                        reply->element[i + 1]);
    }

    due = reply->element[0]->integer;
    delay = ngx_http_chatport_outbox_look;

    if (taken && ngx_http_chatport_outbox_busy < NGX_HTTP_CHATPORT_OUTBOX_MAX
        && taken == (size_t) ngx_atoi(site->count, site->lens[8]))
    {
        /* there may be more waiting */
        delay = 0;

    } else if (due >= 0 && (ngx_msec_t) due < delay) {
        delay = (ngx_msec_t) due;
    }

    site->next = ngx_current_msec + delay;
    ngx_http_chatport_outbox_arm(delay);
}


static void
ngx_http_chatport_outbox_accept(ngx_http_chatport_outbox_site_t *site,
    redisReply *id, redisReply *json)
{
    ngx_str_t                         error;
    ngx_pool_t                       *pool;
    ngx_queue_t                      *q;
    json_error_t                      err;
    ngx_http_chatport_outbox_mail_t  *m;

    if (id->type != REDIS_REPLY_STRING || json->type != REDIS_REPLY_STRING) {
        return;
    }

    /* an entry this worker still has (its record waits for Redis) */
    for (q = ngx_queue_head(&ngx_http_chatport_outbox_mails);
         q != ngx_queue_sentinel(&ngx_http_chatport_outbox_mails);
         q = ngx_queue_next(q))
    {
        m = ngx_queue_data(q, ngx_http_chatport_outbox_mail_t, queue);

        if (m->site == site && m->id.len == id->len
            && ngx_strncmp(m->id.data, id->str, id->len) == 0)
        {
            return;
        }
    }

    pool = ngx_create_pool(4096, ngx_cycle->log);
    if (pool == NULL) {
        return;
    }

    m = ngx_pcalloc(pool, sizeof(ngx_http_chatport_outbox_mail_t));
    if (m == NULL) {
        ngx_destroy_pool(pool);
        return;
    }

    m->pool = pool;
    m->site = site;
    m->id.len = id->len;
    m->id.data = ngx_pnalloc(pool, id->len);

    if (m->id.data == NULL) {
        ngx_destroy_pool(pool);
        return;
    }

    ngx_memcpy(m->id.data, id->str, id->len);

    ngx_queue_insert_tail(&ngx_http_chatport_outbox_mails, &m->queue);
    ngx_http_chatport_outbox_busy++;

    m->entry = json_loadb(json->str, json->len, 0, &err);

    if (m->entry == NULL
        || ngx_http_chatport_mail_render(pool, m->entry, &m->mail,
                                         ngx_cycle->log)
           != NGX_OK)
    {
        ngx_str_set(&error, "the outbox entry makes no mail");

        if (ngx_http_chatport_outbox_fail(m, &error) != NGX_OK) {
            ngx_http_chatport_outbox_free(m);
            return;
        }

        ngx_http_chatport_outbox_record(m);
        return;
    }

    if (ngx_http_chatport_smtp_send(&m->mail.from, m->mail.to, m->mail.nto,
                                    &m->mail.message,
                                    ngx_http_chatport_outbox_sent, m)
        != NGX_OK)
    {
        ngx_str_set(&error, "could not start the send");
        ngx_http_chatport_outbox_sent(m, NGX_AGAIN, &error);
    }
}


static void
ngx_http_chatport_outbox_sent(void *data, ngx_int_t rc, ngx_str_t *error)
{
    ngx_http_chatport_outbox_mail_t  *m = data;

    ngx_int_t  done;

    switch (rc) {

    case NGX_OK:
        ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                      "chatport: mail %V of \"%V\" accepted by the server",
                      &m->id, &m->site->name);

        m->script = &ngx_http_chatport_outbox_done_script;
        m->args[0] = m->site->outbox;
        m->args[1] = m->id;
        m->nkeys = 1;
        m->nargs = 2;
        done = NGX_OK;
        break;

    case NGX_AGAIN:
        done = ngx_http_chatport_outbox_retry(m, error);
        break;

    default:
        done = ngx_http_chatport_outbox_fail(m, error);
        break;
    }

    if (done != NGX_OK) {
        /* no memory for the record: another sender claims it later */
        ngx_http_chatport_outbox_free(m);
        return;
    }

    ngx_http_chatport_outbox_record(m);
}


/* after at most the retry time, a mail that still cannot go fails */

static ngx_int_t
ngx_http_chatport_outbox_retry(ngx_http_chatport_outbox_mail_t *m,
    ngx_str_t *error)
{
    json_t      *first, *attempts;
    int64_t      now, since;
    ngx_int_t    n;
    ngx_msec_t   delay;

    now = (int64_t) ngx_time() * 1000;

    first = json_object_get(m->entry, "first");
    attempts = json_object_get(m->entry, "attempts");

    since = json_is_integer(first) ? json_integer_value(first) : now;
    n = json_is_integer(attempts) ? json_integer_value(attempts) : 0;

    if (now - since >= (int64_t) ngx_http_chatport_outbox_retry_for) {
        return ngx_http_chatport_outbox_fail(m, error);
    }

    delay = NGX_HTTP_CHATPORT_OUTBOX_BACKOFF << ngx_min(n, 16);
    delay = ngx_min(delay, NGX_HTTP_CHATPORT_OUTBOX_BACKOFF_MAX);

    ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                  "chatport: mail %V of \"%V\" not sent, trying again in "
                  "%M ms: %V", &m->id, &m->site->name, delay, error);

    if (json_object_set_new(m->entry, "first", json_integer(since)) != 0
        || json_object_set_new(m->entry, "attempts", json_integer(n + 1))
           != 0
        || json_object_set_new(m->entry, "error",
                               json_stringn((char *) error->data,
                                            error->len))
           != 0)
    {
        return NGX_ERROR;
    }

    if (ngx_http_chatport_store_mail_keys(m->pool, &m->site->name,
                                          &m->args[1])
        != NGX_OK
        || ngx_http_chatport_store_number(m->pool, &m->args[4], delay)
           != NGX_OK
        || ngx_http_chatport_outbox_dump(m->pool, m->entry, &m->args[5])
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    m->script = &ngx_http_chatport_outbox_retry_script;
    m->args[0] = m->site->outbox;
    m->args[3] = m->id;
    m->nkeys = 3;
    m->nargs = 6;

    /* this worker looks again when the retry is due */
    if ((ngx_msec_int_t) (ngx_current_msec + delay - m->site->next) < 0) {
        m->site->next = ngx_current_msec + delay;
        ngx_http_chatport_outbox_arm(delay);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_chatport_outbox_fail(ngx_http_chatport_outbox_mail_t *m,
    ngx_str_t *error)
{
    json_t     *to, *cid, *retention, *failure;
    int64_t     ms;
    ngx_str_t   c;

    to = m->entry ? json_object_get(m->entry, "to") : NULL;
    cid = m->entry ? json_object_get(m->entry, "cid") : NULL;
    retention = m->entry ? json_object_get(m->entry, "retention") : NULL;

    /* the inbox lives as long as the site's conversations */
    ms = json_is_integer(retention) && json_integer_value(retention) > 0
         ? json_integer_value(retention) : NGX_HTTP_CHATPORT_OUTBOX_KEEP;

    ngx_str_set(&c, "");

    if (json_is_string(cid)) {
        c.data = (u_char *) json_string_value(cid);
        c.len = json_string_length(cid);
    }

    ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                  "chatport: mail %V of \"%V\" (conversation \"%V\") failed "
                  "for good: %V", &m->id, &m->site->name, &c, error);

    failure = json_pack("{s:O?,s:s%,s:I}", "to", to, "error",
                        (char *) error->data, error->len,
                        "ts", (json_int_t) ngx_time() * 1000);
    if (failure == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_chatport_outbox_dump(m->pool, failure, &m->args[4])
        != NGX_OK)
    {
        json_decref(failure);
        return NGX_ERROR;
    }

    json_decref(failure);

    m->args[5].data = ngx_pnalloc(m->pool, c.len + 1);
    if (m->args[5].data == NULL) {
        return NGX_ERROR;
    }

    m->args[5].len = c.len;
    ngx_memcpy(m->args[5].data, c.data, c.len);

    if (ngx_http_chatport_store_key(m->pool, &m->args[1], "%V%V",
                                    &m->site->prefix, &m->args[5])
        != NGX_OK
        || ngx_http_chatport_store_number(m->pool, &m->args[6], ms) != NGX_OK)
    {
        return NGX_ERROR;
    }

    m->script = &ngx_http_chatport_outbox_fail_script;
    m->args[0] = m->site->outbox;
    m->args[2] = m->site->inbox;
    m->args[3] = m->id;
    m->nkeys = 3;
    m->nargs = 7;

    return NGX_OK;
}


/* JSON into the pool: jansson's own allocation is freed at once */

static ngx_int_t
ngx_http_chatport_outbox_dump(ngx_pool_t *pool, json_t *json, ngx_str_t *out)
{
    char    *s;
    size_t   len;

    s = json_dumps(json, JSON_COMPACT);
    if (s == NULL) {
        return NGX_ERROR;
    }

    len = ngx_strlen(s);

    out->data = ngx_pnalloc(pool, len);
    if (out->data == NULL) {
        free(s);
        return NGX_ERROR;
    }

    ngx_memcpy(out->data, s, len);
    out->len = len;
    free(s);

    return NGX_OK;
}


static void
ngx_http_chatport_outbox_record(ngx_http_chatport_outbox_mail_t *m)
{
    ngx_int_t  rc;

    m->state = NGX_HTTP_CHATPORT_MAIL_RECORD;

    rc = ngx_http_chatport_store_call(m->pool, m->script, m->args, m->nkeys,
                                      m->nargs,
                                      ngx_http_chatport_outbox_recorded, m,
                                      &m->cmd);

    if (rc == NGX_OK) {
        m->state = NGX_HTTP_CHATPORT_MAIL_RECORDING;
        return;
    }

    /* the next tick tries again */
    m->cmd = NULL;
    ngx_http_chatport_outbox_arm(NGX_HTTP_CHATPORT_OUTBOX_AGAIN);
}


static void
ngx_http_chatport_outbox_recorded(void *data, redisReply *reply, ngx_int_t rc)
{
    ngx_http_chatport_outbox_mail_t  *m = data;

    m->cmd = NULL;

    if (rc != NGX_OK || reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        if (rc == NGX_OK && reply) {
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "chatport: recording mail %V of \"%V\": %*s",
                          &m->id, &m->site->name, (size_t) reply->len,
                          reply->str);
        }

        m->state = NGX_HTTP_CHATPORT_MAIL_RECORD;
        ngx_http_chatport_outbox_arm(NGX_HTTP_CHATPORT_OUTBOX_AGAIN);
        return;
    }

    if (reply->type == REDIS_REPLY_INTEGER && reply->integer == 0) {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "chatport: mail %V of \"%V\" was claimed by another "
                      "sender while this one had it: it may go twice",
                      &m->id, &m->site->name);
    }

    ngx_http_chatport_outbox_free(m);
}


static void
ngx_http_chatport_outbox_free(ngx_http_chatport_outbox_mail_t *m)
{
    if (m->cmd) {
        ngx_http_chatport_redis_cancel(m->cmd);
    }

    ngx_queue_remove(&m->queue);
    ngx_http_chatport_outbox_busy--;

    if (m->entry) {
        json_decref(m->entry);
    }

    ngx_destroy_pool(m->pool);
}
