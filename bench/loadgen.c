/*
 * loadgen: a small single-threaded epoll HTTP/1.1 load generator for the
 * ChatPort fan-out benchmark.  libc only; talks to 127.0.0.1 only.
 *
 *   loadgen park    park N long-polls, trigger a publication, time delivery
 *   loadgen publish send requests on C keep-alive connections as fast as
 *                   possible for D seconds (or a fixed count), count statuses
 *   loadgen serve   a bare epoll "server" that parks every GET and answers
 *                   the parked ones when a request to a /pub/ path arrives:
 *                   the floor for park-mode timings
 *
 * Templates (URL, header, body): %d is the index (channel index in park
 * mode, request number in publish mode), %1..%9 are the whitespace-separated
 * fields of line (index mod lines) of the file given with -f, %% is '%'.
 *
 * Run "loadgen" without arguments for the options.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS      200000
#define MAX_HEADERS    16
#define HBUF_SIZE      8192
#define BODY_KEEP      512
#define MAX_FIELDS     9

/* ------------------------------------------------------------------ util */

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "loadgen: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(2);
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static double ms(int64_t ns)
{
    return (double) ns / 1e6;
}

static void *xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz ? sz : 1);
    if (p == NULL) {
        die("out of memory");
    }
    return p;
}

static long parse_long(const char *s, long min, long max, const char *what)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < min || v > max) {
        die("bad %s \"%s\" (expected %ld..%ld)", what, s, min, max);
    }
    return v;
}

static void raise_nofile_to_hard(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void raise_nofile(long need)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        die("getrlimit: %s", strerror(errno));
    }
    if ((long) rl.rlim_cur >= need) {
        return;
    }
    if ((long) rl.rlim_max < need) {
        rl.rlim_max = need;        /* works as root */
    }
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        getrlimit(RLIMIT_NOFILE, &rl);
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    getrlimit(RLIMIT_NOFILE, &rl);
    if ((long) rl.rlim_cur < need) {
        die("RLIMIT_NOFILE is %ld, need %ld (raise the hard limit: ulimit -Hn)",
            (long) rl.rlim_cur, need);
    }
}

/* VmRSS, RssAnon, RssShmem in kB from /proc/PID/status; -1 if unknown */
typedef struct { long rss, anon, shmem; } rss_t;

static rss_t read_rss(int pid)
{
    char path[64], line[256];
    rss_t r = { -1, -1, -1 };
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    f = fopen(path, "r");
    if (f == NULL) {
        return r;
    }
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            r.rss = atol(line + 6);
        } else if (strncmp(line, "RssAnon:", 8) == 0) {
            r.anon = atol(line + 8);
        } else if (strncmp(line, "RssShmem:", 9) == 0) {
            r.shmem = atol(line + 9);
        }
    }
    fclose(f);
    return r;
}

/* utime + stime of PID in clock ticks; -1 if unknown */
static long cpu_ticks(int pid)
{
    char path[64], buf[1024], *p;
    unsigned long ut = 0, st = 0;
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    f = fopen(path, "r");
    if (f == NULL) {
        return -1;
    }
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')');
    /* after ") ": state(3) ... utime is field 14, stime 15 */
    if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
                            &ut, &st) != 2)
    {
        return -1;
    }
    return (long) (ut + st);
}

/* ------------------------------------------------------------ templates */

typedef struct {
    char  **f;         /* nlines * MAX_FIELDS */
    size_t  nlines;
} fields_t;

static fields_t g_fields;

static void load_fields(const char *path)
{
    FILE *fp = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0, alloc = 0;
    ssize_t len;

    if (fp == NULL) {
        die("cannot open %s: %s", path, strerror(errno));
    }
    while ((len = getline(&line, &cap, fp)) >= 0) {
        char *save = NULL, *tok;
        int k = 0;

        if (len == 0 || line[0] == '\n' || line[0] == '#') {
            continue;
        }
        if (g_fields.nlines == alloc) {
            alloc = alloc ? alloc * 2 : 1024;
            g_fields.f = realloc(g_fields.f, alloc * MAX_FIELDS * sizeof(char *));
            if (g_fields.f == NULL) {
                die("out of memory");
            }
        }
        memset(&g_fields.f[g_fields.nlines * MAX_FIELDS], 0,
               MAX_FIELDS * sizeof(char *));
        for (tok = strtok_r(line, " \t\r\n", &save); tok && k < MAX_FIELDS;
             tok = strtok_r(NULL, " \t\r\n", &save))
        {
            g_fields.f[g_fields.nlines * MAX_FIELDS + k++] = strdup(tok);
        }
        g_fields.nlines++;
    }
    free(line);
    fclose(fp);
    if (g_fields.nlines == 0) {
        die("%s has no lines", path);
    }
}

/* appends the expansion of tpl for index idx to buf (grown as needed) */
typedef struct { char *p; size_t len, cap; } sbuf_t;

