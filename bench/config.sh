#!/usr/bin/env bash
# ChatPort config benchmark: GET config against a static JSON file.
#
# Every page view of every site asks GET config, so config is answered from
# each worker's memory (the site's availability, kept up to date through
# Redis pub/sub). One nginx (one worker) with a private Redis serves both:
#   /chatport/config   the widget's config (an operator is available: the
#                      status set online and a console poll held by curl)
#   /static/config.json  a static file with the same body (open_file_cache)
# It checks both answers, then measures requests/s of each for ROUNDS
# rounds of DURATION seconds on CONNS keep-alive connections (the order
# alternates), and prints the medians, the ratio config/static and the
# verdict against the issue's target (>= 0.80). Everything runs on
# 127.0.0.1; nginx, Redis and curl are stopped by pid on exit.
#
#   bash bench/config.sh
#
# Settings (environment):
#   ROUNDS=5              rounds; every round runs each subject once
#   DURATION=5            length of one run (s)
#   CONNS=32              keep-alive connections of the load generator
#   WARMUP=1              seconds of unmeasured load per subject first
#   CHATPORT_BUILD=1      run `make` in the repo root first (0: use the built .so)
#   CHATPORT_MODULE=...   module path (default build/nginx/objs/ngx_http_chatport_module.so)
#   NGINX=/usr/sbin/nginx
#   KEEP=0                1: keep build/bench/config/run-<pid>/

set -u
set -o pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# shellcheck source=lib.sh
. "$REPO/bench/lib.sh"
rate_settings config
SUBJECTS="config static"

# ------------------------------------------------------------ processes

NGINX_PID= REDIS_PID= CONSOLE_PID= LG_PID=
cleanup() {
    [ -n "$LG_PID" ] && stop_pid "$LG_PID"
    [ -n "$CONSOLE_PID" ] && stop_pid "$CONSOLE_PID"
    [ -n "$NGINX_PID" ] && stop_pid "$NGINX_PID"
    [ -n "$REDIS_PID" ] && stop_pid "$REDIS_PID"
    if [ "$KEEP" != 1 ]; then
        rm -rf "$RUN"
        rmdir "$BENCH/config" 2>/dev/null
    else
        say "kept $RUN"
    fi
}
trap cleanup EXIT
trap 'warn interrupted; exit 130' INT TERM

missing=()
for cmd in cc make perl curl redis-server redis-cli; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
done
[ -x "$NGINX" ] || missing+=("nginx ($NGINX)")
if [ ${#missing[@]} -gt 0 ]; then
    warn "missing: ${missing[*]}"
    warn "install: apt-get install -y nginx curl redis-server build-essential"
    exit 1
fi

mkdir -p "$RUN/tmp" "$RUN/static" "$RUN/redis"
build_tools

# ----------------------------------------------------------------- Redis

RPORT=$(free_port)
redis-server --bind 127.0.0.1 --port "$RPORT" --dir "$RUN/redis" \
    --save "" --appendonly no --logfile "$RUN/redis/redis.log" &
REDIS_PID=$!
wait_port "$RPORT" || { warn "redis did not start"; exit 1; }

# ----------------------------------------------------------------- nginx

PORT=$(free_port)
while [ "$PORT" = "$RPORT" ]; do PORT=$(free_port); done
printf 'bench:{PLAIN}bench\n' >"$RUN/htpasswd"

{ conf_head 'application/json json;'; cat <<EOF; } >"$RUN/nginx.conf"
    default_type application/octet-stream;

    chatport_redis 127.0.0.1:$RPORT;

    server {
        listen 127.0.0.1:$PORT backlog=4096;
        server_name localhost;
        chatport_site bench;

        location /chatport/ {
            chatport;
        }
        location /chatport/agent/ {
            chatport_agent;
            auth_basic "bench";
            auth_basic_user_file $RUN/htpasswd;
            chatport_poll_timeout 600s;
        }
        # the static file at its fastest: descriptors cached
        location /static/ {
            root $RUN;
            open_file_cache max=16;
        }
    }
}
EOF

start_bench_nginx
if [ -z "$WORKER_PID" ] || ! wait_port "$PORT"; then
    warn "nginx did not start: $(tail -c 300 "$RUN/error.log" 2>/dev/null)"
    exit 1
fi

# an operator available: the status online, a console's poll held
A=http://127.0.0.1:$PORT/chatport/agent
curl -s -m 5 -u bench:bench -H 'Content-Type: application/json' \
    -d '{"status":"online"}' "$A/presence" >/dev/null ||
    { warn "POST presence failed"; exit 1; }
curl -s -m 3600 -u bench:bench "$A/poll" >/dev/null &
CONSOLE_PID=$!

online=
for i in $(seq 100); do
    curl -s -m 5 "http://127.0.0.1:$PORT/chatport/config" >"$RUN/config.json"
    grep -q '"online":true' "$RUN/config.json" && { online=1; break; }
    sleep 0.05
done
[ -n "$online" ] || { warn "config never online: $(cat "$RUN/config.json")"; exit 1; }

# the static file: the same body, the same size
cp "$RUN/config.json" "$RUN/static/config.json"
BYTES=$(wc -c <"$RUN/config.json")

url_of() {
    case $1 in
    config) echo /chatport/config;;
    static) echo /static/config.json;;
    esac
}

