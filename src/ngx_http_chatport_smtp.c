
/*
 * ChatPort: SMTP on nginx's event loop.
 *
 * libcurl's multi-socket interface logs in: it connects, does TLS (from
 * the start for smtps://, STARTTLS for smtp://), EHLO and AUTH, its
 * sockets wrapped in nginx connections and its timer an nginx timer. The
 * transfer is CONNECT_ONLY: libcurl's own mail transfer waits for the
 * answer to the end of the data, and for the answer to QUIT when it closes
 * a connection, in a poll() of its own that would hold the worker for as
 * long as the server takes (curl 7.88 lib/smtp.c, smtp_done() and
 * smtp_disconnect()). So after the login the connection is ours: MAIL,
 * RCPT, DATA and the message go through curl_easy_send() and
 * curl_easy_recv(), which never wait, and libcurl treats a CONNECT_ONLY
 * connection as dead when it closes it, without a QUIT.
 *
 * Memory of a send is libc's (ngx_alloc), as libcurl's is: a send ends,
 * whatever its path, in ngx_http_chatport_smtp_end(), which frees it all.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_http.h>

#include <curl/curl.h>

#include "ngx_http_chatport.h"
#include "ngx_http_chatport_redis.h"
#include "ngx_http_chatport_smtp.h"


#define NGX_HTTP_CHATPORT_SMTP_ADDR_MAX     254     /* RFC 5321 4.5.3.1.3 */
#define NGX_HTTP_CHATPORT_SMTP_LINE_MAX     512     /* RFC 5321 4.5.3.1.5 */
#define NGX_HTTP_CHATPORT_SMTP_ERROR_MAX    640
#define NGX_HTTP_CHATPORT_SMTP_CONNECT_MAX  10000


typedef enum {
    NGX_HTTP_CHATPORT_SMTP_LOGIN = 0,          /* libcurl's part */
    NGX_HTTP_CHATPORT_SMTP_MAIL,
    NGX_HTTP_CHATPORT_SMTP_RCPT,
    NGX_HTTP_CHATPORT_SMTP_DATA,
    NGX_HTTP_CHATPORT_SMTP_BODY
} ngx_http_chatport_smtp_step_e;


typedef struct {
    ngx_queue_t                     queue;
    CURL                           *easy;
    ngx_connection_t               *conn;      /* ours, after the login */

    /* the time limit, or a failure posted by ngx_http_chatport_smtp_send() */
    ngx_event_t                     event;
    ngx_msec_t                      deadline;
    ngx_int_t                       rc;

    ngx_http_chatport_smtp_step_e   step;
    ngx_uint_t                      rcpt;
    ngx_uint_t                      accepted;  /* recipients */

    ngx_str_t                      *from;
    ngx_str_t                      *to;
    ngx_uint_t                      nto;
    ngx_str_t                      *mail;
    ngx_http_chatport_smtp_done_pt  handler;
    void                           *data;

    u_char                         *out;       /* being sent */
    size_t                          out_len;
    size_t                          sent;
    u_char                         *body;      /* dot-stuffed, ends "." */

    size_t                          in_len;
    u_char                          in[NGX_HTTP_CHATPORT_SMTP_LINE_MAX];
    u_char                          cmd[NGX_HTTP_CHATPORT_SMTP_ADDR_MAX + 16];

    ngx_str_t                       error;
    u_char                          error_buf[NGX_HTTP_CHATPORT_SMTP_ERROR_MAX];
    char                            curl_error[CURL_ERROR_SIZE];
} ngx_http_chatport_smtp_send_t;


static ngx_int_t ngx_http_chatport_smtp_address(ngx_str_t *addr);
static int ngx_http_chatport_smtp_socket(CURL *easy, curl_socket_t s,
    int what, void *userp, void *socketp);
static int ngx_http_chatport_smtp_timer(CURLM *multi, long timeout_ms,
    void *userp);
static void ngx_http_chatport_smtp_curl_read(ngx_event_t *ev);
static void ngx_http_chatport_smtp_curl_write(ngx_event_t *ev);
static void ngx_http_chatport_smtp_curl_timer(ngx_event_t *ev);
static void ngx_http_chatport_smtp_action(curl_socket_t s, int flags);
static void ngx_http_chatport_smtp_login_done(
    ngx_http_chatport_smtp_send_t *s, CURLcode result);
