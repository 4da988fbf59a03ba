#!/usr/bin/env bash
# ChatPort fan-out benchmark: ChatPort vs Nchan (Redis store, memory store).
#
# Parks N long-polls on one channel and on N channels, publishes, and prints
# time-to-first / median / time-to-last delivery, nginx worker RSS per parked
# poll, and the publish rate with no subscribers, then the ratios
# ChatPort/Nchan-redis and ChatPort/Nchan-memory.  Everything runs on
# 127.0.0.1; every process it starts is stopped by pid on exit.
#
#   bash bench/fanout.sh
#
# Settings (environment):
#   NS="1000 5000"        poll counts
#   TOPOLOGIES="one many" one channel for all polls / one channel per poll
#   SUBJECTS="chatport nchan-redis nchan-memory"
#   FLOOR=1               also time the bare epoll floor server (loadgen serve)
#   TYPING=1              also time ChatPort with visitors' typing events
#                         flowing during the whole case ("chatport+typing")
#   TYPING_CONNS=4        connections sending those typing events
#   CLUSTER=1             also time ChatPort on a local Redis Cluster of three
#                         masters (no replicas), "chatport-cluster", with its
#                         ratios to ChatPort on the single Redis; the bench site
#                         lives on one master (a site's keys share one slot)
#   REPEAT=5              runs per case; the table shows the median of each figure
#   SETTLE_MS=3000        longest wait after the last poll is sent ...
#   QUIET_MS=300          ... ended early once the worker used no CPU this long
#   TIMEOUT_S=20          longest wait for delivery after publishing
#   PUB_SECONDS=3         publish-rate run length
#   PUB_CONNS=16          publish-rate keep-alive connections
#   BURST_CONNS=16        connections that publish to the N channels
#   CEILING=1             also measure Redis running the message script alone
#   CEILING_N=100000      script calls in that measurement
#   CHATPORT_BUILD=1      run `make` in the repo root first (0: use the built .so)
#   CHATPORT_MODULE=...   module path (default build/nginx/objs/ngx_http_chatport_module.so)
#   NGINX=/usr/sbin/nginx
#   KEEP=0                1: keep build/bench/run-* (configs, logs) afterwards
#   HTTP_CONF=""          more directives for every nginx's http{} block,
#                         e.g. HTTP_CONF="request_pool_size 6k;"

set -u
set -o pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NS=${NS:-"1000 5000"}
TOPOLOGIES=${TOPOLOGIES:-"one many"}
SUBJECTS=${SUBJECTS:-"chatport nchan-redis nchan-memory"}
FLOOR=${FLOOR:-1}
TYPING=${TYPING:-1}
TYPING_CONNS=${TYPING_CONNS:-4}
CLUSTER=${CLUSTER:-1}
REPEAT=${REPEAT:-5}
SETTLE_MS=${SETTLE_MS:-3000}
QUIET_MS=${QUIET_MS:-300}
TIMEOUT_S=${TIMEOUT_S:-20}
PUB_SECONDS=${PUB_SECONDS:-3}
PUB_CONNS=${PUB_CONNS:-16}
BURST_CONNS=${BURST_CONNS:-16}
CEILING=${CEILING:-1}
CEILING_N=${CEILING_N:-100000}
CHATPORT_BUILD=${CHATPORT_BUILD:-1}
CHATPORT_MODULE=${CHATPORT_MODULE:-$REPO/build/nginx/objs/ngx_http_chatport_module.so}
NCHAN_MODULE=${NCHAN_MODULE:-/usr/lib/nginx/modules/ngx_nchan_module.so}
NGINX=${NGINX:-/usr/sbin/nginx}
KEEP=${KEEP:-0}
HTTP_CONF=${HTTP_CONF:-}

BENCH=$REPO/build/bench

# shellcheck source=lib.sh
. "$REPO/bench/lib.sh"
LOADGEN=$BENCH/loadgen
RUN=$BENCH/run-$$
RUNID=r$$x$RANDOM
T_START=$(date +%s)

warn() { printf 'fanout: %s\n' "$*" >&2; }

# ------------------------------------------------------------ processes

STARTED=()          # every pid we started, stopped on exit

cleanup() {
    local pid
    for pid in "${STARTED[@]}"; do
        stop_pid "$pid"
    done
    STARTED=()
    if [ "$KEEP" != 1 ]; then
        rm -rf "$RUN"
    fi
}
trap cleanup EXIT
trap 'warn interrupted; exit 130' INT TERM

forget_pid() {      # forget_pid PID: drop it from STARTED after stopping it
    local pid=$1 p keep=()
    for p in "${STARTED[@]}"; do
        [ "$p" = "$pid" ] || keep+=("$p")
    done
    STARTED=("${keep[@]}")
}

# ---------------------------------------------------------------- checks

missing=()
for cmd in cc make perl curl; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
done
[ -x "$NGINX" ] || missing+=("nginx ($NGINX)")
command -v redis-server >/dev/null 2>&1 || missing+=("redis-server")
command -v redis-cli >/dev/null 2>&1 || missing+=("redis-cli (redis-tools)")
if [ ! -f "$NCHAN_MODULE" ]; then
    warn "missing: $NCHAN_MODULE (apt-get install -y libnginx-mod-nchan); Nchan is skipped"
    SUBJECTS=$(printf '%s\n' $SUBJECTS | grep -v '^nchan' | tr '\n' ' ')