for s in $SUBJECTS; do
    code=$(curl -s -m 5 -o "$RUN/check-$s" -w '%{http_code}' \
           "http://127.0.0.1:$PORT$(url_of "$s")")
    if [ "$code" != 200 ] || ! cmp -s "$RUN/check-$s" "$RUN/config.json"; then
        warn "check $s: status $code, body $(head -c 200 "$RUN/check-$s")"
        exit 1
    fi
done

say "nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///'), 1 worker (pid $WORKER_PID), 127.0.0.1:$PORT, Redis 127.0.0.1:$RPORT"
say "both answer the same $BYTES-byte JSON ({\"site\":\"bench\",\"online\":true,...})"
say "load generator: $LOADGEN publish -M GET, $CONNS keep-alive connections"

# ------------------------------------------------------------ measuring

# run SUBJECT SECONDS OUT: sets RATE and RUN_ERR
run() {
    local s=$1 secs=$2 out=$3 resp ok err
    "$LOADGEN" publish -p "$PORT" -M GET -U "$(url_of "$s")" -c "$CONNS" \
        -d "$secs" >"$out" 2>&1 &
    LG_PID=$!
    wait "$LG_PID"
    LG_PID=
    resp=$(grep '^RESULT' "$out" | tr ' ' '\n' | sed -n 's/^responses=//p')
    ok=$(grep '^RESULT' "$out" | tr ' ' '\n' | sed -n 's/^ok=//p')
    err=$(grep '^RESULT' "$out" | tr ' ' '\n' | sed -n 's/^errors=//p')
    RATE=$(grep '^RESULT' "$out" | tr ' ' '\n' | sed -n 's/^ok_rate=//p')
    RUN_ERR=
    if [ -z "$RATE" ]; then
        RUN_ERR="loadgen: $(tail -c 200 "$out")"
        RATE=0
    elif [ "$resp" != "$ok" ] || [ "${err:-0}" != 0 ]; then
        RUN_ERR="$((resp - ok)) non-2xx, $err errors"
    fi
}

if [ "$WARMUP" -gt 0 ]; then
    for s in $SUBJECTS; do
        run "$s" "$WARMUP" "$RUN/warmup-$s.log"
        [ -z "$RUN_ERR" ] || { warn "warm-up $s: $RUN_ERR"; exit 1; }
    done
fi

declare -A RATES
problems=()
subj=($SUBJECTS)
for r in $(seq "$ROUNDS"); do
    line="round $r/$ROUNDS:"
    for k in 0 1; do
        s=${subj[$(((k + r - 1) % 2))]}
        run "$s" "$DURATION" "$RUN/round$r-$s.log"
        [ -n "$RUN_ERR" ] && problems+=("round $r $s: $RUN_ERR")
        RATES[$s]="${RATES[$s]:-} $RATE"
        line="$line  $s $RATE/s"
    done
    say "$line"
done

# ------------------------------------------------------------ results

# config must still be online: the load did not change what it answers
curl -s -m 5 "http://127.0.0.1:$PORT/chatport/config" | grep -q '"online":true' ||
    problems+=("config was no longer online after the runs")

say ""
say "Requests/s, $CONNS connections, $ROUNDS x ${DURATION}s (median; every run in brackets)"
declare -A MED
for s in $SUBJECTS; do
    MED[$s]=$(median ${RATES[$s]})
    printf '%-8s %10.0f  (%s)\n' "$s" "${MED[$s]}" "${RATES[$s]# }"
done
ratio=$(awk -v a="${MED[config]}" -v b="${MED[static]}" \
        'BEGIN { if (b > 0) printf "%.3f", a / b; else print "n/a" }')
say ""
say "config / static = $ratio"
if awk -v r="$ratio" 'BEGIN { exit !(r + 0 >= 0.80) }'; then
    say "  met:    GET config at least 0.8x a static file ($ratio >= 0.80)"
else
    say "  MISSED: GET config at least 0.8x a static file ($ratio < 0.80)"
fi

if [ ${#problems[@]} -gt 0 ]; then
    say ""
    say "Problems seen:"
    printf '  %s\n' "${problems[@]}"
fi
if grep -q '\[\(alert\|crit\|emerg\|error\)\]' "$RUN/error.log" 2>/dev/null; then
    say ""
    say "nginx error.log:"
    grep '\[\(alert\|crit\|emerg\|error\)\]' "$RUN/error.log" | tail -5 | sed 's/^/  /'
fi