static void ngx_http_chatport_smtp_command(ngx_http_chatport_smtp_send_t *s);
static void ngx_http_chatport_smtp_write(ngx_http_chatport_smtp_send_t *s);
static void ngx_http_chatport_smtp_read_handler(ngx_event_t *ev);
static void ngx_http_chatport_smtp_write_handler(ngx_event_t *ev);
static void ngx_http_chatport_smtp_next_rcpt(
    ngx_http_chatport_smtp_send_t *s);
static ngx_int_t ngx_http_chatport_smtp_reply(
    ngx_http_chatport_smtp_send_t *s, u_char *line, size_t len);
static ngx_int_t ngx_http_chatport_smtp_body(
    ngx_http_chatport_smtp_send_t *s);
static void ngx_http_chatport_smtp_timeout(ngx_event_t *ev);
static void ngx_http_chatport_smtp_failed(ngx_event_t *ev);
static void ngx_http_chatport_smtp_end(ngx_http_chatport_smtp_send_t *s,
    ngx_int_t rc);
static void ngx_http_chatport_smtp_close(ngx_http_chatport_smtp_send_t *s);
static void ngx_http_chatport_smtp_free_connection(ngx_connection_t *c);


static ngx_http_chatport_smtp_conf_t  *ngx_http_chatport_smtp_conf;
static CURLM                          *ngx_http_chatport_smtp_multi;
static struct curl_slist              *ngx_http_chatport_smtp_resolve;
static ngx_event_t                     ngx_http_chatport_smtp_curl_ev;
static ngx_queue_t                     ngx_http_chatport_smtp_sends;


/* the send that an event of its own belongs to */
#define ngx_http_chatport_smtp_of(ev)                                        \
    ((ngx_http_chatport_smtp_send_t *)                                       \
         ((u_char *) (ev) - offsetof(ngx_http_chatport_smtp_send_t, event)))


/*
 * "smtp://host[:port]" or "smtps://host[:port]". The host is resolved
 * here, once, and given to libcurl with CURLOPT_RESOLVE: a worker never
 * waits for DNS, and TLS still checks the certificate against the name.
 * Returns NGX_CONF_OK, NGX_CONF_ERROR, or what the value must be.
 */