fi
if [ ${#missing[@]} -gt 0 ]; then
    warn "missing: ${missing[*]}"
    warn "install: apt-get install -y nginx redis-server libnginx-mod-nchan curl build-essential"
    exit 1
fi

maxn=0
for n in $NS; do
    case $n in ''|*[!0-9]*) warn "NS must be numbers: $NS"; exit 1;; esac
    [ "$n" -gt "$maxn" ] && maxn=$n
done
WCONN=$((maxn + 1024))
RLIMIT=$((WCONN + 1024))
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt $((maxn + BURST_CONNS + 100)) ]; then
    warn "open-file hard limit is $hard, too low for $maxn polls (ulimit -Hn)"
    exit 1
fi
if [ "$hard" != unlimited ] && [ "$RLIMIT" -gt "$hard" ]; then
    RLIMIT=$hard
    WCONN=$((hard - 64))
fi
ulimit -n "$hard" 2>/dev/null

mkdir -p "$RUN"
say "building loadgen"
make -s -C "$REPO/bench" BUILD="$BENCH" >"$RUN/make-loadgen.log" 2>&1 || {
    cat "$RUN/make-loadgen.log" >&2; exit 1; }

# ----------------------------------------------------------------- redis

REDIS_PORT=$(free_port)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize no --dir "$RUN" --logfile "$RUN/redis.log" \
    --maxclients 10000 >/dev/null 2>&1 &
REDIS_PID=$!
STARTED+=("$REDIS_PID")
for i in $(seq 100); do
    redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
    sleep 0.05
done
redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 || { warn "redis did not start"; exit 1; }
say "redis $(redis-server --version | awk '{print $3}') on 127.0.0.1:$REDIS_PORT (pid $REDIS_PID)"

# three masters of a Redis Cluster, for chatport-cluster
CLUSTER_PORTS=()
start_cluster() {
    local p i dir
    for i in 1 2 3; do
        p=$(free_port)
        dir=$RUN/cluster-$p
        mkdir -p "$dir"
        redis-server --port "$p" --bind 127.0.0.1 --save '' --appendonly no \
            --daemonize no --dir "$dir" --logfile "$dir/redis.log" \
            --maxclients 10000 --cluster-enabled yes \
            --cluster-config-file "$dir/nodes.conf" >/dev/null 2>&1 &
        STARTED+=("$!")
        CLUSTER_PORTS+=("$p")
    done
    for p in "${CLUSTER_PORTS[@]}"; do
        for i in $(seq 100); do
            redis-cli -p "$p" ping >/dev/null 2>&1 && break
            sleep 0.05
        done
    done
    timeout 60 redis-cli --cluster create \
        $(printf '127.0.0.1:%s ' "${CLUSTER_PORTS[@]}") --cluster-replicas 0 \
        --cluster-yes >"$RUN/cluster-create.log" 2>&1 || return 1
    for i in $(seq 200); do
        local ok=0
        for p in "${CLUSTER_PORTS[@]}"; do
            redis-cli -p "$p" cluster info 2>/dev/null |
                grep -q 'cluster_state:ok' && ok=$((ok + 1))
        done
        [ $ok = 3 ] && return 0
        sleep 0.1
    done
    return 1
}

# empties the single Redis, and the cluster's masters
flush_all() {
    local p
    redis-cli -p "$REDIS_PORT" flushall >/dev/null
    for p in "${CLUSTER_PORTS[@]}"; do
        redis-cli -p "$p" flushall >/dev/null
    done
}

# ----------------------------------------------------------------- nginx

# conf SUBJECT PREFIX PORT: writes PREFIX/nginx.conf
conf() {
    local subject=$1 prefix=$2 port=$3
    mkdir -p "$prefix/tmp"
    {
        case $subject in
        nchan-*)  echo "load_module $NCHAN_MODULE;";;
        chatport*) echo "load_module $CHATPORT_MODULE;";;
        esac
        cat <<EOF
worker_processes 1;
worker_rlimit_nofile $RLIMIT;
pid $prefix/nginx.pid;
error_log $prefix/error.log warn;
events { worker_connections $WCONN; }
http {
    access_log off;
    keepalive_requests 10000000;
    client_body_temp_path $prefix/tmp/body;
    proxy_temp_path $prefix/tmp/proxy;
    fastcgi_temp_path $prefix/tmp/fastcgi;
    uwsgi_temp_path $prefix/tmp/uwsgi;
    scgi_temp_path $prefix/tmp/scgi;
    $HTTP_CONF
EOF
        case $subject in
        nchan-redis)
            # Nchan 1.3.6: an upstream with nchan_redis_server, used with
            # nchan_redis_pass (the older nchan_redis_url + nchan_use_redis
            # still exist too)
            cat <<EOF
    upstream bench_redis { nchan_redis_server redis://127.0.0.1:$REDIS_PORT; }
EOF
            ;;
        chatport-cluster)
            echo "    chatport_redis_cluster $(printf '127.0.0.1:%s ' "${CLUSTER_PORTS[@]}");"
            ;;
        chatport*)
            echo "    chatport_redis 127.0.0.1:$REDIS_PORT;"
            ;;
        esac
        cat <<EOF
    server {
        listen 127.0.0.1:$port backlog=4096;
        server_name localhost;
EOF
        case $subject in
        nchan-*)
            local redis=""
            [ "$subject" = nchan-redis ] && redis="nchan_redis_pass bench_redis;"
            cat <<EOF
        location ~ /sub/(\w+)$ {
            nchan_subscriber longpoll;
            nchan_channel_id \$1;
            nchan_subscriber_timeout 60s;
            $redis
        }
        location ~ /pub/(\w+)$ {
            nchan_publisher;
            nchan_channel_id \$1;
            $redis
        }
