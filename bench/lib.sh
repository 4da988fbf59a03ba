# Shell helpers shared by the benchmarks (sourced; REPO must be set).

say() { printf '%s\n' "$*"; }

stop_pid() {        # stop_pid PID: TERM, wait up to 5 s, then KILL
    local pid=$1 i
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
    kill -TERM "$pid" 2>/dev/null
    for i in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 0
}

free_port() {
    perl "$REPO/scripts/free-port.pl"
}

wait_port() {       # wait_port PORT: until something answers on it (5 s)
    local i
    for i in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

# ---- for the request-rate benchmarks (inject.sh, config.sh) ----

# rate_settings NAME: the shared settings with their defaults, checked;
# BENCH, LOADGEN, RUN (build/bench/NAME/run-PID) and warn() ("NAME: ...")
rate_settings() {
    local v
    RATE_NAME=$1
    ROUNDS=${ROUNDS:-5}
    DURATION=${DURATION:-5}
    CONNS=${CONNS:-32}
    WARMUP=${WARMUP:-1}
    CHATPORT_BUILD=${CHATPORT_BUILD:-1}
    CHATPORT_MODULE=${CHATPORT_MODULE:-$REPO/build/nginx/objs/ngx_http_chatport_module.so}
    NGINX=${NGINX:-/usr/sbin/nginx}
    KEEP=${KEEP:-0}
    BENCH=$REPO/build/bench
    LOADGEN=$BENCH/loadgen
    RUN=$BENCH/$1/run-$$

    for v in ROUNDS DURATION CONNS WARMUP; do
        case ${!v} in ''|*[!0-9]*) warn "$v must be a number: ${!v}"; exit 1;; esac
    done
    [ "$ROUNDS" -ge 1 ] && [ "$ROUNDS" -le 50 ] || { warn "ROUNDS must be 1..50"; exit 1; }
    [ "$DURATION" -ge 1 ] && [ "$DURATION" -le 60 ] ||
        { warn "DURATION must be 1..60"; exit 1; }
    [ "$CONNS" -ge 1 ] && [ "$CONNS" -le 1000 ] || { warn "CONNS must be 1..1000"; exit 1; }
    [ "$WARMUP" -le 10 ] || { warn "WARMUP must be 0..10"; exit 1; }
}

warn() { printf '%s: %s\n' "${RATE_NAME:-bench}" "$*" >&2; }

# build_tools: the load generator, ChatPort unless CHATPORT_BUILD=0
build_tools() {
    say "building loadgen"
    make -s -C "$REPO/bench" BUILD="$BENCH" >"$RUN/make-loadgen.log" 2>&1 || {
        cat "$RUN/make-loadgen.log" >&2; exit 1; }
    if [ "$CHATPORT_BUILD" = 1 ]; then
        say "building ChatPort (make in $REPO)"
        if ! make -C "$REPO" >"$RUN/make-chatport.log" 2>&1; then
            warn "make failed: $(grep -m1 -i 'error' "$RUN/make-chatport.log" | cut -c1-200)"
            exit 1
        fi
    fi
    [ -f "$CHATPORT_MODULE" ] || { warn "no module at $CHATPORT_MODULE (run make)"; exit 1; }
}

# conf_head TYPES: the top of a benchmark's nginx.conf, open inside
# http {} with its MIME types line (one worker, no logs, long keep-alive)
conf_head() {
    cat <<EOF
load_module $CHATPORT_MODULE;
worker_processes 1;
pid $RUN/nginx.pid;
error_log $RUN/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 10000000;
    keepalive_timeout 60s;
    client_body_temp_path $RUN/tmp/body;
    proxy_temp_path $RUN/tmp/proxy;
    fastcgi_temp_path $RUN/tmp/fastcgi;
    uwsgi_temp_path $RUN/tmp/uwsgi;
    scgi_temp_path $RUN/tmp/scgi;
    types { $1 }
EOF
}

# start_bench_nginx: $RUN/nginx.conf checked and started in the
# foreground of a child; sets NGINX_PID and WORKER_PID
start_bench_nginx() {
    local i
    if ! "$NGINX" -t -q -p "$RUN" -c "$RUN/nginx.conf" -e "$RUN/error.log" \
        >"$RUN/nginx-t.log" 2>&1
    then
        warn "nginx -t failed: $(head -c 400 "$RUN/nginx-t.log")"
        exit 1
    fi
    "$NGINX" -p "$RUN" -c "$RUN/nginx.conf" -e "$RUN/error.log" \
        -g 'daemon off;' >"$RUN/nginx.out" 2>&1 &
    NGINX_PID=$!
    WORKER_PID=
    for i in $(seq 100); do
        WORKER_PID=$(pgrep -P "$NGINX_PID" | head -1)
        [ -n "$WORKER_PID" ] && break
        sleep 0.05
    done
}

median() {          # median of the arguments
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
        END { if (NR == 0) { print 0; exit }
              if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# One site against a private Redis (memory.sh, search.sh): its operator
# "op" (password "pw"), traps that stop what was started, $RUN/tmp and
# the tools. Then site_start [NODE_BYTES] starts a fresh Redis and nginx
# with the module $CHATPORT_MODULE on $PORT, site_stop stops them.
site_bench_init() {
    SITE=bench
    AUTH='Authorization: Basic '$(printf 'op:pw' | base64)
    JSON='Content-Type: application/json'
    NGINX_PID=
    REDIS_PID=
    trap site_bench_cleanup EXIT
    trap 'warn interrupted; exit 130' INT TERM
    mkdir -p "$RUN/tmp"
    build_tools
}

site_bench_cleanup() {
    [ -n "$NGINX_PID" ] && stop_pid "$NGINX_PID"
    [ -n "$REDIS_PID" ] && stop_pid "$REDIS_PID"
    [ "$KEEP" = 1 ] || rm -rf "$RUN"
}

rcli() { redis-cli -p "$REDIS_PORT" "$@"; }

site_start() {      # site_start [NODE_BYTES]: stream-node-max-bytes
    local i
    REDIS_PORT=$(free_port)
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' \
        --appendonly no --daemonize no --dir "$RUN" \
        --logfile "$RUN/redis.log" >/dev/null 2>&1 &
    REDIS_PID=$!
    for i in $(seq 100); do
        rcli ping >/dev/null 2>&1 && break
        sleep 0.05
    done
    rcli ping >/dev/null 2>&1 || { warn "redis did not start"; exit 1; }
    case ${1:-default} in
        default) ;;
        *) rcli config set stream-node-max-bytes "$1" >/dev/null ;;
    esac

    PORT=$(free_port)
    printf 'op:{PLAIN}pw\n' >"$RUN/htpasswd"
    {
        conf_head 'application/json json;'
        cat <<EOC
    chatport_redis 127.0.0.1:$REDIS_PORT;
    server {
        listen 127.0.0.1:$PORT;
        server_name $SITE;
        location /chatport/ {
            chatport;
            chatport_chat_rate 1000000/1m site=1000000/1m;
        }
        location /chatport/agent/ {
            chatport_agent;
            auth_basic ops;
            auth_basic_user_file $RUN/htpasswd;
        }
    }
}
EOC
    } >"$RUN/nginx.conf"
    start_bench_nginx
    wait_port "$PORT" || { warn "nginx did not start"; exit 1; }
}

site_stop() {
    stop_pid "$NGINX_PID"; NGINX_PID=
    stop_pid "$REDIS_PID"; REDIS_PID=
}