char *
ngx_http_chatport_smtp_url(ngx_conf_t *cf,
    ngx_http_chatport_smtp_conf_t *conf, ngx_str_t *url)
{
    u_char     *p;
    size_t      skip;
    ngx_int_t   rc;
    ngx_str_t   addr;
    ngx_url_t   u;

    if (url->len > 7 && ngx_strncasecmp(url->data, (u_char *) "smtp://", 7)
                        == 0)
    {
        skip = 7;
        conf->implicit_tls = 0;

    } else if (url->len > 8
               && ngx_strncasecmp(url->data, (u_char *) "smtps://", 8) == 0)
    {
        skip = 8;
        conf->implicit_tls = 1;

    } else {
        return "smtp://host[:port] or smtps://host[:port]";
    }

    if (ngx_strlchr(url->data + skip, url->data + url->len, '@')) {
        return "a URL without a user name or password "
               "(chatport_smtp_user and chatport_smtp_password set them)";
    }

    ngx_memzero(&u, sizeof(ngx_url_t));

    u.url.data = url->data + skip;
    u.url.len = url->len - skip;
    u.default_port = conf->implicit_tls ? 465 : 25;

    rc = ngx_http_chatport_conf_addr(cf, &u, &addr);

    if (rc == NGX_DECLINED) {
        return "a URL whose host name resolves";
    }

    if (rc != NGX_OK) {
        return "smtp://host[:port] or smtps://host[:port], with no path";
    }

    conf->url = *url;

    /* the port always written out, to match the CURLOPT_RESOLVE entry */
    p = ngx_pnalloc(cf->pool, sizeof("smtps://:65535") + u.host.len);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    conf->curl_url.data = p;
    p = ngx_sprintf(p, "%s://%V:%d", conf->implicit_tls ? "smtps" : "smtp",
                    &u.host, (int) u.port);
    conf->curl_url.len = p - conf->curl_url.data;
    *p = '\0';

    /* an address literal is not looked up by libcurl */
    if (u.host.data[0] == '['
        || ngx_inet_addr(u.host.data, u.host.len) != INADDR_NONE)
    {
        ngx_str_set(&conf->resolve, "");
        return NGX_CONF_OK;
    }

    p = ngx_pnalloc(cf->pool, u.host.len + sizeof(":65535:[]") + addr.len);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    conf->resolve.data = p;

    if (ngx_strlchr(addr.data, addr.data + addr.len, ':')) {
        p = ngx_sprintf(p, "%V:%d:[%V]", &u.host, (int) u.port, &addr);

    } else {
        p = ngx_sprintf(p, "%V:%d:%V", &u.host, (int) u.port, &addr);
    }

    conf->resolve.len = p - conf->resolve.data;
    *p = '\0';

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_chatport_smtp_init(ngx_cycle_t *cycle,
    ngx_http_chatport_smtp_conf_t *conf)
{
    CURLM  *multi;

    ngx_http_chatport_smtp_conf = conf;
    ngx_queue_init(&ngx_http_chatport_smtp_sends);

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "chatport: curl_global_init() failed");
        return NGX_ERROR;
    }

    multi = curl_multi_init();
    if (multi == NULL) {
        curl_global_cleanup();
        return NGX_ERROR;
    }

    ngx_http_chatport_smtp_multi = multi;

    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION,
                      ngx_http_chatport_smtp_socket);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION,
                      ngx_http_chatport_smtp_timer);

    ngx_http_chatport_timer_init(&ngx_http_chatport_smtp_curl_ev,
                                 ngx_http_chatport_smtp_curl_timer);

    if (conf->resolve.len) {
        ngx_http_chatport_smtp_resolve =
            curl_slist_append(NULL, (char *) conf->resolve.data);

        if (ngx_http_chatport_smtp_resolve == NULL) {
            ngx_http_chatport_smtp_exit();
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * At worker exit, sends under way are dropped without their handler (the
 * outbox sends them again); nothing of them stays open.
 */

void
ngx_http_chatport_smtp_exit(void)
{
    ngx_queue_t                    *q;
    ngx_http_chatport_smtp_send_t  *s;

    if (ngx_http_chatport_smtp_multi == NULL) {
        return;
    }

    while (!ngx_queue_empty(&ngx_http_chatport_smtp_sends)) {
        q = ngx_queue_head(&ngx_http_chatport_smtp_sends);
        s = ngx_queue_data(q, ngx_http_chatport_smtp_send_t, queue);

        ngx_http_chatport_smtp_close(s);
        ngx_free(s);
    }

    curl_multi_cleanup(ngx_http_chatport_smtp_multi);
    ngx_http_chatport_smtp_multi = NULL;

    if (ngx_http_chatport_smtp_curl_ev.timer_set) {
        ngx_del_timer(&ngx_http_chatport_smtp_curl_ev);
    }

    curl_slist_free_all(ngx_http_chatport_smtp_resolve);
    ngx_http_chatport_smtp_resolve = NULL;

    curl_global_cleanup();
}


ngx_int_t
ngx_http_chatport_smtp_send(ngx_str_t *from, ngx_str_t *to,
    ngx_uint_t nto, ngx_str_t *mail, ngx_http_chatport_smtp_done_pt handler,
    void *data)
{
    CURL                           *easy;
    ngx_uint_t                      i;
    ngx_msec_t                      connect;
    ngx_http_chatport_smtp_conf_t  *conf = ngx_http_chatport_smtp_conf;
    ngx_http_chatport_smtp_send_t  *s;

    if (ngx_http_chatport_smtp_multi == NULL) {
        return NGX_ERROR;
    }

    s = ngx_alloc(sizeof(ngx_http_chatport_smtp_send_t), ngx_cycle->log);
    if (s == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(s, sizeof(ngx_http_chatport_smtp_send_t));

    s->from = from;
    s->to = to;
    s->nto = nto;
    s->mail = mail;
    s->handler = handler;
    s->data = data;
    s->deadline = ngx_current_msec + conf->timeout;

    ngx_http_chatport_timer_init(&s->event, ngx_http_chatport_smtp_failed);
    ngx_queue_insert_tail(&ngx_http_chatport_smtp_sends, &s->queue);

    /* what would be a command of its own is refused as it could never go */

    if (nto == 0 || ngx_http_chatport_smtp_address(from) != NGX_OK) {
        goto refused;
    }

    for (i = 0; i < nto; i++) {
        if (ngx_http_chatport_smtp_address(&to[i]) != NGX_OK) {
            goto refused;
        }
    }

    easy = curl_easy_init();
    if (easy == NULL) {
        goto failed;
    }

    s->easy = easy;

    connect = ngx_min(conf->timeout, NGX_HTTP_CHATPORT_SMTP_CONNECT_MAX);

    if (curl_easy_setopt(easy, CURLOPT_URL, conf->curl_url.data) != CURLE_OK
        || curl_easy_setopt(easy, CURLOPT_PRIVATE, s) != CURLE_OK
        || curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, s->curl_error)
           != CURLE_OK
        || curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L) != CURLE_OK
        || curl_easy_setopt(easy, CURLOPT_CONNECT_ONLY, 1L) != CURLE_OK
        || curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long) conf->timeout)
           != CURLE_OK
        || curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, (long) connect)
           != CURLE_OK
        || curl_easy_setopt(easy, CURLOPT_USE_SSL,
                            conf->user.len ? (long) CURLUSESSL_ALL
                                           : (long) CURLUSESSL_TRY)
           != CURLE_OK)
    {
        goto failed;
    }

    if (ngx_http_chatport_smtp_resolve
        && curl_easy_setopt(easy, CURLOPT_RESOLVE,
                            ngx_http_chatport_smtp_resolve)
           != CURLE_OK)
    {
        goto failed;
    }

    if (conf->ca.len
        && curl_easy_setopt(easy, CURLOPT_CAINFO, conf->ca.data) != CURLE_OK)
    {
        goto failed;
    }

    if (conf->user.len
        && (curl_easy_setopt(easy, CURLOPT_USERNAME, conf->user.data)
            != CURLE_OK
            || curl_easy_setopt(easy, CURLOPT_PASSWORD, conf->password.data)
               != CURLE_OK))
    {
        goto failed;
    }

    if (curl_multi_add_handle(ngx_http_chatport_smtp_multi, easy)
        != CURLM_OK)
    {
        goto failed;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "chatport: smtp send %p to %V", s, &conf->url);

    return NGX_OK;