static void sb_add(sbuf_t *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        if (b->p == NULL) {
            die("out of memory");
        }
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_str(sbuf_t *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

static void expand(sbuf_t *b, const char *tpl, long idx)
{
    const char *p;
    char num[32];

    for (p = tpl; *p; p++) {
        if (*p != '%') {
            sb_add(b, p, 1);
            continue;
        }
        p++;
        if (*p == 'd') {
            snprintf(num, sizeof(num), "%ld", idx);
            sb_str(b, num);
        } else if (*p >= '1' && *p <= '9') {
            const char *v;
            if (g_fields.nlines == 0) {
                die("template \"%s\" uses %%%c but no -f file was given", tpl, *p);
            }
            v = g_fields.f[(idx % g_fields.nlines) * MAX_FIELDS + (*p - '1')];
            if (v == NULL) {
                die("template \"%s\": line %ld has no field %c", tpl,
                    (long) (idx % g_fields.nlines) + 1, *p);
            }
            sb_str(b, v);
        } else if (*p == '%') {
            sb_add(b, "%", 1);
        } else {
            die("template \"%s\": unknown %%%c", tpl, *p ? *p : '?');
        }
    }
}

typedef struct {
    const char *method;
    const char *url;
    const char *body;              /* NULL: no body */
    const char *headers[MAX_HEADERS];
    int         nheaders;
} reqtpl_t;

static int g_port;

/* builds a complete request; returns malloc'd buffer */
static char *build_request(const reqtpl_t *t, long idx, size_t *len)
{
    sbuf_t b = { 0 }, body = { 0 };
    char tmp[64];
    int i;

    sb_str(&b, t->method);
    sb_str(&b, " ");
    expand(&b, t->url, idx);
    snprintf(tmp, sizeof(tmp), " HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n", g_port);
    sb_str(&b, tmp);
    for (i = 0; i < t->nheaders; i++) {
        expand(&b, t->headers[i], idx);
        sb_str(&b, "\r\n");
    }
    if (t->body) {
        sb_str(&body, "");
        expand(&body, t->body, idx);
        snprintf(tmp, sizeof(tmp), "Content-Length: %zu\r\n", body.len);
        sb_str(&b, tmp);
    }
    sb_str(&b, "\r\n");
    if (t->body && body.len) {
        sb_add(&b, body.p, body.len);
    }
    free(body.p);
    *len = b.len;
    return b.p;
}

/* ------------------------------------------------------ response parser */

enum { R_HEAD, R_CLEN, R_CHUNK_SIZE, R_CHUNK_DATA, R_CHUNK_CRLF,
       R_TRAILER, R_UNTIL_CLOSE, R_DONE };

typedef struct {
    int       state;
    int       status;
    int       close;           /* Connection: close or HTTP/1.0 */
    int       head_request;
    long long remain;
    char      hbuf[HBUF_SIZE];
    size_t    hlen;
    char      line[64];        /* chunk size / trailer line */
    size_t    linelen;
    char      body[BODY_KEEP + 1];
    size_t    blen;
    char      cookie[160];     /* value of the saved cookie, if any */
} resp_t;

static const char *g_save_cookie;   /* cookie name to extract */

static void resp_reset(resp_t *r)
{
    r->state = R_HEAD;
    r->status = 0;
    r->close = 0;
    r->remain = 0;
    r->hlen = 0;
    r->linelen = 0;
    r->blen = 0;
    r->cookie[0] = '\0';
}

static void keep_body(resp_t *r, const char *p, size_t n)
{
    size_t room = BODY_KEEP - r->blen;
    if (n > room) {
        n = room;
    }
    memcpy(r->body + r->blen, p, n);
    r->blen += n;
    r->body[r->blen] = '\0';
}

static int ci_prefix(const char *s, const char *end, const char *name)
{
    size_t n = strlen(name);
    return (size_t) (end - s) >= n && strncasecmp(s, name, n) == 0;
}

/* header block hbuf[0..hlen) ends with \r\n\r\n; returns -1 on garbage */
static int parse_head(resp_t *r)
{
    char *p = r->hbuf, *end = r->hbuf + r->hlen, *eol;
    long long clen = -1;
    int chunked = 0, http10 = 0;

    if (r->hlen < 12 || strncmp(p, "HTTP/1.", 7) != 0) {
        return -1;
    }
    http10 = p[7] == '0';
    r->status = atoi(p + 9);
    if (r->status < 100 || r->status > 999) {
        return -1;
    }
    eol = memchr(p, '\n', end - p);
    while (eol && eol + 1 < end) {
        char *h = eol + 1, *v;
        eol = memchr(h, '\n', end - h);
        if (eol == NULL) {
            break;
        }
        v = memchr(h, ':', eol - h);
        if (v == NULL) {
            continue;
        }
        v++;
        while (v < eol && (*v == ' ' || *v == '\t')) {
            v++;
        }
        if (ci_prefix(h, eol, "content-length:")) {
            clen = atoll(v);
        } else if (ci_prefix(h, eol, "transfer-encoding:")) {
            if (memmem(v, eol - v, "chunked", 7)) {
                chunked = 1;
            }
        } else if (ci_prefix(h, eol, "connection:")) {
            if (ci_prefix(v, eol, "close")) {
                r->close = 1;
            }
        } else if (g_save_cookie && ci_prefix(h, eol, "set-cookie:")) {
            size_t nl = strlen(g_save_cookie);
            if ((size_t) (eol - v) > nl && strncmp(v, g_save_cookie, nl) == 0
                && v[nl] == '=')
            {
                char *s = v + nl + 1;
                size_t k = 0;
                while (s < eol && *s != ';' && *s != '\r' && k + 1 < sizeof(r->cookie)) {
                    r->cookie[k++] = *s++;
                }
                r->cookie[k] = '\0';
            }
        }
    }
    if (http10) {
        r->close = 1;
    }
    if (r->status < 200) {          /* 1xx: skip it, read the next head */
        r->hlen = 0;
        r->status = 0;
        return 1;
    }
    if (r->head_request || r->status == 204 || r->status == 304) {
        r->state = R_DONE;
    } else if (chunked) {
        r->state = R_CHUNK_SIZE;
        r->linelen = 0;
    } else if (clen >= 0) {
        r->remain = clen;
        r->state = clen ? R_CLEN : R_DONE;
    } else {
        r->state = R_UNTIL_CLOSE;
        r->close = 1;
    }
    return 0;
}

/* feeds bytes; returns 1 when the response is complete, 0 for more, -1 error.
 * *used gets the number of bytes consumed. */
static int resp_feed(resp_t *r, const char *p, size_t n, size_t *used)
{
    size_t i = 0;

    while (i < n && r->state != R_DONE) {
        switch (r->state) {
        case R_HEAD: {
            /* copy byte by byte until \r\n\r\n (cheap: heads are small) */
            size_t k;
            for (k = i; k < n; k++) {
                if (r->hlen + 1 >= HBUF_SIZE) {
                    return -1;
                }
                r->hbuf[r->hlen++] = p[k];
                if (r->hlen >= 4 && memcmp(r->hbuf + r->hlen - 4, "\r\n\r\n", 4) == 0) {
                    break;
                }
            }
            if (k == n) {
                i = n;
                break;
            }
            i = k + 1;
            r->hbuf[r->hlen] = '\0';
            if (parse_head(r) < 0) {
                return -1;
            }
            break;
        }
        case R_CLEN: {
            size_t take = n - i;
            if ((long long) take > r->remain) {
                take = (size_t) r->remain;
            }
            keep_body(r, p + i, take);
            i += take;
            r->remain -= take;
            if (r->remain == 0) {
                r->state = R_DONE;
            }
            break;
        }
        case R_CHUNK_SIZE:
        case R_TRAILER:
        case R_CHUNK_CRLF: {
            char c = p[i++];
            if (c != '\n') {
                if (r->linelen + 1 < sizeof(r->line)) {
                    r->line[r->linelen++] = c;
                }
                break;
            }
            r->line[r->linelen] = '\0';
            if (r->linelen && r->line[r->linelen - 1] == '\r') {
                r->line[--r->linelen] = '\0';
            }
            if (r->state == R_CHUNK_CRLF) {
                r->state = R_CHUNK_SIZE;
            } else if (r->state == R_TRAILER) {
                if (r->linelen == 0) {
                    r->state = R_DONE;
                }
            } else {
                char *end;
                long long sz = strtoll(r->line, &end, 16);
                if (end == r->line || sz < 0) {
                    return -1;
                }
                if (sz == 0) {
                    r->state = R_TRAILER;
                } else {
                    r->remain = sz;
                    r->state = R_CHUNK_DATA;
                }
            }
            r->linelen = 0;
            break;
        }
        case R_CHUNK_DATA: {
            size_t take = n - i;
            if ((long long) take > r->remain) {
                take = (size_t) r->remain;
            }
            keep_body(r, p + i, take);
            i += take;
            r->remain -= take;
            if (r->remain == 0) {
                r->state = R_CHUNK_CRLF;
            }
            break;
        }
        case R_UNTIL_CLOSE:
            keep_body(r, p + i, n - i);
            i = n;
            break;
        }
    }
    *used = i;
    return r->state == R_DONE;
}

/* response ended by EOF: complete only if it was delimited by close */
static int resp_eof(resp_t *r)
{
    if (r->state == R_UNTIL_CLOSE) {
        r->state = R_DONE;
        return 1;
    }
    return r->state == R_DONE;
}

/* value of "key":"value" in a JSON body (no unescaping; ids need none) */
static int json_string(const char *body, const char *key, char *out, size_t outsz)
{
    char pat[80];
    const char *p, *q;
    size_t k = 0;

    snprintf(pat, sizeof(pat), "\"%s\"", key);
    p = strstr(body, pat);
    if (p == NULL) {
        return -1;
    }
    p += strlen(pat);
    while (*p == ' ' || *p == ':' || *p == '\t') {
        p++;
    }
    if (*p != '"') {
        return -1;
    }
    for (q = p + 1; *q && *q != '"' && k + 1 < outsz; q++) {
        out[k++] = *q;
    }
    out[k] = '\0';
    return *q == '"' ? 0 : -1;
}

/* ------------------------------------------------------------ connections */

enum { C_FREE, C_CONNECTING, C_WRITING, C_READING, C_IDLE, C_DONE };

typedef struct {
    int      fd;
    int      state;
    int      role;            /* 0 parked poll, 1 publisher */
    long     idx;             /* channel / request index */
    char    *req;
    size_t   reqlen, reqoff;
    int64_t  t_first;         /* first response byte */
    int64_t  t_sent;
    int      status;
    int      early;
    int      err;
    int      complete;
    resp_t  *r;
} conn_t;

static int g_ep;
static struct sockaddr_in g_addr;

static void ep_set(int fd, uint32_t events, void *ptr, int add)
{
    struct epoll_event ev;
    ev.events = events;
    ev.data.ptr = ptr;
    if (epoll_ctl(g_ep, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev) != 0) {
        die("epoll_ctl: %s", strerror(errno));
    }
}

/* starts a non-blocking connect; returns 0 or -1 */
static int conn_open(conn_t *c)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;

    if (fd < 0) {
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (struct sockaddr *) &g_addr, sizeof(g_addr)) != 0
        && errno != EINPROGRESS)
    {
        close(fd);
        return -1;
    }
    c->fd = fd;
    c->state = C_CONNECTING;
    ep_set(fd, EPOLLOUT | EPOLLIN | EPOLLRDHUP, c, 1);
    return 0;
}