EOF
            ;;
        chatport*)
            cat <<EOF
        location /chatport/ {
            chatport;
            chatport_poll_timeout 60s;
            # every visitor of the benchmark opens its conversation from
            # one address
            chatport_chat_rate 1000000/1m site=1000000/1m;
        }
EOF
            ;;
        esac
        echo "    }"
        echo "}"
    } >"$prefix/nginx.conf"
}

# start_subject SUBJECT NAME: sets SRV_PID, WORKER_PID, PORT, PREFIX, or
# returns 1 with the reason in START_ERR
start_subject() {
    local subject=$1 name=$2 i
    PREFIX=$RUN/$name
    PORT=$(free_port)
    START_ERR=
    mkdir -p "$PREFIX"
    if [ "$subject" = floor ]; then
        "$LOADGEN" serve -p "$PORT" -t 600 >"$PREFIX/serve.log" 2>&1 &
        SRV_PID=$!
        STARTED+=("$SRV_PID")
        WORKER_PID=$SRV_PID
        wait_port "$PORT" || { START_ERR="floor server did not listen"; return 1; }
        return 0
    fi
    conf "$subject" "$PREFIX" "$PORT"
    if ! "$NGINX" -t -q -p "$PREFIX" -c "$PREFIX/nginx.conf" -e "$PREFIX/error.log" \
        >"$PREFIX/nginx-t.log" 2>&1
    then
        START_ERR="nginx -t: $(grep -m1 emerg "$PREFIX/nginx-t.log" | sed 's/^.*\[emerg\] [0-9#]*: //')"
        [ -n "$START_ERR" ] || START_ERR="nginx -t failed: $(head -c 300 "$PREFIX/nginx-t.log")"
        return 1
    fi
    "$NGINX" -p "$PREFIX" -c "$PREFIX/nginx.conf" -e "$PREFIX/error.log" \
        -g 'daemon off;' >"$PREFIX/nginx.out" 2>&1 &
    SRV_PID=$!
    STARTED+=("$SRV_PID")
    WORKER_PID=
    for i in $(seq 100); do
        WORKER_PID=$(pgrep -P "$SRV_PID" | head -1)
        [ -n "$WORKER_PID" ] && break
        sleep 0.05
    done
    if [ -z "$WORKER_PID" ] || ! wait_port "$PORT"; then
        START_ERR="nginx did not start: $(tail -c 300 "$PREFIX/error.log" 2>/dev/null)"
        return 1
    fi
    return 0
}

stop_subject() {
    stop_pid "$SRV_PID"
    forget_pid "$SRV_PID"
}