refused:

    s->rc = NGX_DECLINED;
    ngx_str_set(&s->error, "an address holds a character SMTP cannot send");
    ngx_post_event(&s->event, &ngx_posted_events);
    return NGX_OK;

failed:

    s->rc = NGX_AGAIN;
    ngx_str_set(&s->error, "libcurl could not start the send");
    ngx_post_event(&s->event, &ngx_posted_events);
    return NGX_OK;
}


/* no line breaks, NULs or angle brackets, which would end the command */

static ngx_int_t
ngx_http_chatport_smtp_address(ngx_str_t *addr)
{
    size_t  i;

    if (addr->len == 0 || addr->len > NGX_HTTP_CHATPORT_SMTP_ADDR_MAX) {
        return NGX_ERROR;
    }

    for (i = 0; i < addr->len; i++) {
        if (addr->data[i] < 0x20 || addr->data[i] == 0x7f
            || addr->data[i] == '<' || addr->data[i] == '>')
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * libcurl's sockets as nginx connections, found again through
 * curl_multi_assign(). Level-triggered: libcurl may leave data unread.
 * The socket stays libcurl's: it closes it after CURL_POLL_REMOVE.
 */

static int
ngx_http_chatport_smtp_socket(CURL *easy, curl_socket_t fd, int what,
    void *userp, void *socketp)
{
    ngx_connection_t  *c = socketp;

    if (what == CURL_POLL_REMOVE) {
        if (c) {
            ngx_http_chatport_smtp_free_connection(c);
            curl_multi_assign(ngx_http_chatport_smtp_multi, fd, NULL);
        }

        return 0;
    }

    if (c == NULL) {
        c = ngx_get_connection(fd, ngx_cycle->log);
        if (c == NULL) {
            /* the send ends at its time limit; -1 would end them all */
            return 0;
        }

        c->read->handler = ngx_http_chatport_smtp_curl_read;
        c->write->handler = ngx_http_chatport_smtp_curl_write;
        c->read->log = c->log;
        c->write->log = c->log;

        curl_multi_assign(ngx_http_chatport_smtp_multi, fd, c);
    }

    if ((what & CURL_POLL_IN) && !c->read->active) {
        (void) ngx_add_event(c->read, NGX_READ_EVENT, NGX_LEVEL_EVENT);

    } else if (!(what & CURL_POLL_IN) && c->read->active) {
        (void) ngx_del_event(c->read, NGX_READ_EVENT, 0);
    }

    if ((what & CURL_POLL_OUT) && !c->write->active) {
        (void) ngx_add_event(c->write, NGX_WRITE_EVENT, NGX_LEVEL_EVENT);

    } else if (!(what & CURL_POLL_OUT) && c->write->active) {
        (void) ngx_del_event(c->write, NGX_WRITE_EVENT, 0);
    }

    return 0;
}


/*
 * libcurl's timer: it is run from nginx's loop, never from in here. Set
 * anew each time: ngx_add_timer() keeps a timer that is less than 300 ms
 * off, and libcurl asks for 0 ms to start a send.
 */

static int
ngx_http_chatport_smtp_timer(CURLM *multi, long timeout_ms, void *userp)
{
    if (ngx_http_chatport_smtp_curl_ev.timer_set) {
        ngx_del_timer(&ngx_http_chatport_smtp_curl_ev);
    }

    if (timeout_ms < 0) {
        return 0;
    }

    ngx_add_timer(&ngx_http_chatport_smtp_curl_ev, (ngx_msec_t) timeout_ms);

    return 0;
}


static void
ngx_http_chatport_smtp_curl_read(ngx_event_t *ev)
{
    ngx_connection_t  *c = ev->data;

    ngx_http_chatport_smtp_action(c->fd, CURL_CSELECT_IN);
}


static void
ngx_http_chatport_smtp_curl_write(ngx_event_t *ev)
{
    ngx_connection_t  *c = ev->data;

    ngx_http_chatport_smtp_action(c->fd, CURL_CSELECT_OUT);
}


static void
ngx_http_chatport_smtp_curl_timer(ngx_event_t *ev)
{
    ngx_http_chatport_smtp_action(CURL_SOCKET_TIMEOUT, 0);
}


static void
ngx_http_chatport_smtp_action(curl_socket_t fd, int flags)
{
    int                             running;
    CURLMsg                        *msg;
    ngx_http_chatport_smtp_send_t  *s;

    (void) curl_multi_socket_action(ngx_http_chatport_smtp_multi, fd, flags,
                                    &running);

    for ( ;; ) {
        msg = curl_multi_info_read(ngx_http_chatport_smtp_multi, &running);
        if (msg == NULL) {
            return;
        }

        if (msg->msg != CURLMSG_DONE) {
            continue;
        }

        if (curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &s)
            != CURLE_OK)
        {
            continue;
        }

        ngx_http_chatport_smtp_login_done(s, msg->data.result);
    }
}


/* libcurl has logged in (or failed to): the mail itself is sent here */

static void
ngx_http_chatport_smtp_login_done(ngx_http_chatport_smtp_send_t *s,
    CURLcode result)
{
    u_char            *p, *last;
    long               code;
    ngx_msec_t         left;
    curl_socket_t      fd;
    ngx_connection_t  *c;

    if (result != CURLE_OK) {
        p = s->error_buf;
        last = s->error_buf + NGX_HTTP_CHATPORT_SMTP_ERROR_MAX;

        p = ngx_slprintf(p, last, "%s",
                         s->curl_error[0] ? s->curl_error
                                          : curl_easy_strerror(result));

        code = 0;
        (void) curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code);

        if (code) {
            p = ngx_slprintf(p, last, " (SMTP %l)", code);
        }

        s->error.data = s->error_buf;
        s->error.len = p - s->error_buf;

        /* nothing of the mail went: a failure to log in is worth a retry */
        ngx_http_chatport_smtp_end(s, NGX_AGAIN);
        return;
    }

    if (curl_easy_getinfo(s->easy, CURLINFO_ACTIVESOCKET, &fd) != CURLE_OK
        || fd == CURL_SOCKET_BAD)
    {
        ngx_str_set(&s->error, "libcurl lost the connection after login");
        ngx_http_chatport_smtp_end(s, NGX_AGAIN);
        return;
    }

    c = ngx_get_connection(fd, ngx_cycle->log);
    if (c == NULL) {
        ngx_str_set(&s->error, "no free connection");
        ngx_http_chatport_smtp_end(s, NGX_AGAIN);
        return;
    }

    s->conn = c;

    c->data = s;
    c->read->handler = ngx_http_chatport_smtp_read_handler;
    c->write->handler = ngx_http_chatport_smtp_write_handler;
    c->read->log = c->log;
    c->write->log = c->log;

    if (ngx_add_event(c->read, NGX_READ_EVENT, NGX_LEVEL_EVENT) != NGX_OK) {
        ngx_str_set(&s->error, "could not wait for the server");
        ngx_http_chatport_smtp_end(s, NGX_AGAIN);
        return;
    }

    /* libcurl kept the time limit until here; it goes on with ours */
    left = (ngx_msec_int_t) (s->deadline - ngx_current_msec) > 0
           ? s->deadline - ngx_current_msec : 1;

    s->event.handler = ngx_http_chatport_smtp_timeout;
    ngx_add_timer(&s->event, left);

    s->step = NGX_HTTP_CHATPORT_SMTP_MAIL;
    ngx_http_chatport_smtp_command(s);
}