static void conn_close(conn_t *c)
{
    if (c->fd >= 0) {
        close(c->fd);       /* also removes it from epoll */
        c->fd = -1;
    }
}

/* writes what it can; returns 1 when all written, 0 partial, -1 error */
static int conn_write(conn_t *c)
{
    while (c->reqoff < c->reqlen) {
        ssize_t n = write(c->fd, c->req + c->reqoff, c->reqlen - c->reqoff);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) {
                return 0;
            }
            return -1;
        }
        c->reqoff += (size_t) n;
    }
    return 1;
}

static int connect_result(conn_t *c)
{
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err) {
        return -1;
    }
    return 0;
}

static char g_rbuf[65536];

/* ------------------------------------------------------------- park mode */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return x < y ? -1 : x > y;
}

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void) sig;
    g_stop = 1;
}

typedef struct {
    long     n, channels, settle_ms, timeout_s, max_connecting, pubconns;
    long     quiet_ms;
    int      watch_pid;
    const char *cmd;
    reqtpl_t sub, pub;
    int      have_pub;
} park_opts_t;

static void usage(void)
{
    fprintf(stderr,
"usage:\n"
"  loadgen park -p PORT -n N -u URL [-C CHANNELS] [-H HEADER]... [-f FILE]\n"
"               [-s SETTLE_MS] [-t TIMEOUT_S] [-w PID [-q QUIET_MS]] [-m MAX_CONNECTING]\n"
"               ( -x COMMAND | -U PUB_URL [-M METHOD] [-B BODY] [-K HEADER]... [-k CONNS] )\n"
"      N polls; poll i is on channel i %% CHANNELS (its templates get %%d = channel).\n"
"      After all are sent and SETTLE_MS passed, publishes once to every channel\n"
"      (PUB templates with %%d = channel, on CONNS keep-alive connections), or runs\n"
"      COMMAND with sh -c, and times the first response byte of every poll from\n"
"      the start of the publication. -w: print VmRSS of PID before and parked;\n"
"      -q: end the settle time early once PID used no CPU for QUIET_MS.\n"
"  loadgen publish -p PORT -U URL [-M METHOD] [-B BODY] [-H HEADER]... [-f FILE]\n"
"               [-c CONNS] (-d SECONDS | -n COUNT) [-o OUT --save-cookie NAME --save-json KEY]\n"
"      Requests on CONNS keep-alive connections as fast as they are answered;\n"
"      %%d = request number. -o writes \"<cookie> <json value>\" per request, in order.\n"
"  loadgen serve -p PORT [-t LIFETIME_S]\n"
"      Floor server: parks GETs, answers those on channel K (trailing number of\n"
"      the path) when a request to a path containing /pub/ ending in K arrives.\n"
"Templates: %%d index, %%1..%%9 fields of line (index mod lines) of FILE, %%%% = %%.\n");
    exit(2);
}