# kv KEY FILE: value of KEY=... on the RESULT line of FILE
kv() {
    grep '^RESULT' "$2" | tail -1 | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# ------------------------------------------------------------- chatport

CP_HDR_JSON='Content-Type: application/json'

# cp_visitors PORT COUNT FILE: creates COUNT visitors, writes "vid id" lines
cp_visitors() {
    local port=$1 count=$2 file=$3 conns=16
    [ "$count" -lt $conns ] && conns=$count
    "$LOADGEN" publish -p "$port" -c "$conns" -n "$count" -U /chatport/messages \
        -H "$CP_HDR_JSON" -B '{"text":"hello"}' \
        -o "$file" --save-cookie chatport_vid --save-json id \
        >"$file.log" 2>&1
    if grep -q -- '^- \|^[^ ]* -$' "$file" 2>/dev/null || [ ! -s "$file" ]; then
        CP_ERR="creating visitors: $(grep '^publish:' "$file.log" | sed 's/.*statuses://')"
        return 1
    fi
    return 0
}

# probe: is ChatPort there and answering its contract?
CHATPORT_OK=0
CHATPORT_WHY=
probe_chatport() {
    local body hdr code
    if [ "$CHATPORT_BUILD" = 1 ]; then
        say "building ChatPort (make in $REPO)"
        if ! make -C "$REPO" >"$RUN/make-chatport.log" 2>&1; then
            CHATPORT_WHY="make failed: $(grep -m1 -i 'error' "$RUN/make-chatport.log" | cut -c1-200)"
            return 1
        fi
    fi
    [ -f "$CHATPORT_MODULE" ] || { CHATPORT_WHY="no module at $CHATPORT_MODULE"; return 1; }
    if ! start_subject chatport chatport-probe; then
        CHATPORT_WHY=$START_ERR
        return 1
    fi
    hdr=$RUN/chatport-probe/hdr
    body=$(curl -s -m 5 -D "$hdr" -H "$CP_HDR_JSON" --data '{"text":"hello"}' \
        "http://127.0.0.1:$PORT/chatport/messages")
    code=$(head -1 "$hdr" 2>/dev/null | awk '{print $2}')
    if [ "$code" != 201 ]; then
        CHATPORT_WHY="POST /chatport/messages answered ${code:-nothing}: $(printf '%s' "$body" | head -c 160)"
    elif ! grep -qi '^set-cookie: *chatport_vid=[0-9a-f]\{32\}' "$hdr"; then
        CHATPORT_WHY="POST /chatport/messages set no chatport_vid cookie"
    elif ! printf '%s' "$body" | grep -q '"id" *: *"[^"]'; then
        CHATPORT_WHY="POST /chatport/messages answered no id: $(printf '%s' "$body" | head -c 160)"
    else
        local vid id
        vid=$(grep -i '^set-cookie: *chatport_vid=' "$hdr" | sed 's/^[^=]*=\([0-9a-f]*\).*/\1/')
        id=$(printf '%s' "$body" | sed 's/.*"id" *: *"\([^"]*\)".*/\1/')
        code=$(curl -s -m 5 -o "$RUN/chatport-probe/poll" -w '%{http_code}' \
            -H "Cookie: chatport_vid=$vid" "http://127.0.0.1:$PORT/chatport/poll?after=0-0")
        if [ "$code" != 200 ] || ! grep -q "$id" "$RUN/chatport-probe/poll"; then
            CHATPORT_WHY="GET /chatport/poll?after=0-0 answered $code without the message"
        fi
    fi
    stop_subject
    [ -z "$CHATPORT_WHY" ]
}

# --------------------------------------------------------------- cases

declare -A R     # R[subject|n|topo|metric] = space-separated values over repeats
declare -A NOTE  # NOTE[subject|n|topo] = problems seen

add() { R[$1]="${R[$1]:-} $2"; }

median() {       # median of the numbers given (skips -1 and empty)
    printf '%s\n' "$@" | awk '$1 != "" && $1 >= 0' | sort -g |
        awk '{a[NR]=$1} END { if (NR) print a[int((NR+1)/2)]; else print "" }'
}

minv() {         # smallest of the numbers given
    printf '%s\n' "$@" | awk '$1 != ""' | sort -g | head -1
}

# park_case SUBJECT N TOPO REP
park_case() {
    local subject=$1 n=$2 topo=$3 rep=$4 key="$1|$2|$3"
    local name="$subject-$n-$topo-$rep" chans=1 log ch="${RUNID}n${n}${topo}${rep}"
    [ "$topo" = many ] && chans=$n
    if ! start_subject "$subject" "$name"; then
        NOTE[$key]="${NOTE[$key]:-}start failed: $START_ERR; "
        return 1
    fi
    log=$PREFIX/park.log
    local args=(-p "$PORT" -n "$n" -C "$chans" -s "$SETTLE_MS" -q "$QUIET_MS"
                -t "$TIMEOUT_S" -w "$WORKER_PID" -k "$BURST_CONNS")
    case $subject in
    nchan-*|floor)
        # warm up: the first publish loads scripts, connects to Redis
        curl -s -m 5 -o /dev/null -d warm "http://127.0.0.1:$PORT/pub/${RUNID}warm" || true
        "$LOADGEN" park "${args[@]}" -u "/sub/${ch}_%d" -U "/pub/${ch}_%d" \
            -B "message for channel %d" >"$log" 2>&1
        ;;
    chatport*)
        if ! cp_visitors "$PORT" "$chans" "$PREFIX/visitors"; then
            NOTE[$key]="${NOTE[$key]:-}$CP_ERR; "
            stop_subject
            return 1
        fi
        local typing=
        if [ "$subject" = chatport+typing ]; then
            # the same visitors type all along: events to the operators'
            # inbox through Redis pub/sub, beside the polls and the burst
            "$LOADGEN" publish -p "$PORT" -c "$TYPING_CONNS" -d 600 \
                -f "$PREFIX/visitors" -U /chatport/typing -H "$CP_HDR_JSON" \
                -H 'Cookie: chatport_vid=%1' -B '{"typing":true}' \
                >"$PREFIX/typing.log" 2>&1 &
            typing=$!
            STARTED+=("$typing")
        fi
        "$LOADGEN" park "${args[@]}" -f "$PREFIX/visitors" \
            -u '/chatport/poll?after=%2' -H 'Cookie: chatport_vid=%1' \
            -U /chatport/messages -K "$CP_HDR_JSON" -K 'Cookie: chatport_vid=%1' \
            -B '{"text":"message for channel %d"}' >"$log" 2>&1
        if [ -n "$typing" ]; then
            stop_pid "$typing"
            forget_pid "$typing"
            add "$key|typing" "$(kv ok_rate "$PREFIX/typing.log")"
            if [ "$(kv errors "$PREFIX/typing.log")" != 0 ] ||
               [ "$(kv ok "$PREFIX/typing.log")" != "$(kv responses "$PREFIX/typing.log")" ]
            then
                NOTE[$key]="${NOTE[$key]:-}run $rep typing: $(grep '^publish:' "$PREFIX/typing.log"); "
            fi
        fi
        ;;
    esac
    stop_subject
    if ! grep -q '^RESULT' "$log"; then
        NOTE[$key]="${NOTE[$key]:-}loadgen: $(grep -m1 loadgen: "$log" | cut -c1-200); "
        return 1
    fi
    local got early non200 errs to before parked
    got=$(kv got "$log"); early=$(kv early "$log"); non200=$(kv non200 "$log")
    errs=$(( $(kv errors "$log") + $(kv connect_errors "$log") ))
    to=$(kv timeouts "$log")
    before=$(kv rss_before_kb "$log"); parked=$(kv rss_parked_kb "$log")
    add "$key|got" "$got"
    add "$key|first" "$(kv first_ms "$log")"
    add "$key|median" "$(kv median_ms "$log")"
    add "$key|last" "$(kv last_ms "$log")"
    add "$key|pubms" "$(kv pub_ms "$log")"
    add "$key|rss" "$(awk -v a="$before" -v b="$parked" -v n="$n" \
        'BEGIN { if (a < 0 || b < 0) print -1; else printf "%.0f", (b - a) * 1024 / n }')"
    add "$key|anon" "$(awk -v a="$(kv anon_before_kb "$log")" -v b="$(kv anon_parked_kb "$log")" -v n="$n" \
        'BEGIN { if (a < 0 || b < 0) print -1; else printf "%.0f", (b - a) * 1024 / n }')"
    if [ "$got" != "$n" ] || [ "$early" != 0 ] || [ "$non200" != 0 ] || [ "$errs" != 0 ]; then
        NOTE[$key]="${NOTE[$key]:-}run $rep: got $got/$n early $early non200 $non200 errors $errs timeouts $to; "
        local why
        why=$(grep -m1 'loadgen: ' "$log" | cut -c1-160)
        [ -n "$why" ] && NOTE[$key]="${NOTE[$key]}$why; "
    fi
}