static void
ngx_http_chatport_smtp_command(ngx_http_chatport_smtp_send_t *s)
{
    u_char  *p;

    switch (s->step) {

    case NGX_HTTP_CHATPORT_SMTP_MAIL:
        p = ngx_sprintf(s->cmd, "MAIL FROM:<%V>\r\n", s->from);
        break;

    case NGX_HTTP_CHATPORT_SMTP_RCPT:
        p = ngx_sprintf(s->cmd, "RCPT TO:<%V>\r\n", &s->to[s->rcpt]);
        break;

    default: /* DATA */
        p = ngx_cpymem(s->cmd, "DATA\r\n", sizeof("DATA\r\n") - 1);
        break;
    }

    s->out = s->cmd;
    s->out_len = p - s->cmd;
    s->sent = 0;

    ngx_http_chatport_smtp_write(s);
}


static void
ngx_http_chatport_smtp_write(ngx_http_chatport_smtp_send_t *s)
{
    size_t             n;
    CURLcode           rc;
    ngx_connection_t  *c = s->conn;

    while (s->sent < s->out_len) {
        rc = curl_easy_send(s->easy, s->out + s->sent, s->out_len - s->sent,
                            &n);

        if (rc == CURLE_AGAIN) {
            if (!c->write->active
                && ngx_add_event(c->write, NGX_WRITE_EVENT, NGX_LEVEL_EVENT)
                   != NGX_OK)
            {
                ngx_str_set(&s->error, "could not wait for the server");
                ngx_http_chatport_smtp_end(s, NGX_AGAIN);
            }

            return;
        }

        if (rc != CURLE_OK) {
            s->error.data = s->error_buf;
            s->error.len = ngx_snprintf(s->error_buf,
                                        NGX_HTTP_CHATPORT_SMTP_ERROR_MAX,
                                        "sending failed: %s",
                                        curl_easy_strerror(rc))
                           - s->error_buf;
            ngx_http_chatport_smtp_end(s, NGX_AGAIN);
            return;
        }

        s->sent += n;
    }

    if (c->write->active) {
        (void) ngx_del_event(c->write, NGX_WRITE_EVENT, 0);
    }
}


