#!/usr/bin/env bash
# Where the worker's bytes go for one parked ChatPort long-poll.
#
# Starts a private Redis and one nginx (one worker) with ChatPort and
# `error_log ... debug`, creates a visitor, parks POLLS long-polls one after
# the other on fresh connections, and lists every allocation nginx's debug
# log shows for each poll's connection: the connection pool, the client
# header buffer, the request pool's blocks (posix_memalign/malloc lines of
# that connection). ChatPort's own ngx_alloc()s (its channel record, a
# Redis command in flight) are logged without a connection and listed
# apart; hiredis's mallocs are not logged at all. Needs an nginx built
# --with-debug (Debian's is). Everything runs on 127.0.0.1 and is stopped by
# pid on exit.
#
#   bash bench/poll-allocs.sh
#
# Settings (environment):
#   POLLS=3               polls to park
#   BROWSER=0             1: the polls carry the headers Chromium sends with
#                         the widget's poll (690 bytes more than curl's)
#   HTTP_CONF=""          more directives for the http{} block, e.g.
#                         HTTP_CONF="request_pool_size 7k;"
#   CHATPORT_BUILD=1      run `make` in the repo root first (0: use the built .so)
#   CHATPORT_MODULE=...   module path (default build/nginx/objs/ngx_http_chatport_module.so)
#   NGINX=/usr/sbin/nginx
#   KEEP=0                1: keep build/bench/poll-allocs/run-<pid>/

set -u
set -o pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
POLLS=${POLLS:-3}
HTTP_CONF=${HTTP_CONF:-}
BROWSER=${BROWSER:-0}
CHATPORT_BUILD=${CHATPORT_BUILD:-1}
CHATPORT_MODULE=${CHATPORT_MODULE:-$REPO/build/nginx/objs/ngx_http_chatport_module.so}
NGINX=${NGINX:-/usr/sbin/nginx}
KEEP=${KEEP:-0}

# shellcheck source=lib.sh
. "$REPO/bench/lib.sh"
RUN=$REPO/build/bench/poll-allocs/run-$$

warn() { printf 'poll-allocs: %s\n' "$*" >&2; }

case $POLLS in ''|*[!0-9]*|0) warn "POLLS must be 1 or more"; exit 1;; esac

STARTED=()
cleanup() {
    local pid
    for pid in "${STARTED[@]}"; do
        stop_pid "$pid"
    done
    [ "$KEEP" = 1 ] || rm -rf "$RUN"
}
trap cleanup EXIT
trap 'warn interrupted; exit 130' INT TERM

"$NGINX" -V 2>&1 | grep -q -- '--with-debug' || {
    warn "$NGINX is not built --with-debug: its log shows no allocations"; exit 1; }

if [ "$CHATPORT_BUILD" = 1 ]; then
    make -C "$REPO" >/dev/null 2>&1 || { warn "make failed"; exit 1; }
fi
[ -f "$CHATPORT_MODULE" ] || { warn "no module at $CHATPORT_MODULE"; exit 1; }

mkdir -p "$RUN/tmp"
REDIS_PORT=$(free_port)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize no --dir "$RUN" --logfile "$RUN/redis.log" >/dev/null 2>&1 &
STARTED+=("$!")
for i in $(seq 100); do
    redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
    sleep 0.05
done

PORT=$(free_port)
cat >"$RUN/nginx.conf" <<EOF
load_module $CHATPORT_MODULE;
worker_processes 1;
pid $RUN/nginx.pid;
error_log $RUN/error.log debug;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $RUN/tmp/body;
    proxy_temp_path $RUN/tmp/proxy;
    fastcgi_temp_path $RUN/tmp/fastcgi;
    uwsgi_temp_path $RUN/tmp/uwsgi;
    scgi_temp_path $RUN/tmp/scgi;
    chatport_redis 127.0.0.1:$REDIS_PORT;
    $HTTP_CONF
    server {
        listen 127.0.0.1:$PORT;
        server_name localhost;
        location /chatport/ { chatport; chatport_poll_timeout 60s; }
    }
}
EOF
"$NGINX" -p "$RUN" -c "$RUN/nginx.conf" -e "$RUN/error.log" -g 'daemon off;' \
    >"$RUN/nginx.out" 2>&1 &
STARTED+=("$!")
wait_port "$PORT" || { warn "nginx did not start"; exit 1; }

body=$(curl -s -m 5 -D "$RUN/hdr" -H 'Content-Type: application/json' \
    --data '{"text":"hello"}' "http://127.0.0.1:$PORT/chatport/messages")
vid=$(sed -n 's/^[Ss]et-[Cc]ookie: *chatport_vid=\([0-9a-f]*\).*/\1/p' "$RUN/hdr")
id=$(printf '%s' "$body" | sed -n 's/.*"id" *: *"\([^"]*\)".*/\1/p')
[ -n "$vid" ] && [ -n "$id" ] || { warn "no visitor: $body"; exit 1; }

HDRS=()
if [ "$BROWSER" = 1 ]; then
    HDRS=(-H 'Connection: keep-alive'
        -H 'sec-ch-ua: "Chromium";v="120", "Not?A_Brand";v="8"'
        -H 'sec-ch-ua-mobile: ?0'
        -H 'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36'
        -H 'sec-ch-ua-platform: "Linux"'
        -H 'Accept: */*'
        -H 'Sec-Fetch-Site: same-origin'
        -H 'Sec-Fetch-Mode: cors'
        -H 'Sec-Fetch-Dest: empty'
        -H "Referer: http://127.0.0.1:$PORT/shop/products/garden-chair.html"
        -H 'Accept-Encoding: gzip, deflate, br'
        -H 'Accept-Language: en-US,en;q=0.9,de;q=0.8')
fi

sleep 0.3
echo "poll-allocs: parking" >>"$RUN/error.log"
for i in $(seq "$POLLS"); do
    curl -s -m 10 -o /dev/null "${HDRS[@]}" -H "Cookie: chatport_vid=$vid" \
        "http://127.0.0.1:$PORT/chatport/poll?after=$id" &
    STARTED+=("$!")
    sleep 0.5
done

# a connection's pool is allocated just before its "*N accept:" line
awk '
    /poll-allocs: parking/ { on = 1; next }
    !on { next }
    / accept: / && match($0, /\*[0-9]+ /) {
        c = substr($0, RSTART, RLENGTH - 1)
        conns[++n] = c
        if (pending) { list[c] = pending; sum[c] = psum }
        pending = ""; psum = 0
        next
    }
    /(posix_memalign|malloc): / {
        size = $0
        sub(/.*:/, "", size); sub(/ .*/, "", size)
        if (match($0, /\*[0-9]+ /)) {
            c = substr($0, RSTART, RLENGTH - 1)
            list[c] = list[c] " " size; sum[c] += size
        } else if ($0 ~ /posix_memalign/ && size + 0 <= 4096 && pending == "") {
            pending = size; psum = size
        } else {
            other = other " " size
        }
    }
    END {
        for (i = 1; i <= n; i++) {
            c = conns[i]
            printf "poll %s: connection allocations:%s = %d B\n", c, list[c], sum[c]
        }
        printf "without a connection (ChatPort ngx_alloc, some freed again):%s\n", other
    }
' "$RUN/error.log"