# redis_work: "COMMANDS CPU_US" the single Redis ran until now: every
# command (a script and each command it ran count), its CPU time in us
redis_work() {
    local calls cpu
    calls=$(redis-cli -p "$REDIS_PORT" info commandstats | tr -d '\r' |
            sed -n 's/^cmdstat_[^:]*:calls=\([0-9]*\),.*/\1/p' |
            awk '{ s += $1 } END { print s + 0 }')
    cpu=$(redis-cli -p "$REDIS_PORT" info cpu | tr -d '\r' |
          awk -F: '/^used_cpu_(sys|user):/ { s += $2 }
                   END { printf "%.0f", s * 1000000 }')
    echo "$calls $cpu"
}

# rate_case SUBJECT: publish rate with no subscribers
rate_case() {
    local subject=$1 rep=$2 log work0
    if ! start_subject "$subject" "$subject-rate-$rep"; then
        NOTE["$subject|rate"]="${NOTE[$subject|rate]:-}start failed: $START_ERR; "
        return 1
    fi
    log=$PREFIX/rate.log
    case $subject in
    nchan-*)
        curl -s -m 5 -o /dev/null -d warm "http://127.0.0.1:$PORT/pub/${RUNID}rate" || true
        work0=$(redis_work)
        "$LOADGEN" publish -p "$PORT" -c "$PUB_CONNS" -d "$PUB_SECONDS" \
            -U "/pub/${RUNID}rate" -B "a message of moderate size" >"$log" 2>&1
        ;;
    chatport|chatport-cluster)
        if ! cp_visitors "$PORT" 1 "$PREFIX/visitors"; then
            NOTE["$subject|rate"]="${NOTE[$subject|rate]:-}$CP_ERR; "
            stop_subject
            return 1
        fi
        work0=$(redis_work)
        "$LOADGEN" publish -p "$PORT" -c "$PUB_CONNS" -d "$PUB_SECONDS" \
            -f "$PREFIX/visitors" -U /chatport/messages -H "$CP_HDR_JSON" \
            -H 'Cookie: chatport_vid=%1' -B '{"text":"a message of moderate size"}' \
            >"$log" 2>&1
        # the worker writes the search index a second after the messages
        sleep 1.5
        ;;
    esac
    if [ "$subject" != chatport-cluster ]; then
        # shellcheck disable=SC2086
        set -- $work0 $(redis_work)
        add "$subject|rcalls" "$(awk -v a="$1" -v b="$3" -v n="$(kv ok "$log")" \
            'BEGIN { if (n > 0) printf "%.1f", (b - a) / n; else print -1 }')"
        add "$subject|rcpu" "$(awk -v a="$2" -v b="$4" -v n="$(kv ok "$log")" \
            'BEGIN { if (n > 0) printf "%.1f", (b - a) / n; else print -1 }')"
    fi
    stop_subject
    add "$subject|rate" "$(kv ok_rate "$log")"
    local st
    st=$(grep '^publish:' "$log" | sed 's/.*statuses://')
    if [ "$(kv errors "$log")" != 0 ] || [ "$(kv ok "$log")" != "$(kv responses "$log")" ]; then
        NOTE["$subject|rate"]="${NOTE[$subject|rate]:-}run $rep: statuses:$st errors $(kv errors "$log"); "
    fi
}