static void
ngx_http_chatport_smtp_write_handler(ngx_event_t *ev)
{
    ngx_connection_t  *c = ev->data;

    ngx_http_chatport_smtp_write(c->data);
}


/*
 * Reads until libcurl has nothing more (TLS may hold more than the socket
 * shows), and takes each reply by its last line ("250 ..." after any
 * "250-..." lines).
 */

static void
ngx_http_chatport_smtp_read_handler(ngx_event_t *ev)
{
    size_t                          n, len;
    u_char                         *lf;
    CURLcode                        rc;
    ngx_connection_t               *c = ev->data;
    ngx_http_chatport_smtp_send_t  *s = c->data;

    for ( ;; ) {
        if (s->in_len == NGX_HTTP_CHATPORT_SMTP_LINE_MAX) {
            ngx_str_set(&s->error, "a reply line longer than 512 bytes");
            ngx_http_chatport_smtp_end(s, NGX_AGAIN);
            return;
        }

        rc = curl_easy_recv(s->easy, s->in + s->in_len,
                            NGX_HTTP_CHATPORT_SMTP_LINE_MAX - s->in_len, &n);

        if (rc == CURLE_AGAIN) {
            return;
        }

        if (rc != CURLE_OK || n == 0) {
            s->error.data = s->error_buf;
            s->error.len = ngx_snprintf(s->error_buf,
                                        NGX_HTTP_CHATPORT_SMTP_ERROR_MAX,
                                        "the connection was lost: %s",
                                        rc != CURLE_OK
                                        ? curl_easy_strerror(rc)
                                        : "closed by the server")
                           - s->error_buf;
            ngx_http_chatport_smtp_end(s, NGX_AGAIN);
            return;
        }

        s->in_len += n;

        for ( ;; ) {
            lf = ngx_strlchr(s->in, s->in + s->in_len, '\n');
            if (lf == NULL) {
                break;
            }

            len = lf + 1 - s->in;

            if ((len < 4 || s->in[3] != '-')
                && ngx_http_chatport_smtp_reply(s, s->in, len) == NGX_DONE)
            {
                return;
            }

            s->in_len -= len;
            ngx_memmove(s->in, s->in + len, s->in_len);
        }
    }
}