static void print_rss(const char *label, rss_t r)
{
    printf("rss_%s_kb=%ld anon_%s_kb=%ld shmem_%s_kb=%ld", label, r.rss, label,
           r.anon, label, r.shmem);
}

static int park(park_opts_t *o)
{
    long total = o->n + (o->have_pub ? o->pubconns : 0);
    conn_t *conns = xcalloc((size_t) total, sizeof(conn_t));
    struct epoll_event *evs = xcalloc(1024, sizeof(struct epoll_event));
    long opened = 0, sent = 0, connecting = 0, conn_errors = 0, early = 0;
    long responded = 0, non200 = 0, errors = 0, finished = 0;
    long pub_next = 0, pub_ok = 0, pub_bad = 0, pub_done = 0;
    int64_t t_start = now_ns(), t_all_sent = 0, t0 = 0, t_pub_end = 0, deadline;
    int64_t quiet_since = 0, next_sample = 0;
    long last_ticks = -1;
    double settled_ms = -1;
    int phase = 0;   /* 0 connecting/sending, 1 settling, 2 pub connecting, 3 published */
    pid_t child = -1;
    int child_status = -1;
    rss_t rss_before = { -1, -1, -1 }, rss_parked = { -1, -1, -1 };
    long i;

    raise_nofile(total + 64);
    if (o->watch_pid) {
        rss_before = read_rss(o->watch_pid);
    }
    for (i = 0; i < total; i++) {
        conns[i].fd = -1;
        conns[i].r = NULL;
    }

    /* all phases share one loop; bounded by the connect phase's deadline
     * (60 s), the settle time, and the timeout after publication */
    deadline = t_start + (int64_t) 60 * 1000000000;

    while (!g_stop) {
        int64_t t = now_ns();
        int nev, e;

        /* phase 0: open more connections, at most max_connecting at once */
        while (phase == 0 && opened < o->n && connecting < o->max_connecting) {
            conn_t *c = &conns[opened];
            c->role = 0;
            c->idx = opened % o->channels;
            c->req = build_request(&o->sub, c->idx, &c->reqlen);
            c->r = xcalloc(1, sizeof(resp_t));
            resp_reset(c->r);
            opened++;
            if (conn_open(c) != 0) {
                c->err = 1;
                c->state = C_DONE;
                conn_errors++;
                finished++;
                continue;
            }
            connecting++;
        }
        if (phase == 0 && opened == o->n && connecting == 0) {
            phase = 1;
            t_all_sent = now_ns();
            deadline = t_all_sent + o->settle_ms * 1000000;
            quiet_since = t_all_sent;
            last_ticks = o->watch_pid ? cpu_ticks(o->watch_pid) : -1;
            next_sample = t_all_sent + 50000000;
        }
        if (phase == 1 && o->quiet_ms && last_ticks >= 0 && t >= next_sample) {
            /* ready early once the watched worker used no CPU for quiet_ms */
            long tk = cpu_ticks(o->watch_pid);
            next_sample = t + 50000000;
            if (tk != last_ticks) {
                last_ticks = tk;
                quiet_since = t;
            } else if (t - quiet_since >= o->quiet_ms * 1000000) {
                deadline = t;
            }
        }
        if (phase == 1 && t >= deadline) {
            settled_ms = ms(t - t_all_sent);
            if (o->watch_pid) {
                rss_parked = read_rss(o->watch_pid);
            }
            if (o->have_pub) {
                /* open the publisher connections; publish once all are up */
                for (i = o->n; i < total; i++) {
                    conn_t *c = &conns[i];
                    c->role = 1;
                    c->r = xcalloc(1, sizeof(resp_t));
                    if (conn_open(c) != 0) {
                        die("cannot connect the publisher connections");
                    }
                }
                connecting = o->pubconns;
                phase = 2;
                deadline = now_ns() + (int64_t) 10 * 1000000000;
            } else {
                phase = 3;
                t0 = now_ns();
                child = fork();
                if (child == 0) {
                    execl("/bin/sh", "sh", "-c", o->cmd, (char *) NULL);
                    _exit(127);
                }
                if (child < 0) {
                    die("fork: %s", strerror(errno));
                }
                deadline = t0 + o->timeout_s * 1000000000;
            }
        }
        if (phase == 2 && connecting == 0) {
            /* all publisher connections are up: go */
            phase = 3;
            t0 = now_ns();
            deadline = t0 + o->timeout_s * 1000000000;
            for (i = o->n; i < total; i++) {
                conn_t *c = &conns[i];
                if (pub_next >= o->channels) {
                    c->state = C_IDLE;
                    continue;
                }
                c->idx = pub_next++;
                free(c->req);
                c->req = build_request(&o->pub, c->idx, &c->reqlen);
                c->reqoff = 0;
                resp_reset(c->r);
                c->state = C_WRITING;
                if (conn_write(c) < 0) {
                    die("publisher write failed");
                }
                c->state = c->reqoff == c->reqlen ? C_READING : C_WRITING;
                if (c->state == C_WRITING) {
                    ep_set(c->fd, EPOLLOUT | EPOLLIN | EPOLLRDHUP, c, 0);
                }
            }
        } else if (phase == 2 && t >= deadline) {
            die("publisher connections did not connect");
        }
        if (child > 0) {
            int st;
            if (waitpid(child, &st, WNOHANG) == child) {
                child_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
                child = -1;
                t_pub_end = now_ns();
                pub_done = 1;
            }
        }
        if (phase == 3 && finished >= o->n
            && (o->have_pub ? pub_done >= o->channels : child < 0))
        {
            break;
        }
        if (phase != 1 && t >= deadline) {
            break;
        }

        nev = epoll_wait(g_ep, evs, 1024, 10);
        if (nev < 0) {
            if (errno == EINTR) {
                continue;
            }
            die("epoll_wait: %s", strerror(errno));
        }
        for (e = 0; e < nev; e++) {
            conn_t *c = evs[e].data.ptr;
            uint32_t ev = evs[e].events;

            if (c->fd < 0 || c->state == C_DONE) {
                continue;
            }
            if (c->state == C_CONNECTING) {
                if (connect_result(c) != 0) {
                    if (c->role == 1) {
                        die("publisher connection failed");
                    }
                    conn_close(c);
                    c->err = 1;
                    c->state = C_DONE;
                    conn_errors++;
                    finished++;
                    connecting--;
                    continue;
                }
                if (c->role == 1) {
                    c->state = C_IDLE;
                    ep_set(c->fd, EPOLLIN | EPOLLRDHUP, c, 0);
                    connecting--;
                    continue;
                }
                c->state = C_WRITING;
            }
            if (c->state == C_WRITING && (ev & EPOLLOUT)) {
                int w = conn_write(c);
                if (w < 0) {
                    conn_close(c);
                    c->err = 1;
                    c->state = C_DONE;
                    if (c->role == 0) {
                        conn_errors++;
                        finished++;
                        connecting--;
                    } else {
                        die("publisher write failed");
                    }
                    continue;
                }
                if (w == 1) {
                    c->state = C_READING;
                    c->t_sent = now_ns();
                    ep_set(c->fd, EPOLLIN | EPOLLRDHUP, c, 0);
                    if (c->role == 0) {
                        connecting--;
                        sent++;
                    }
                }
            }
            if (c->role == 1 && c->state == C_IDLE) {
                /* an idle publisher connection: the server may close it */
                ssize_t n = read(c->fd, g_rbuf, sizeof(g_rbuf));
                if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                    conn_close(c);
                }
                continue;
            }
            if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
                for (;;) {
                    ssize_t n = read(c->fd, g_rbuf, sizeof(g_rbuf));
                    size_t off = 0, used;
                    int rc = 0;

                    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
                        break;
                    }
                    if (n > 0 && c->role == 0 && c->t_first == 0) {
                        c->t_first = now_ns();
                        if (phase < 3) {
                            c->early = 1;
                            early++;
                        }
                    }
                    if (n > 0) {
                        while (off < (size_t) n) {
                            rc = resp_feed(c->r, g_rbuf + off, (size_t) n - off, &used);
                            off += used;
                            if (rc != 0) {
                                break;
                            }
                        }
                    } else {
                        rc = resp_eof(c->r) ? 1 : -1;
                    }
                    if (rc == 0) {
                        continue;
                    }
                    /* response complete (1) or broken (-1) */
                    if (c->role == 0) {
                        if (c->state == C_WRITING) {
                            connecting--;    /* answered before fully sent */
                        }
                        c->status = c->r->status;
                        c->complete = rc == 1;
                        if (rc < 0 || c->status == 0) {
                            c->err = 1;
                            errors++;
                        } else {
                            responded += !c->early;
                            if (c->status != 200) {
                                non200++;
                            }
                        }
                        c->state = C_DONE;
                        finished++;
                        /* keep the socket open until the end: closing now
                         * would add work on both sides inside the timing */
                        epoll_ctl(g_ep, EPOLL_CTL_DEL, c->fd, NULL);
                        break;
                    }
                    /* publisher */
                    if (rc == 1 && c->r->status >= 200 && c->r->status < 300) {
                        pub_ok++;
                    } else {
                        pub_bad++;
                        if (pub_bad <= 3) {
                            fprintf(stderr, "loadgen: publish %ld answered %d: %.200s\n",
                                    c->idx, c->r->status, c->r->body);
                        }
                    }
                    pub_done++;
                    if (pub_done == o->channels) {
                        t_pub_end = now_ns();
                    }
                    if (rc < 0 || c->r->close) {
                        conn_close(c);
                        if (pub_next < o->channels) {
                            /* reconnect and continue */
                            if (conn_open(c) != 0) {
                                die("publisher reconnect failed");
                            }
                            c->idx = pub_next++;
                            free(c->req);
                            c->req = build_request(&o->pub, c->idx, &c->reqlen);
                            c->reqoff = 0;
                            resp_reset(c->r);
                            c->state = C_WRITING;
                            ep_set(c->fd, EPOLLOUT | EPOLLIN | EPOLLRDHUP, c, 0);
                        }
                        break;
                    }
                    if (pub_next < o->channels) {
                        c->idx = pub_next++;
                        free(c->req);
                        c->req = build_request(&o->pub, c->idx, &c->reqlen);
                        c->reqoff = 0;
                        resp_reset(c->r);
                        int w = conn_write(c);
                        if (w < 0) {
                            die("publisher write failed");
                        }
                        c->state = w ? C_READING : C_WRITING;
                        if (!w) {
                            ep_set(c->fd, EPOLLOUT | EPOLLIN | EPOLLRDHUP, c, 0);
                        }
                    } else {
                        c->state = C_IDLE;
                    }
                    if (off < (size_t) n) {
                        continue;  /* surplus bytes: ignore (no pipelining) */
                    }
                    break;
                }
            }
        }
    }

    /* report */
    {
        int64_t *d = xcalloc((size_t) o->n, sizeof(int64_t));
        long nd = 0, timeouts = 0;
        double first = -1, med = -1, p90 = -1, last = -1;

        for (i = 0; i < o->n; i++) {
            conn_t *c = &conns[i];
            if (c->t_first && !c->early && t0) {
                d[nd++] = c->t_first - t0;
            }
            if (c->state != C_DONE && t0 && !c->t_first) {
                timeouts++;
            }
        }
        qsort(d, (size_t) nd, sizeof(int64_t), cmp_i64);
        if (nd) {
            first = ms(d[0]);
            med = ms(d[nd / 2]);
            p90 = ms(d[(nd * 9) / 10 < nd ? (nd * 9) / 10 : nd - 1]);
            last = ms(d[nd - 1]);
        }
        printf("park: polls=%ld channels=%ld sent=%ld connect_errors=%ld "
               "early_responses=%ld send_ms=%.1f settle_ms=%.0f\n",
               o->n, o->channels, sent, conn_errors, early,
               t_all_sent ? ms(t_all_sent - t_start) : -1.0, settled_ms);
        if (o->watch_pid) {
            printf("memory: pid=%d ", o->watch_pid);
            print_rss("before", rss_before);
            printf(" ");
            print_rss("parked", rss_parked);
            printf("\n");
        }
        if (o->have_pub) {
            printf("publish: requests=%ld ok=%ld failed=%ld burst_ms=%.1f\n",
                   pub_done, pub_ok, pub_bad, t_pub_end ? ms(t_pub_end - t0) : -1.0);
        } else {
            printf("publish: command exit=%d ms=%.1f\n", child_status,
                   t_pub_end ? ms(t_pub_end - t0) : -1.0);
        }
        printf("delivery: got=%ld/%ld non200=%ld errors=%ld timeouts=%ld "
               "first_ms=%.2f median_ms=%.2f p90_ms=%.2f last_ms=%.2f\n",
               nd, o->n, non200, errors, timeouts, first, med, p90, last);
        printf("RESULT polls=%ld channels=%ld got=%ld early=%ld non200=%ld "
               "errors=%ld timeouts=%ld connect_errors=%ld first_ms=%.2f "
               "median_ms=%.2f last_ms=%.2f pub_ms=%.2f pub_ok=%ld pub_failed=%ld",
               o->n, o->channels, nd, early, non200, errors, timeouts,
               conn_errors, first, med, last, t_pub_end ? ms(t_pub_end - t0) : -1.0,
               o->have_pub ? pub_ok : (long) (child_status == 0),
               o->have_pub ? pub_bad : (long) (child_status != 0));
        if (o->watch_pid) {
            printf(" ");
            print_rss("before", rss_before);
            printf(" ");
            print_rss("parked", rss_parked);
        }
        printf("\n");
        /* a non-200 poll response body helps to see why */
        for (i = 0; i < o->n; i++) {
            if (conns[i].status && conns[i].status != 200) {
                fprintf(stderr, "loadgen: poll %ld answered %d: %.200s\n", i,
                        conns[i].status, conns[i].r ? conns[i].r->body : "");
                break;
            }
        }
        for (i = 0; i < total; i++) {
            conn_close(&conns[i]);
            free(conns[i].req);
            free(conns[i].r);
        }
        if (child > 0) {
            kill(child, SIGTERM);
            waitpid(child, NULL, 0);
        }
        free(d);
        free(conns);
        free(evs);
        return (nd == o->n && non200 == 0 && errors == 0 && early == 0) ? 0 : 1;
    }
}