# ceiling_case REP: what Redis itself sustains running ChatPort's message
# script, with the keys and arguments ChatPort sends (captured with
# MONITOR while one message is posted), from PUB_CONNS pipelining clients
# (a worker pipelines its commands on one connection)
ceiling_case() {
    local rep=$1 vid mpid i argv=()
    if ! start_subject chatport "chatport-ceiling-$rep"; then
        NOTE["ceiling"]="${NOTE[ceiling]:-}start failed: $START_ERR; "
        return 1
    fi
    if ! cp_visitors "$PORT" 1 "$PREFIX/visitors"; then
        NOTE["ceiling"]="${NOTE[ceiling]:-}$CP_ERR; "
        stop_subject
        return 1
    fi
    vid=$(awk '{ print $1; exit }' "$PREFIX/visitors")
    redis-cli -p "$REDIS_PORT" monitor >"$PREFIX/monitor" 2>&1 &
    mpid=$!
    STARTED+=("$mpid")
    for i in $(seq 50); do
        grep -q '^OK' "$PREFIX/monitor" && break
        sleep 0.05
    done
    curl -s -m 5 -o /dev/null -H "$CP_HDR_JSON" -H "Cookie: chatport_vid=$vid" \
        --data '{"text":"a message of moderate size"}' \
        "http://127.0.0.1:$PORT/chatport/messages"
    for i in $(seq 50); do
        grep -q '"EVALSHA"' "$PREFIX/monitor" && break
        sleep 0.05
    done
    stop_pid "$mpid"
    forget_pid "$mpid"
    stop_subject
    mapfile -d '' argv < <(perl "$REPO/bench/monitor-argv.pl" EVALSHA \
                           <"$PREFIX/monitor")
    if [ ${#argv[@]} -lt 3 ]; then
        NOTE["ceiling"]="${NOTE[ceiling]:-}run $rep: no EVALSHA seen; "
        return 1
    fi
    redis-cli -p "$REDIS_PORT" config resetstat >/dev/null
    redis-benchmark -p "$REDIS_PORT" -c "$PUB_CONNS" -P 16 -n "$CEILING_N" \
        --csv "${argv[@]}" >"$PREFIX/ceiling.csv" 2>&1
    # it counts only if every call ran the script without an error
    local stats
    stats=$(redis-cli -p "$REDIS_PORT" info commandstats | tr -d '\r' |
            sed -n 's/^cmdstat_evalsha://p')
    case ",$stats," in
    *",calls=$CEILING_N,"*",failed_calls=0,"*)
        add "ceiling" "$(awk -F'"' 'NR == 2 { printf "%.0f", $4 }' \
                         "$PREFIX/ceiling.csv")"
        ;;
    *)
        NOTE["ceiling"]="${NOTE[ceiling]:-}run $rep: EVALSHA $stats; "
        ;;
    esac
}

# ------------------------------------------------------------------ run

ALL=()
for s in $SUBJECTS; do
    if [ "$s" = chatport ]; then
        if probe_chatport; then
            CHATPORT_OK=1
            ALL+=(chatport)
            [ "$TYPING" = 1 ] && ALL+=(chatport+typing)
            if [ "$CLUSTER" = 1 ]; then
                if start_cluster; then
                    say "redis cluster: three masters on 127.0.0.1:${CLUSTER_PORTS[*]}"
                    ALL+=(chatport-cluster)
                else
                    say "chatport-cluster: not available (the cluster did not form: $(tail -1 "$RUN/cluster-create.log"))"
                fi
            fi
        else
            say "chatport: not available ($CHATPORT_WHY)"
        fi
    else
        ALL+=("$s")
    fi
done
[ "$FLOOR" = 1 ] && ALL+=(floor)

# Subjects are interleaved (run 1 of every case for every subject, then run
# 2, ...) so that a passing load on the machine does not favour one of them;
# Redis is emptied before every case.
say "subjects: ${ALL[*]}; N: $NS; channels: $TOPOLOGIES; $REPEAT run(s) each"
[ -n "$HTTP_CONF" ] && say "http{} of every nginx also has: $HTTP_CONF"
# how busy is the machine without us? (1 s sample of /proc/stat)
cpu1=$(head -1 /proc/stat); sleep 1; cpu2=$(head -1 /proc/stat)
busy=$(printf '%s\n%s\n' "$cpu1" "$cpu2" | awk '{ idle[NR] = $5 + $6; tot[NR] = 0
        for (i = 2; i <= NF; i++) tot[NR] += $i }
    END { d = tot[2] - tot[1]; if (d > 0) printf "%.0f", 100 * (1 - (idle[2] - idle[1]) / d); else print 0 }')
say "CPU busy before the run: ${busy}% of $(nproc) cores"
[ "${busy:-0}" -gt 15 ] &&
    warn "the machine is ${busy}% busy: other work will disturb the figures"
for rep in $(seq "$REPEAT"); do
    for n in $NS; do
        for topo in $TOPOLOGIES; do
            line=$(printf 'run %s N=%-5s %-4s' "$rep" "$n" "$topo")
            for s in "${ALL[@]}"; do
                flush_all
                park_case "$s" "$n" "$topo" "$rep"
                line="$line | $s $(echo "${R[$s|$n|$topo|last]:-}" | awk '{print $NF}')ms"
            done
            say "$line"
        done
    done
    line="run $rep publish rate"
    for s in "${ALL[@]}"; do
        [ "$s" = floor ] || [ "$s" = chatport+typing ] && continue
        flush_all
        rate_case "$s" "$rep"
        line="$line | $s $(echo "${R[$s|rate]:-}" | awk '{print $NF}')/s"
    done
    if [ "$CEILING" = 1 ] && [ "$CHATPORT_OK" = 1 ]; then
        redis-cli -p "$REDIS_PORT" flushall >/dev/null
        ceiling_case "$rep"
        line="$line | redis script $(echo "${R[ceiling]:-}" | awk '{print $NF}')/s"
    fi
    say "$line"
