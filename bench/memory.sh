#!/usr/bin/env bash
# ChatPort Redis memory benchmark: bytes per conversation and per message.
#
# One nginx (one worker) with ChatPort and a private Redis (no
# persistence). CONVS visitors each open a conversation (POST messages),
# an operator answers each (POST agent .../messages) and each visitor
# writes again: three messages per conversation. Then every conversation
# gets MORE further messages. After each phase it sums `MEMORY USAGE`
# (SAMPLES 0: exact) over every key of every conversation
# (chatport:{site}:conv:CID*), and lists the site's own keys (the
# conversation index, the inbox, ...) with theirs. It prints bytes per
# three-message conversation, bytes per further message, the site keys,
# and Redis's used_memory growth as a cross-check; the targets of issue
# #16 are <= 3072 B per three-message conversation and <= 614 B
# (0.6 KB) per further message. Everything runs on 127.0.0.1 and is
# stopped by pid on exit.
#
#   bash bench/memory.sh
#
# Settings (environment):
#   CONVS=1000            conversations
#   MORE=50               further messages per conversation (a stream node
#                         preallocates 4 KB: a few messages cost nothing)
#   NODE_BYTES="default"  values of Redis's stream-node-max-bytes to
#                         measure, each on a fresh Redis (e.g. "default 1024")
#   CHATPORT_BUILD=1      run `make` in the repo root first (0: use the built .so)
#   CHATPORT_MODULE=...   module path (default build/nginx/objs/ngx_http_chatport_module.so)
#   NGINX=/usr/sbin/nginx
#   KEEP=0                1: keep build/bench/memory/run-<pid>/

set -u
set -o pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CONVS=${CONVS:-1000}
MORE=${MORE:-50}
NODE_BYTES=${NODE_BYTES:-default}

# shellcheck source=lib.sh
. "$REPO/bench/lib.sh"
rate_settings memory
T_START=$(date +%s)

for v in CONVS MORE; do
    case ${!v} in ''|*[!0-9]*) warn "$v must be a number: ${!v}"; exit 1;; esac
done
[ "$CONVS" -ge 1 ] && [ "$CONVS" -le 100000 ] || { warn "CONVS must be 1..100000"; exit 1; }
for nb in $NODE_BYTES; do
    case $nb in default) ;; ''|*[!0-9]*) warn "NODE_BYTES: numbers or default"; exit 1;; esac
done

site_bench_init

# conv_bytes: sum of MEMORY USAGE over every conversation key
conv_bytes() {
    rcli --scan --pattern "chatport:{$SITE}:conv:*" |
        awk '{ print "MEMORY USAGE " $0 " SAMPLES 0" }' | rcli |
        awk '{ s += $1 } END { print s + 0 }'
}

site_keys() {          # "key type bytes" of the site's other keys
    rcli --scan --pattern "chatport:{$SITE}:*" | grep -v ":conv:" | sort |
        while read -r k; do
            printf '%s %s %s\n' "$k" "$(rcli type "$k")" \
                "$(rcli memory usage "$k" samples 0)"
        done
}

# the worker writes the search index a second after the messages
# (src/ngx_http_chatport_index.c): measured once it has
indexed() {
    local i
    for i in $(seq 100); do
        [ "$(rcli exists "chatport:{$SITE}:index-queue")" = 0 ] && return 0
        sleep 0.1
    done
    warn "the index queue was not written to the index in 10 s"
    exit 1
}

used() { rcli info memory | tr -d '\r' | sed -n 's/^used_memory://p'; }

# post COUNT URL FILE: COUNT posts on 16 connections, all must be 201
post() {
    local count=$1 url=$2 file=$3 log
    shift 3
    log=$RUN/post-$RANDOM.log
    "$LOADGEN" publish -p "$PORT" -c 16 -n "$count" -U "$url" -H "$JSON" \
        -f "$file" "$@" -B '{"text":"a chat message of ordinary length, about like this one"}' \
        >"$log" 2>&1
    if ! grep -q "statuses: 201=$count\$" "$log"; then
        warn "posting to $url: $(grep '^publish:' "$log")"
        exit 1
    fi
}

declare -A OUT
for nb in $NODE_BYTES; do
    say ""
    say "stream-node-max-bytes $nb: $CONVS conversations"
    site_start "$nb"

    base=$(used)
    # 1: the visitors open their conversations
    "$LOADGEN" publish -p "$PORT" -c 16 -n "$CONVS" -U /chatport/messages \
        -H "$JSON" -B '{"text":"Hello, I have a question about my order"}' \
        -o "$RUN/visitors" --save-cookie chatport_vid --save-json id \
        >"$RUN/visitors.log" 2>&1
    grep -q "statuses: 201=$CONVS\$" "$RUN/visitors.log" ||
        { warn "opening: $(grep '^publish:' "$RUN/visitors.log")"; exit 1; }
    rcli zrange "chatport:{$SITE}:convs" 0 -1 >"$RUN/cids"
    [ "$(wc -l <"$RUN/cids")" = "$CONVS" ] ||
        { warn "convs holds $(wc -l <"$RUN/cids") conversations"; exit 1; }
    # 2: an operator answers, 3: the visitor writes again
    post "$CONVS" '/chatport/agent/conversations/%1/messages' "$RUN/cids" -H "$AUTH"
    post "$CONVS" /chatport/messages "$RUN/visitors" -H 'Cookie: chatport_vid=%1'
    indexed
    three=$(conv_bytes)
    used3=$(used)
    say "  three messages: $three B in conversation keys, $(( three / CONVS )) B per conversation"
    # further messages, alternating visitor and operator
    half=$(( CONVS * MORE / 2 ))
    post "$half" /chatport/messages "$RUN/visitors" -H 'Cookie: chatport_vid=%1'
    post "$(( CONVS * MORE - half ))" '/chatport/agent/conversations/%1/messages' \
        "$RUN/cids" -H "$AUTH"
    indexed
    more=$(conv_bytes)
    usedm=$(used)
    say "  $MORE more each: $more B, $(( (more - three) / (CONVS * MORE) )) B per further message"
    say "  site keys (key type bytes):"
    site_keys | sed 's/^/    /'
    say "  used_memory: +$(( (used3 - base) / CONVS )) B per conversation after three" \
        "messages, +$(( (usedm - used3) / (CONVS * MORE) )) B per further message"
    OUT[$nb]="$(( three / CONVS )) $(( (more - three) / (CONVS * MORE) ))"

    site_stop
done

say ""
say "Redis bytes (MEMORY USAGE over a conversation's keys), and as ratios to the"
say "targets of issue #16 (3072 B per three-message conversation, 614 B per further"
say "message; met at 1.00 or below)"
printf '%-22s %14s %16s %9s %9s\n' stream-node-max-bytes per-conversation \
    per-further-msg /3072 /614
for nb in $NODE_BYTES; do
    set -- ${OUT[$nb]}
    printf '%-22s %13sB %15sB %9s %9s  %s\n' "$nb" "$1" "$2" \
        "$(awk -v a="$1" 'BEGIN { printf "%.2f", a / 3072 }')" \
        "$(awk -v a="$2" 'BEGIN { printf "%.2f", a / 614 }')" \
        "$([ "$1" -le 3072 ] && [ "$2" -le 614 ] && echo met || echo MISSED)"
done
say ""
say "done in $(( $(date +%s) - T_START )) s$([ "$KEEP" = 1 ] && echo "; files in $RUN")"