/* ---------------------------------------------------------- publish mode */

typedef struct {
    long        conns, count, duration_s;
    reqtpl_t    req;
    const char *out;
    const char *save_json;
} pub_opts_t;

static int publish(pub_opts_t *o)
{
    conn_t *conns = xcalloc((size_t) o->conns, sizeof(conn_t));
    struct epoll_event *evs = xcalloc(1024, sizeof(struct epoll_event));
    long next = 0, done = 0, errors = 0, reconnects = 0, i;
    long status[1000] = { 0 };
    char **outl = NULL;
    int64_t t_start, t_end, deadline;
    long limit = o->count > 0 ? o->count : -1;

    raise_nofile(o->conns + 64);
    if (o->out) {
        if (limit < 0) {
            die("-o needs -n");
        }
        outl = xcalloc((size_t) limit, sizeof(char *));
    }
    t_start = now_ns();
    deadline = t_start + (o->duration_s > 0 ? o->duration_s : 300) * (int64_t) 1000000000;

    for (i = 0; i < o->conns; i++) {
        conn_t *c = &conns[i];
        c->r = xcalloc(1, sizeof(resp_t));
        c->role = 1;
        c->fd = -1;
        if (limit >= 0 && next >= limit) {
            c->state = C_DONE;
            continue;
        }
        if (conn_open(c) != 0) {
            die("connect to 127.0.0.1:%d failed: %s", g_port, strerror(errno));
        }
        c->idx = next++;
        c->req = build_request(&o->req, c->idx, &c->reqlen);
        resp_reset(c->r);
    }

    while (!g_stop) {
        int64_t t = now_ns();
        int nev, e, active = 0;

        for (i = 0; i < o->conns; i++) {
            active += conns[i].state != C_DONE;
        }
        if (active == 0 || t >= deadline) {
            break;
        }
        nev = epoll_wait(g_ep, evs, 1024, 10);
        if (nev < 0) {
            if (errno == EINTR) {
                continue;
            }
            die("epoll_wait: %s", strerror(errno));
        }
        for (e = 0; e < nev; e++) {
            conn_t *c = evs[e].data.ptr;
            uint32_t ev = evs[e].events;
            int finished = 0, broken = 0;

            if (c->fd < 0) {
                continue;
            }
            if (c->state == C_CONNECTING) {
                if (connect_result(c) != 0) {
                    die("connect to 127.0.0.1:%d failed", g_port);
                }
                c->state = C_WRITING;
            }
            if (c->state == C_WRITING && (ev & EPOLLOUT)) {
                int w = conn_write(c);
                if (w < 0) {
                    broken = 1;
                } else if (w == 1) {
                    c->state = C_READING;
                    ep_set(c->fd, EPOLLIN | EPOLLRDHUP, c, 0);
                }
            }
            if (!broken && (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
                for (;;) {
                    ssize_t n = read(c->fd, g_rbuf, sizeof(g_rbuf));
                    size_t off = 0, used;
                    int rc = 0;
                    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
                        break;
                    }
                    if (n > 0) {
                        while (off < (size_t) n && rc == 0) {
                            rc = resp_feed(c->r, g_rbuf + off, (size_t) n - off, &used);
                            off += used;
                        }
                    } else {
                        rc = resp_eof(c->r) ? 1 : -1;
                    }
                    if (rc == 1) {
                        finished = 1;
                    } else if (rc < 0) {
                        broken = 1;
                    }
                    if (rc != 0) {
                        break;
                    }
                }
            }
            if (finished) {
                int st = c->r->status;
                status[st < 1000 ? st : 999]++;
                done++;
                if (outl && c->idx < limit) {
                    char val[160] = "-";
                    char line[400];
                    if (o->save_json) {
                        if (json_string(c->r->body, o->save_json, val, sizeof(val)) != 0) {
                            strcpy(val, "-");
                        }
                    }
                    snprintf(line, sizeof(line), "%s %s",
                             c->r->cookie[0] ? c->r->cookie : "-", val);
                    outl[c->idx] = strdup(line);
                }
            } else if (broken) {
                errors++;
            }
            if (finished || broken) {
                int reopen = broken || c->r->close;
                if ((limit >= 0 && next >= limit) || now_ns() >= deadline) {
                    conn_close(c);
                    c->state = C_DONE;
                    continue;
                }
                if (reopen) {
                    conn_close(c);
                    reconnects++;
                    if (reconnects > 100000) {
                        die("too many reconnects");
                    }
                    if (conn_open(c) != 0) {
                        die("reconnect failed: %s", strerror(errno));
                    }
                }
                if (broken && !finished && c->idx >= 0) {
                    /* retry the same index (once per break, bounded above) */
                } else {
                    c->idx = next++;
                }
                free(c->req);
                c->req = build_request(&o->req, c->idx, &c->reqlen);
                c->reqoff = 0;
                resp_reset(c->r);
                if (!reopen) {
                    int w = conn_write(c);
                    if (w < 0) {
                        die("write failed: %s", strerror(errno));
                    }
                    c->state = w ? C_READING : C_WRITING;
                    if (!w) {
                        ep_set(c->fd, EPOLLOUT | EPOLLIN | EPOLLRDHUP, c, 0);
                    }
                }
            }
        }
    }
    t_end = now_ns();

    {
        double secs = (double) (t_end - t_start) / 1e9;
        long ok = 0, s;
        for (s = 200; s < 300; s++) {
            ok += status[s];
        }
        printf("publish: conns=%ld seconds=%.2f responses=%ld rate=%.0f/s "
               "ok_2xx=%ld ok_rate=%.0f/s errors=%ld reconnects=%ld statuses:",
               o->conns, secs, done, done / secs, ok, ok / secs, errors, reconnects);
        for (s = 0; s < 1000; s++) {
            if (status[s]) {
                printf(" %ld=%ld", s, status[s]);
            }
        }
        printf("\nRESULT responses=%ld rate=%.0f ok=%ld ok_rate=%.0f errors=%ld\n",
               done, done / secs, ok, ok / secs, errors);
        if (outl) {
            FILE *f = fopen(o->out, "w");
            if (f == NULL) {
                die("cannot write %s: %s", o->out, strerror(errno));
            }
            for (i = 0; i < limit; i++) {
                fprintf(f, "%s\n", outl[i] ? outl[i] : "- -");
                free(outl[i]);
            }
            fclose(f);
            free(outl);
        }
        for (i = 0; i < o->conns; i++) {
            conn_close(&conns[i]);
            free(conns[i].req);
            free(conns[i].r);
        }
        free(conns);
        free(evs);
        return errors == 0 && ok == done ? 0 : 1;
    }
}