done

# ---------------------------------------------------------------- report

fmt() { [ -n "$1" ] && printf '%s' "$1" || printf -- '-'; }

say ""
say "Fan-out: delivery time from the start of the publication (median of $REPEAT runs)"
say "  RSS/poll: growth of the nginx worker's VmRSS while parked, divided by N"
say "  pub_ms: from the start of the publication until every publish request was answered"
printf '%-16s %5s %-4s %11s %9s %9s %9s %9s %9s %9s\n' subject N chan got first_ms median_ms last_ms pub_ms "RSS/poll" "anon/poll"
for s in "${ALL[@]}"; do
    for n in $NS; do
        for topo in $TOPOLOGIES; do
            k="$s|$n|$topo"
            printf '%-16s %5s %-4s %11s %9s %9s %9s %9s %8sB %8sB\n' "$s" "$n" "$topo" \
                "$(fmt "$(minv ${R[$k|got]:-})")/$n" \
                "$(fmt "$(median ${R[$k|first]:-})")" \
                "$(fmt "$(median ${R[$k|median]:-})")" \
                "$(fmt "$(median ${R[$k|last]:-})")" \
                "$(fmt "$(median ${R[$k|pubms]:-})")" \
                "$(fmt "$(median ${R[$k|rss]:-})")" \
                "$(fmt "$(median ${R[$k|anon]:-})")"
        done
    done
done
[ "$CHATPORT_OK" = 1 ] || printf '%-16s  not available (%s)\n' chatport "$CHATPORT_WHY"

say ""
say "Publish rate with no subscribers ($PUB_CONNS connections, ${PUB_SECONDS}s; 2xx answers/s, median of $REPEAT)"
for s in "${ALL[@]}"; do
    [ "$s" = floor ] || [ "$s" = chatport+typing ] && continue
    printf '%-16s %10s/s   (runs:%s)\n' "$s" "$(fmt "$(median ${R[$s|rate]:-})")" "${R[$s|rate]:-}"
done
[ "$CHATPORT_OK" = 1 ] || printf '%-16s  not available (%s)\n' chatport "$CHATPORT_WHY"
if [ "$CEILING" = 1 ] && [ "$CHATPORT_OK" = 1 ]; then
    printf '%-16s %10s/s   (runs:%s)\n' "redis script" \
        "$(fmt "$(median ${R[ceiling]:-})")" "${R[ceiling]:-}"
    say "  redis script: Redis alone running ChatPort's message script with the"
    say "  arguments ChatPort sends (redis-benchmark, $PUB_CONNS clients, pipeline 16)"
fi
say ""
say "Redis's work per message of that run (every command, a script and each command"
say "it ran counting one; Redis's CPU time; medians)"
for s in "${ALL[@]}"; do
    case $s in chatport|nchan-redis) ;; *) continue;; esac
    printf '%-16s %8s commands %8s us   (runs:%s)\n' "$s" \
        "$(median ${R[$s|rcalls]:-})" "$(median ${R[$s|rcpu]:-})" "${R[$s|rcpu]:-}"
done

ratio() {       # ratio A B
    awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'
}

if [[ " ${ALL[*]} " == *" chatport+typing "* ]]; then
    say ""
    say "Typing events during the cases: ChatPort+typing/ChatPort (1 = no cost)"
    printf '%5s %-4s %8s %8s %8s %12s\n' N chan first median last "typing/s"
    for n in $NS; do
        for topo in $TOPOLOGIES; do
            a="chatport+typing|$n|$topo"; b="chatport|$n|$topo"
            printf '%5s %-4s %8s %8s %8s %12s\n' "$n" "$topo" \
                "$(ratio "$(median ${R[$a|first]:-})" "$(median ${R[$b|first]:-})")" \
                "$(ratio "$(median ${R[$a|median]:-})" "$(median ${R[$b|median]:-})")" \
                "$(ratio "$(median ${R[$a|last]:-})" "$(median ${R[$b|last]:-})")" \
                "$(fmt "$(median ${R[$a|typing]:-})")"
        done
    done
fi

if [[ " ${ALL[*]} " == *" chatport-cluster "* ]]; then
    say ""
    say "Redis Cluster (three masters) against one Redis: ChatPort-cluster/ChatPort"
    say "  (time and memory: lower is better; rate: higher is better)"
    printf '%5s %-4s %8s %8s %8s %9s\n' N chan first median last "RSS/poll"
    for n in $NS; do
        for topo in $TOPOLOGIES; do
            a="chatport-cluster|$n|$topo"; b="chatport|$n|$topo"
            printf '%5s %-4s %8s %8s %8s %9s\n' "$n" "$topo" \
                "$(ratio "$(median ${R[$a|first]:-})" "$(median ${R[$b|first]:-})")" \
                "$(ratio "$(median ${R[$a|median]:-})" "$(median ${R[$b|median]:-})")" \
                "$(ratio "$(median ${R[$a|last]:-})" "$(median ${R[$b|last]:-})")" \
                "$(ratio "$(median ${R[$a|rss]:-})" "$(median ${R[$b|rss]:-})")"
        done
    done
    say "  publish rate: $(ratio "$(median ${R[chatport-cluster|rate]:-})" "$(median ${R[chatport|rate]:-})")"
