#!/bin/sh
# Runs a local ChatPort demo on 127.0.0.1: a private Redis and an nginx
# (master + 2 workers) with everything under build/demo/.
# Usage: demo.sh start /abs/path/ngx_http_chatport_module.so
#        demo.sh stop
#        demo.sh reset      (stops it and deletes its conversations)
# CHATPORT_DEMO_PORT=N picks the front's port (default 8080 when free),
# CHATPORT_NGINX the nginx binary (default /usr/sbin/nginx).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
demo="$top/build/demo"
# not $NGINX: nginx itself reads that one (sockets inherited on upgrade)
nginx=${CHATPORT_NGINX:-/usr/sbin/nginx}

nginx_pid_file="$demo/logs/nginx.pid"
redis_pid_file="$demo/redis/redis.pid"

# a pid from a pid file, if that process is still the program we started
# (a stale file may name a pid the system has since given to another one)
live_pid() {
    pid_file=$1
    program=$2

    [ -s "$pid_file" ] || return 1
    pid=$(cat "$pid_file")

    case "$pid" in
        ''|*[!0-9]*) return 1 ;;
    esac

    kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q "$program" \
        || return 1

    echo "$pid"
}

# stops the process named in a pid file, waiting until it is gone
stop_one() {
    name=$1
    pid_file=$2
    program=$3

    if ! pid=$(live_pid "$pid_file" "$program"); then
        rm -f "$pid_file"
        echo "chatport demo: $name is not running"
        return 0
    fi

    kill -TERM "$pid"

    i=0
    while kill -0 "$pid" 2>/dev/null; do
        i=$((i + 1))
        if [ $i -gt 100 ]; then
            echo "chatport demo: $name (pid $pid) did not stop in 10s" >&2
            return 1
        fi
        sleep 0.1
    done

    rm -f "$pid_file"
    echo "chatport demo: stopped $name (pid $pid)"
}

stop() {
    rc=0
    stop_one nginx "$nginx_pid_file" nginx || rc=1
    stop_one redis "$redis_pid_file" redis-server || rc=1
    return $rc
}

# The demo's Redis keeps its data (append-only files) in build/demo/redis
# across stops; with it stopped, deleting them is deleting only the
# demo's conversations, forms and operator statuses.
reset() {
    stop || { echo "chatport demo: not reset" >&2; return 1; }

    if [ -e "$demo/redis/appendonlydir" ] || [ -e "$demo/redis/dump.rdb" ]
    then
        rm -rf "$demo/redis/appendonlydir" "$demo/redis/dump.rdb"
        echo "chatport demo: deleted its Redis data in $demo/redis/"\
             "(conversations, forms, operator statuses)"
    else
        echo "chatport demo: no Redis data to delete in $demo/redis/"
    fi

    echo "chatport demo: 'make demo' starts an empty one"
}

# succeeds when nothing listens on 127.0.0.1:$1
port_free() {
    perl -MIO::Socket::INET -e '
        IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1",
                              LocalPort => $ARGV[0], ReuseAddr => 1)
            or exit 1' "$1"
}

# a free loopback port that differs from the ones given
free_port() {
    while :; do
        p=$(perl "$top/scripts/free-port.pl")
        case " $* " in
            *" $p "*) ;;
            *) echo "$p"; return 0 ;;
        esac
    done
}