/* the next recipient, or DATA after the last (refused ones left out) */

static void
ngx_http_chatport_smtp_next_rcpt(ngx_http_chatport_smtp_send_t *s)
{
    if (++s->rcpt == s->nto) {
        s->step = NGX_HTTP_CHATPORT_SMTP_DATA;
    }

    ngx_http_chatport_smtp_command(s);
}


/*
 * A reply's last line. NGX_DONE when the send has ended (and is freed).
 * A 5xx to MAIL or DATA, or to every RCPT, refuses the mail for good (a
 * recipient refused for good is left out, the others get the mail);
 * anything else unexpected is worth a retry.
 */

static ngx_int_t
ngx_http_chatport_smtp_reply(ngx_http_chatport_smtp_send_t *s, u_char *line,
    size_t len)
{
    u_char     *p, *last;
    size_t      n;
    ngx_int_t   code, expect;

    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) {
        len--;
    }

    code = (len >= 3) ? ngx_atoi(line, 3) : NGX_ERROR;
    expect = (s->step == NGX_HTTP_CHATPORT_SMTP_DATA) ? 3 : 2;

    if (code != NGX_ERROR && code / 100 == expect) {

        switch (s->step) {

        case NGX_HTTP_CHATPORT_SMTP_MAIL:
            s->step = NGX_HTTP_CHATPORT_SMTP_RCPT;
            s->rcpt = 0;
            ngx_http_chatport_smtp_command(s);
            return NGX_OK;

        case NGX_HTTP_CHATPORT_SMTP_RCPT:
            s->accepted++;
            ngx_http_chatport_smtp_next_rcpt(s);
            return NGX_OK;

        case NGX_HTTP_CHATPORT_SMTP_DATA:
            s->step = NGX_HTTP_CHATPORT_SMTP_BODY;

            if (ngx_http_chatport_smtp_body(s) != NGX_OK) {
                ngx_str_set(&s->error, "out of memory");
                ngx_http_chatport_smtp_end(s, NGX_AGAIN);
                return NGX_DONE;
            }

            ngx_http_chatport_smtp_write(s);
            return NGX_OK;

        default: /* BODY */
            break;
        }
    }

    if (s->step == NGX_HTTP_CHATPORT_SMTP_RCPT && code / 100 == 5
        && (s->accepted || s->rcpt + 1 < s->nto))
    {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "chatport: smtp: RCPT TO:<%V> refused, the mail goes "
                      "to the other recipients: %*s", &s->to[s->rcpt], len,
                      line);

        ngx_http_chatport_smtp_next_rcpt(s);
        return NGX_OK;
    }

    p = s->error_buf;
    last = s->error_buf + NGX_HTTP_CHATPORT_SMTP_ERROR_MAX;

    if (s->step == NGX_HTTP_CHATPORT_SMTP_BODY && code / 100 == 2) {
        /* accepted; QUIT is a courtesy: its answer is not waited for */
        (void) curl_easy_send(s->easy, "QUIT\r\n", sizeof("QUIT\r\n") - 1,
                              &n);

        s->error.data = s->error_buf;
        s->error.len = ngx_slprintf(p, last, "%*s", len, line) - p;

        ngx_http_chatport_smtp_end(s, NGX_OK);
        return NGX_DONE;
    }

    switch (s->step) {

    case NGX_HTTP_CHATPORT_SMTP_MAIL:
        p = ngx_slprintf(p, last, "MAIL FROM:<%V>: ", s->from);
        break;

    case NGX_HTTP_CHATPORT_SMTP_RCPT:
        p = ngx_slprintf(p, last, "RCPT TO:<%V>: ", &s->to[s->rcpt]);
        break;

    case NGX_HTTP_CHATPORT_SMTP_DATA:
        p = ngx_slprintf(p, last, "DATA: ");
        break;

    default: /* BODY */
        p = ngx_slprintf(p, last, "end of data: ");
        break;
    }

    p = ngx_slprintf(p, last, "%*s", len, line);

    s->error.data = s->error_buf;
    s->error.len = p - s->error_buf;

    ngx_http_chatport_smtp_end(s, code / 100 == 5 ? NGX_DECLINED : NGX_AGAIN);

    return NGX_DONE;
}