fi

for ref in nchan-redis nchan-memory; do
    case " ${ALL[*]} " in *" $ref "*) ;; *) continue;; esac
    say ""
    say "Ratios ChatPort/$ref (time and memory: lower is better; rate: higher is better)"
    if [ "$CHATPORT_OK" != 1 ]; then
        say "  chatport: not available ($CHATPORT_WHY)"
        continue
    fi
    printf '%5s %-4s %8s %8s %8s %9s\n' N chan first median last "RSS/poll"
    for n in $NS; do
        for topo in $TOPOLOGIES; do
            a="chatport|$n|$topo"; b="$ref|$n|$topo"
            printf '%5s %-4s %8s %8s %8s %9s\n' "$n" "$topo" \
                "$(ratio "$(median ${R[$a|first]:-})" "$(median ${R[$b|first]:-})")" \
                "$(ratio "$(median ${R[$a|median]:-})" "$(median ${R[$b|median]:-})")" \
                "$(ratio "$(median ${R[$a|last]:-})" "$(median ${R[$b|last]:-})")" \
                "$(ratio "$(median ${R[$a|rss]:-})" "$(median ${R[$b|rss]:-})")"
        done
    done
    say "  publish rate: $(ratio "$(median ${R[chatport|rate]:-})" "$(median ${R[$ref|rate]:-})")"
done

if [ "$CHATPORT_OK" = 1 ] && [[ " ${ALL[*]} " == *" nchan-redis "* ]]; then
    say ""
    say "Targets (against nchan-redis)"
    for n in $NS; do
        [ "$n" = 5000 ] || continue
        for topo in $TOPOLOGIES; do
            a=$(median ${R[chatport|$n|$topo|last]:-}); b=$(median ${R[nchan-redis|$n|$topo|last]:-})
            v=$(awk -v a="$a" -v b="$b" 'BEGIN { if (a == "" || b == "") print "unknown"; else print (a <= b ? "met" : "MISSED") }')
            say "  time-to-last N=$n $topo: ${a:-?} ms vs ${b:-?} ms: $v"
        done
    done
    for n in $NS; do
        for topo in $TOPOLOGIES; do
            a=$(median ${R[chatport|$n|$topo|rss]:-}); b=$(median ${R[nchan-redis|$n|$topo|rss]:-})
            v=$(awk -v a="$a" -v b="$b" 'BEGIN { if (a == "" || b == "") print "unknown"; else print (a <= b ? "met" : "MISSED") }')
            say "  bytes/parked poll N=$n $topo: ${a:-?} vs ${b:-?}: $v"
        done
    done
    a=$(median ${R[chatport|rate]:-}); b=$(median ${R[nchan-redis|rate]:-})
    v=$(awk -v a="$a" -v b="$b" 'BEGIN { if (a == "" || b == "") print "unknown"; else print (a >= b ? "met" : "MISSED") }')
    say "  publish rate: ${a:-?}/s vs ${b:-?}/s: $v"
fi

if [ "$CEILING" = 1 ] && [ "$CHATPORT_OK" = 1 ]; then
    say ""
    say "Publish rate against the store's own ceiling"
    say "  ChatPort/redis script: $(ratio "$(median ${R[chatport|rate]:-})" "$(median ${R[ceiling]:-})")"
fi

# target LABEL A B OP LIMIT: A/B against LIMIT (OP: <= or >=)
target() {
    local r v
    r=$(ratio "$2" "$3")
    v=$(awk -v r="$r" -v op="$4" -v l="$5" 'BEGIN {
            if (r == "-") print "unknown";
            else if (op == "<=" ? r <= l + 0 : r >= l + 0) print "met:   ";
            else print "MISSED:" }')
    say "  $v $1 = $r (target $4 $5)"
}

if [ "$CHATPORT_OK" = 1 ]; then
    say ""
    say "Targets of issue #16 (ratios of the medians)"
    if [[ " ${ALL[*]} " == *" nchan-redis "* ]]; then
        target "publish rate, ChatPort/nchan-redis" \
            "$(median ${R[chatport|rate]:-})" "$(median ${R[nchan-redis|rate]:-})" '>=' 2
        case " $NS " in *" 5000 "*)
            case " $TOPOLOGIES " in *" many "*)
                target "time-to-last N=5000 many, ChatPort/nchan-redis" \
                    "$(median ${R[chatport|5000|many|last]:-})" \
                    "$(median ${R[nchan-redis|5000|many|last]:-})" '<=' 0.4
            esac
        esac
    fi
    if [ "$CEILING" = 1 ]; then
        target "publish rate, ChatPort/redis script" \
            "$(median ${R[chatport|rate]:-})" "$(median ${R[ceiling]:-})" '>=' 0.8
    fi
fi

notes=0
for k in "${!NOTE[@]}"; do
    [ $notes = 0 ] && { say ""; say "Problems seen"; }
    notes=1
    say "  $k: ${NOTE[$k]}"
done

say ""
say "done in $(( $(date +%s) - T_START )) s$([ "$KEEP" = 1 ] && echo "; configs and logs in $RUN")"
