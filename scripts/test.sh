#!/bin/sh
# Runs every test in t/ against a private Redis on a free loopback port.
# Usage: test.sh /abs/path/ngx_http_chatport_module.so
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
module=$1
port=$(perl "$top/scripts/free-port.pl")

# one Redis folder per run: runs side by side never stop each other's
mkdir -p "$top/build"
dir=$(mktemp -d "$top/build/test-redis.XXXXXX")

# stream-node-max-bytes as README ("Sizing Redis") recommends: the
# module's notice about it is t/029's alone
redis-server --bind 127.0.0.1 --port "$port" --daemonize yes \
    --pidfile "$dir/redis.pid" --dir "$dir" --logfile "$dir/redis.log" \
    --save "" --appendonly no --stream-node-max-bytes 1024 || exit 1

# waits (10 s at most) for Redis to exit: it writes its log until then,
# and a file written after rm -rf leaves the folder behind
stop_redis() {
    if [ -s "$dir/redis.pid" ]; then
        pid=$(cat "$dir/redis.pid")
        kill "$pid" 2>/dev/null
        i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
            i=$((i + 1))
            sleep 0.1
        done
    fi
    rm -rf "$dir"
}
trap stop_redis EXIT INT TERM

i=0
until redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1; do
    i=$((i + 1))
    [ $i -gt 100 ] && { echo "redis did not start"; exit 1; }
    sleep 0.1
done

export TEST_NGINX_LOAD_MODULES="$module"
export TEST_NGINX_BINARY="${TEST_NGINX_BINARY:-/usr/sbin/nginx}"
export TEST_NGINX_REDIS_PORT="$port"
export TEST_NGINX_REDIS_DIR="$dir"

# the real Test::Nginx when it is installed, our fallback (and its own
# self-tests, *.st) otherwise
selftests=""
if ! perl -MTest::Nginx::Socket -e 1 2>/dev/null; then
    export PERL5LIB="$top/t/lib${PERL5LIB:+:$PERL5LIB}"
    selftests=$(ls "$top"/t/lib/selftest/*.st)
fi

cd "$top" && prove -r ${TEST_FILES:-t/ $selftests}