start() {
    module=$1

    if [ ! -f "$module" ]; then
        echo "chatport demo: no module at $module (run make first)" >&2
        exit 1
    fi

    if pid=$(live_pid "$nginx_pid_file" nginx); then
        echo "chatport demo: already running (nginx pid $pid)"
        [ -f "$demo/urls.txt" ] && cat "$demo/urls.txt"
        echo "chatport demo: 'make demo-stop' stops it (a new 'make demo'"
        echo "               keeps the conversations, with a new console"
        echo "               password); 'make demo-reset' deletes them too"
        exit 0
    fi

    # a Redis left over from a demo whose nginx died
    if live_pid "$redis_pid_file" redis-server >/dev/null; then
        stop_one redis "$redis_pid_file" redis-server
    fi

    mkdir -p "$demo/conf" "$demo/logs" "$demo/temp" "$demo/html" \
             "$demo/redis"
    cp "$top"/scripts/demo-site/* "$demo/html/"

    # ports: the front on $CHATPORT_DEMO_PORT when given, else on 8080
    # when that is free
    if [ -n "${CHATPORT_DEMO_PORT:-}" ]; then
        front=$CHATPORT_DEMO_PORT
    elif port_free 8080; then
        front=8080
    else
        front=$(free_port)
    fi
    shop=$(free_port "$front")
    redis=$(free_port "$front" "$shop")

    # Redis, with its data (an append-only file) in build/demo/redis
    rm -f "$redis_pid_file"
    redis-server --bind 127.0.0.1 --port "$redis" --daemonize yes \
        --pidfile "$redis_pid_file" --dir "$demo/redis" \
        --logfile "$demo/redis/redis.log" --appendonly yes --save "" \
        >/dev/null

    i=0
    until redis-cli -h 127.0.0.1 -p "$redis" ping >/dev/null 2>&1; do
        i=$((i + 1))
        if [ $i -gt 100 ]; then
            echo "chatport demo: redis did not start, see" \
                 "$demo/redis/redis.log" >&2
            stop_one redis "$redis_pid_file" redis-server || true
            exit 1
        fi
        sleep 0.1
    done

    # the operator's login: user "demo", a new random password each time
    password=$(openssl rand -base64 18 | tr -dc 'A-Za-z0-9' | cut -c1-16)
    printf 'demo:%s\n' \
        "$(printf '%s\n' "$password" | openssl passwd -apr1 -stdin)" \
        > "$demo/conf/htpasswd"

    chmod 600 "$demo/conf/htpasswd"

    # The workers read the page, this password file and the temp folders
    # in build/demo/ at request time. Started by root, nginx would run
    # them as nobody, who cannot reach a checkout in a folder only root
    # may read (/root/..., mktemp -d): 403 for the site, 500 for the
    # console. So, like Test::Nginx, the demo keeps them as root then;
    # it listens on 127.0.0.1 only. Any other user cannot switch users
    # at all: nginx warns about a "user" line and runs the workers as
    # that user, who can read its own checkout.
    user_line=""
    if [ "$(id -u)" -eq 0 ]; then
        user_line="user root;"
    fi

    cat > "$demo/conf/nginx.conf" <<EOF
# Generated by scripts/demo.sh on every 'make demo'; edits are lost.
load_module $module;

$user_line
worker_processes 2;
pid $nginx_pid_file;
error_log $demo/logs/error.log notice;

events {
    worker_connections 256;
}

http {
    types {
        text/html                html;
        text/css                 css;
        application/javascript   js;
    }
    default_type application/octet-stream;

    access_log $demo/logs/access.log;

    client_body_temp_path $demo/temp/client_body;
    proxy_temp_path       $demo/temp/proxy;
    fastcgi_temp_path     $demo/temp/fastcgi;
    uwsgi_temp_path       $demo/temp/uwsgi;
    scgi_temp_path        $demo/temp/scgi;

    chatport_redis 127.0.0.1:$redis;

    # the shop: a plain site that knows nothing about chat
    server {
        listen 127.0.0.1:$shop;
        server_name shop.internal;
        root $demo/html;
    }

    # the front that visitors reach: proxies the shop and adds ChatPort
    server {
        listen 127.0.0.1:$front;
        server_name localhost;

        chatport_site demo-shop;

        location / {
            proxy_pass http://127.0.0.1:$shop;
            proxy_set_header Host \$host;
            chatport_inject on;
        }

        location /chatport/ {
            chatport;
            # widget.js and widget.css: about a third on the wire
            gzip on;
            gzip_types application/javascript text/css;
            gzip_vary on;
        }

        location /chatport/agent/ {
            auth_basic "ChatPort operators";
            auth_basic_user_file $demo/conf/htpasswd;
            chatport_agent;
            # the name visitors see on the replies instead of "demo"
            chatport_operator demo "Hillside Tea team";
        }
    }
}
EOF

    if ! "$nginx" -q -t -p "$demo/" -c conf/nginx.conf \
         -e logs/error.log
    then
        echo "chatport demo: nginx rejected $demo/conf/nginx.conf" >&2
        stop_one redis "$redis_pid_file" redis-server || true
        exit 1
    fi

    rm -f "$nginx_pid_file"
    "$nginx" -p "$demo/" -c conf/nginx.conf -e logs/error.log

    i=0
    until live_pid "$nginx_pid_file" nginx >/dev/null; do
        i=$((i + 1))
        if [ $i -gt 50 ]; then
            echo "chatport demo: nginx did not start, see" \
                 "$demo/logs/error.log" >&2
            stop_one redis "$redis_pid_file" redis-server || true
            exit 1
        fi
        sleep 0.1
    done

    seed_canned "$redis"

    base="http://127.0.0.1:$front"

    cat > "$demo/urls.txt" <<EOF
  site       $base/
  2nd page   $base/brewing.html
  widget.js  $base/chatport/widget.js
  config     $base/chatport/config
  console    $base/chatport/agent/
  logs       $demo/logs/
EOF

    echo "chatport demo: running (nginx pid $(cat "$nginx_pid_file"),"\
         "2 workers; redis pid $(cat "$redis_pid_file") on 127.0.0.1:$redis)"
    cat "$demo/urls.txt"
    echo "  login      user \"demo\", password \"$password\" (shown only now)"
    cat <<EOF
  stop       make demo-stop (the next 'make demo' keeps the conversations)
  reset      make demo-reset (stops it and deletes the conversations)

First:
  1. Open the console, log in, and press "Away" at its top so that it says
     "Online". Keep the console open: until an operator is online the site
     shows the contact form instead of the chat.
  2. Open the site in another window (a private window is a new visitor):
     the chat button is in the bottom right corner. Write, and answer from
     the console.
  3. Go to the 2nd page and write again: the console shows the page the
     visitor is on.
EOF
}

# Canned replies in English and Japanese for the console's "/" menu, on
# a first start only (while the site has none): the ones an operator
# edits or deletes stay so. They are kept as POST A canned keeps them.
seed_canned() {
    key='chatport:{demo-shop}:canned'
    [ "$(redis-cli -h 127.0.0.1 -p "$1" EXISTS "$key")" = 0 ] || return 0
    now=$(date +%s)000
    n=0
    while IFS='|' read -r title text; do
        n=$((n + 1))
        redis-cli -h 127.0.0.1 -p "$1" HSET "$key" "$n" \
            "{\"id\":\"$n\",\"title\":\"$title\",\"text\":\"$text\",\"by\":\"demo\",\"updated\":$now}" \
            >/dev/null
    done <<'CANNED'
Hello|Hello! Thanks for visiting Hillside Tea Company. How can I help you?
Shipping|We ship within 2 business days; delivery takes 1-3 days in Japan.
Returns|Unopened tea can be returned within 14 days. Please keep the receipt.
Thanks|Thank you for your order! Enjoy your tea.
ごあいさつ|いらっしゃいませ。Hillside Tea Company です。ご用件をお聞かせください。
配送について|ご注文から2営業日以内に発送いたします。国内は1〜3日でお届けします。
返品について|未開封の茶葉は14日以内であれば返品いただけます。
お礼|ご注文ありがとうございます。お茶の時間をお楽しみください。
CANNED
}

case "${1:-}" in
    start)
        [ $# -eq 2 ] || { echo "usage: $0 start /abs/path/module.so" >&2;
                          exit 2; }
        start "$2"
        ;;
    stop)
        stop
        ;;
    reset)
        reset
        ;;
    *)
        echo "usage: $0 start /abs/path/module.so | $0 stop | $0 reset" >&2
        exit 2
        ;;
esac
