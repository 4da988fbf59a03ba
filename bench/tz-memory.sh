#!/bin/sh
# ChatPort time zones: the master's memory with many servers of one zone.
#
# For each zone (and once with no chatport_timezone at all), one nginx
# with SERVERS server blocks on one loopback port, each naming the zone,
# is started; once it runs, the master's VmRSS is read, and its growth
# over the run without a zone is printed in total and per server. Every
# nginx is stopped by pid.
#
#   sh bench/tz-memory.sh [MODULE]
#
# Settings (environment):
#   SERVERS=5000
#   ZONES="Asia/Tokyo Europe/Berlin America/New_York"
#   NGINX=/usr/sbin/nginx
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
module=${1:-$top/build/nginx/objs/ngx_http_chatport_module.so}
servers=${SERVERS:-5000}
zones=${ZONES:-"Asia/Tokyo Europe/Berlin America/New_York"}
nginx=${NGINX:-/usr/sbin/nginx}
port=$(perl "$top/scripts/free-port.pl")
run=$(mktemp -d "${TMPDIR:-/tmp}/chatport-tz.XXXXXX")
pid=

cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$run"
}
trap cleanup EXIT

# rss ZONE: the master's VmRSS (kB) with every server in ZONE ("-": none)
rss() {
    rm -rf "$run/logs" "$run/nginx.pid"
    mkdir -p "$run/logs"
    {
        echo "load_module $module;"
        echo "worker_processes 1; daemon off; pid $run/nginx.pid;"
        echo "error_log $run/logs/error.log;"
        echo "events { worker_connections 64; }"
        echo "http { access_log off; server_names_hash_max_size 16384;"
        echo "server_names_hash_bucket_size 64;"
        awk -v n="$servers" -v z="$1" -v p="$port" 'BEGIN {
            for (i = 0; i < n; i++) {
                printf "server { listen 127.0.0.1:%s; server_name s%d.test;",
                       p, i
                if (z != "-") printf " chatport_timezone %s;", z
                print " }"
            }
        }'
        echo "}"
    } > "$run/nginx.conf"

    "$nginx" -p "$run" -c "$run/nginx.conf" &
    pid=$!

    i=0
    until [ -s "$run/nginx.pid" ]; do
        i=$((i + 1))
        [ $i -gt 600 ] && { echo "nginx did not start" >&2; exit 1; }
        sleep 0.1
    done

    awk '/^VmRSS/ { print $2 }' "/proc/$pid/status"
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    pid=
}

base=$(rss -)
echo "$servers servers, no zone: master VmRSS $base kB"

for z in $zones; do
    kb=$(rss "$z")
    echo "$z: master VmRSS $kb kB, +$((kb - base)) kB," \
         "$(((kb - base) * 1024 / servers)) bytes per server"
done