/* ------------------------------------------------------------ serve mode */

typedef struct sconn_s {
    int              fd;
    long             chan;
    int              parked;
    char             buf[2048];
    size_t           len;
    struct sconn_s  *next;      /* in its channel's list */
    struct sconn_s  *prev;
} sconn_t;

#define SERVE_CHANNELS 1000003

static const char g_answer[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 8\r\n\r\nmessage\n";

static long path_channel(const char *path, size_t len)
{
    size_t e = len, b;
    long v = 0;
    while (e > 0 && (path[e - 1] < '0' || path[e - 1] > '9')) {
        e--;
    }
    b = e;
    while (b > 0 && path[b - 1] >= '0' && path[b - 1] <= '9' && e - b < 9) {
        b--;
    }
    for (; b < e; b++) {
        v = v * 10 + (path[b] - '0');
    }
    return v % SERVE_CHANNELS;
}

static void sclose(sconn_t **heads, sconn_t *s)
{
    if (s->parked) {
        if (s->prev) {
            s->prev->next = s->next;
        } else {
            heads[s->chan] = s->next;
        }
        if (s->next) {
            s->next->prev = s->prev;
        }
    }
    close(s->fd);
    free(s);
}

static int serve(long lifetime_s)
{
    sconn_t **heads = xcalloc(SERVE_CHANNELS, sizeof(sconn_t *));
    struct epoll_event evs[512];
    int lfd, one = 1;
    int64_t deadline = now_ns() + lifetime_s * (int64_t) 1000000000;
    static int listen_tag;

    raise_nofile_to_hard();
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (lfd < 0 || bind(lfd, (struct sockaddr *) &g_addr, sizeof(g_addr)) != 0
        || listen(lfd, 65535) != 0)
    {
        die("cannot listen on 127.0.0.1:%d: %s", g_port, strerror(errno));
    }
    ep_set(lfd, EPOLLIN, &listen_tag, 1);
    printf("serve: listening on 127.0.0.1:%d\n", g_port);
    fflush(stdout);

    while (!g_stop && now_ns() < deadline) {
        int nev = epoll_wait(g_ep, evs, 512, 200), e;
        if (nev < 0 && errno != EINTR) {
            die("epoll_wait: %s", strerror(errno));
        }
        for (e = 0; e < nev; e++) {
            if (evs[e].data.ptr == &listen_tag) {
                for (;;) {
                    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    sconn_t *s;
                    if (fd < 0) {
                        break;
                    }
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                    s = xcalloc(1, sizeof(sconn_t));
                    s->fd = fd;
                    ep_set(fd, EPOLLIN | EPOLLRDHUP, s, 1);
                }
                continue;
            }
            {
                sconn_t *s = evs[e].data.ptr;
                ssize_t n = read(s->fd, s->buf + s->len, sizeof(s->buf) - 1 - s->len);
                char *end, *sp1, *sp2;
                size_t reqlen;

                if (n <= 0) {
                    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
                        continue;
                    }
                    sclose(heads, s);
                    continue;
                }
                s->len += (size_t) n;
                s->buf[s->len] = '\0';
                end = strstr(s->buf, "\r\n\r\n");
                if (end == NULL) {
                    if (s->len + 1 >= sizeof(s->buf)) {
                        sclose(heads, s);
                    }
                    continue;
                }
                reqlen = (size_t) (end + 4 - s->buf);
                {
                    /* skip a body by Content-Length (publishers send one) */
                    char *cl = strcasestr(s->buf, "\r\ncontent-length:");
                    if (cl && cl < end) {
                        size_t blen = (size_t) atol(cl + 17);
                        if (s->len < reqlen + blen) {
                            if (reqlen + blen + 1 >= sizeof(s->buf)) {
                                sclose(heads, s);
                            }
                            continue;
                        }
                        reqlen += blen;
                    }
                }
                sp1 = strchr(s->buf, ' ');
                sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
                if (sp2 == NULL) {
                    sclose(heads, s);
                    continue;
                }
                if (memmem(sp1 + 1, sp2 - sp1 - 1, "/pub/", 5)) {
                    long ch = path_channel(sp1 + 1, sp2 - sp1 - 1);
                    sconn_t *w = heads[ch], *nx;
                    heads[ch] = NULL;
                    for (; w; w = nx) {
                        nx = w->next;
                        w->parked = 0;
                        if (write(w->fd, g_answer, sizeof(g_answer) - 1) < 0) {
                            /* the client went away: nothing to do */
                        }
                        w->len = 0;
                    }
                    if (write(s->fd, g_answer, sizeof(g_answer) - 1) < 0) {
                        sclose(heads, s);
                        continue;
                    }
                    memmove(s->buf, s->buf + reqlen, s->len - reqlen);
                    s->len -= reqlen;
                } else if (!s->parked) {
                    s->chan = path_channel(sp1 + 1, sp2 - sp1 - 1);
                    s->parked = 1;
                    s->prev = NULL;
                    s->next = heads[s->chan];
                    if (s->next) {
                        s->next->prev = s;
                    }
                    heads[s->chan] = s;
                    s->len = 0;
                }
            }
        }
    }
    close(lfd);
    free(heads);
    return 0;
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv)
{
    const char *mode;
    park_opts_t po;
    pub_opts_t pb;
    long lifetime = 600;
    int i;

    if (argc < 2) {
        usage();
    }
    mode = argv[1];
    memset(&po, 0, sizeof(po));
    memset(&pb, 0, sizeof(pb));
    po.channels = 1;
    po.settle_ms = 2000;
    po.timeout_s = 30;
    po.max_connecting = 200;
    po.sub.method = "GET";
    po.pub.method = "POST";
    pb.conns = 16;
    pb.req.method = "POST";

    for (i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v == NULL) {
            die("option %s needs a value", a);
        }
        i++;
        if (strcmp(a, "-p") == 0) {
            g_port = (int) parse_long(v, 1, 65535, "port");
        } else if (strcmp(a, "-n") == 0) {
            pb.count = parse_long(v, 1, 10000000, "count");
            po.n = pb.count;
        } else if (strcmp(a, "-C") == 0) {
            po.channels = parse_long(v, 1, MAX_CONNS, "channels");
        } else if (strcmp(a, "-u") == 0) {
            po.sub.url = v;
        } else if (strcmp(a, "-U") == 0) {
            po.pub.url = v;
            pb.req.url = v;
            po.have_pub = 1;
        } else if (strcmp(a, "-M") == 0) {
            po.pub.method = v;
            pb.req.method = v;
        } else if (strcmp(a, "-B") == 0) {
            po.pub.body = v;
            pb.req.body = v;
        } else if (strcmp(a, "-H") == 0) {
            if (po.sub.nheaders == MAX_HEADERS) {
                die("too many -H");
            }
            po.sub.headers[po.sub.nheaders++] = v;
            pb.req.headers[pb.req.nheaders++] = v;
        } else if (strcmp(a, "-K") == 0) {
            if (po.pub.nheaders == MAX_HEADERS) {
                die("too many -K");
            }
            po.pub.headers[po.pub.nheaders++] = v;
        } else if (strcmp(a, "-f") == 0) {
            load_fields(v);
        } else if (strcmp(a, "-s") == 0) {
            po.settle_ms = parse_long(v, 0, 600000, "settle ms");
        } else if (strcmp(a, "-t") == 0) {
            po.timeout_s = parse_long(v, 1, 600, "timeout");
            lifetime = po.timeout_s;
        } else if (strcmp(a, "-w") == 0) {
            po.watch_pid = (int) parse_long(v, 1, 1 << 22, "pid");
        } else if (strcmp(a, "-q") == 0) {
            po.quiet_ms = parse_long(v, 0, 60000, "quiet ms");
        } else if (strcmp(a, "-m") == 0) {
            po.max_connecting = parse_long(v, 1, 100000, "max connecting");
        } else if (strcmp(a, "-k") == 0) {
            po.pubconns = parse_long(v, 1, 1000, "publisher conns");
        } else if (strcmp(a, "-x") == 0) {
            po.cmd = v;
        } else if (strcmp(a, "-c") == 0) {
            pb.conns = parse_long(v, 1, 10000, "conns");
            po.max_connecting = pb.conns;
        } else if (strcmp(a, "-d") == 0) {
            pb.duration_s = parse_long(v, 1, 600, "seconds");
        } else if (strcmp(a, "-o") == 0) {
            pb.out = v;
        } else if (strcmp(a, "--save-cookie") == 0) {
            g_save_cookie = v;
        } else if (strcmp(a, "--save-json") == 0) {
            pb.save_json = v;
        } else {
            die("unknown option %s", a);
        }
    }
    if (g_port == 0) {
        die("-p PORT is required");
    }

    memset(&g_addr, 0, sizeof(g_addr));
    g_addr.sin_family = AF_INET;
    g_addr.sin_port = htons((uint16_t) g_port);
    g_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);   /* loopback only */

    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    setvbuf(stdout, NULL, _IOLBF, 0);
    g_ep = epoll_create1(EPOLL_CLOEXEC);
    if (g_ep < 0) {
        die("epoll_create1: %s", strerror(errno));
    }

    if (strcmp(mode, "park") == 0) {
        if (po.n == 0 || po.sub.url == NULL) {
            die("park needs -n and -u");
        }
        if (po.n > MAX_CONNS) {
            die("park: at most %d polls", MAX_CONNS);
        }
        if (po.have_pub && strcmp(po.pub.method, "GET") != 0 && po.pub.body == NULL) {
            po.pub.body = "";
        }
        if (po.have_pub == (po.cmd != NULL)) {
            die("park needs exactly one of -x COMMAND and -U PUB_URL");
        }
        if (po.channels > po.n) {
            po.channels = po.n;
        }
        if (po.pubconns == 0) {
            po.pubconns = po.channels < 16 ? po.channels : 16;
        }
        if (po.pubconns > po.channels) {
            po.pubconns = po.channels;
        }
        return park(&po);
    }
    if (strcmp(mode, "publish") == 0) {
        if (pb.req.url == NULL) {
            die("publish needs -U URL");
        }
        if (pb.duration_s == 0 && pb.count == 0) {
            die("publish needs -d SECONDS or -n COUNT");
        }
        if (pb.duration_s && pb.count) {
            /* both: stop at whichever comes first */
        }
        if (strcmp(pb.req.method, "GET") != 0 && strcmp(pb.req.method, "HEAD") != 0
            && pb.req.body == NULL)
        {
            pb.req.body = "";
        }
        return publish(&pb);
    }
    if (strcmp(mode, "serve") == 0) {
        return serve(lifetime);
    }
    usage();
    return 2;
}