/* the message with a line's leading "." doubled, then "CRLF.CRLF" */

static ngx_int_t
ngx_http_chatport_smtp_body(ngx_http_chatport_smtp_send_t *s)
{
    u_char      *p, *m;
    size_t       i, len;
    ngx_uint_t   bol;

    m = s->mail->data;
    len = s->mail->len;

    s->body = ngx_alloc(2 * len + sizeof("\r\n.\r\n"), ngx_cycle->log);
    if (s->body == NULL) {
        return NGX_ERROR;
    }

    p = s->body;
    bol = 1;

    for (i = 0; i < len; i++) {
        if (bol && m[i] == '.') {
            *p++ = '.';
        }

        *p++ = m[i];
        bol = (m[i] == '\n');
    }

    if (len < 2 || m[len - 2] != '\r' || m[len - 1] != '\n') {
        *p++ = '\r';
        *p++ = '\n';
    }

    p = ngx_cpymem(p, ".\r\n", 3);

    s->out = s->body;
    s->out_len = p - s->body;
    s->sent = 0;

    return NGX_OK;
}


static void
ngx_http_chatport_smtp_timeout(ngx_event_t *ev)
{
    ngx_http_chatport_smtp_send_t  *s = ngx_http_chatport_smtp_of(ev);

    s->error.data = s->error_buf;
    s->error.len = ngx_snprintf(s->error_buf,
                                NGX_HTTP_CHATPORT_SMTP_ERROR_MAX,
                                "no answer to %s within %M ms",
                                s->step == NGX_HTTP_CHATPORT_SMTP_MAIL
                                ? "MAIL FROM"
                                : s->step == NGX_HTTP_CHATPORT_SMTP_RCPT
                                ? "RCPT TO"
                                : s->step == NGX_HTTP_CHATPORT_SMTP_DATA
                                ? "DATA" : "the end of data",
                                ngx_http_chatport_smtp_conf->timeout)
                   - s->error_buf;

    ngx_http_chatport_smtp_end(s, NGX_AGAIN);
}


static void
ngx_http_chatport_smtp_failed(ngx_event_t *ev)
{
    ngx_http_chatport_smtp_send_t  *s = ngx_http_chatport_smtp_of(ev);

    ngx_http_chatport_smtp_end(s, s->rc);
}


static void
ngx_http_chatport_smtp_end(ngx_http_chatport_smtp_send_t *s, ngx_int_t rc)
{
    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "chatport: smtp send %p ended %i: %V", s, rc, &s->error);

    ngx_http_chatport_smtp_close(s);

    s->handler(s->data, rc, &s->error);

    ngx_free(s);
}


/* everything of a send but its memory, which the error line lives in */

static void
ngx_http_chatport_smtp_close(ngx_http_chatport_smtp_send_t *s)
{
    if (s->event.timer_set) {
        ngx_del_timer(&s->event);
    }

    if (s->event.posted) {
        ngx_delete_posted_event(&s->event);
    }

    /* before libcurl closes the socket under it */
    if (s->conn) {
        ngx_http_chatport_smtp_free_connection(s->conn);
        s->conn = NULL;
    }

    if (s->easy) {
        (void) curl_multi_remove_handle(ngx_http_chatport_smtp_multi,
                                        s->easy);
        curl_easy_cleanup(s->easy);
        s->easy = NULL;
    }

    if (s->body) {
        ngx_free(s->body);
        s->body = NULL;
    }

    ngx_queue_remove(&s->queue);
}


/* an nginx connection around libcurl's socket, which libcurl closes */

static void
ngx_http_chatport_smtp_free_connection(ngx_connection_t *c)
{
    if (c->read->active) {
        (void) ngx_del_event(c->read, NGX_READ_EVENT, 0);
    }

    if (c->write->active) {
        (void) ngx_del_event(c->write, NGX_WRITE_EVENT, 0);
    }

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    ngx_free_connection(c);
    c->fd = (ngx_socket_t) -1;
}
