#!/usr/bin/env bash
# ChatPort search benchmark: GET A conversations?q=... at CONVS
# conversations of one site.
#
# One nginx (one worker) with ChatPort and a private Redis (no
# persistence). CONVS visitors open a conversation each (POST messages on
# 16 keep-alive connections, half in English, half in Japanese, with a
# product page; a rare word in one in a thousand), an operator answers
# half of them and every visitor leaves an email address and a name
# (POST contact). Then each query is sent ROUNDS times through nginx
# (curl, one at a time) and the median time printed, beside a plain
# list request of the same run. Also printed: the time Redis spent in
# scripts per conversation opened (INFO commandstats: the message script
# and the worker's indexing of its text, once the index queue is empty;
# the scripts' calls) and, with
# COMPARE_MODULE, the same for another build (the module before the
# index), and the memory the index takes (MEMORY USAGE over the idx and
# terms keys, used_memory). Everything runs on 127.0.0.1 and is stopped
# by pid on exit.
#
#   bash bench/search.sh
#
# Settings (environment):
#   CONVS=10000           conversations
#   ROUNDS=11             times each query is sent
#   COMPARE_MODULE=       another module to time the opening phase with
#   CHATPORT_BUILD=1      run `make` in the repo root first (0: use the built .so)
#   CHATPORT_MODULE=...   module path (default build/nginx/objs/ngx_http_chatport_module.so)
#   NGINX=/usr/sbin/nginx
#   KEEP=0                1: keep build/bench/search/run-<pid>/

set -u
set -o pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CONVS=${CONVS:-10000}
ROUNDS=${ROUNDS:-11}
COMPARE_MODULE=${COMPARE_MODULE:-}

# shellcheck source=lib.sh
. "$REPO/bench/lib.sh"
rate_settings search
T_START=$(date +%s)

case $CONVS in ''|*[!0-9]*) warn "CONVS must be a number: $CONVS"; exit 1;; esac
[ "$CONVS" -ge 100 ] && [ "$CONVS" -le 100000 ] ||
    { warn "CONVS must be 100..100000"; exit 1; }

site_bench_init

# the visitors' first messages: "TEXT PAGE" per line, the text's spaces
# as \u0020 (loadgen splits its lines on white space)
perl -e '
    srand(1);
    my @p = qw(kettle teapot whisk mug tin tray strainer scoop caddy bowl);
    my @c = qw(Germany France Canada Brazil Kenya Norway Chile Japan);
    my @en = (
        "Hi, I ordered the %p last week but it has not arrived yet.",
        "Where is my order %n? The tracking number does not work.",
        "Do you ship the %p to %c? And how long does it take?",
        "Can I return the %p if the colour is not what I expected?",
        "Is the large %p back in stock soon? I would like two.");
    my @pj = ("急須", "抹茶", "煎茶", "湯呑み", "茶筅", "ほうじ茶", "玉露");
    my @cj = ("東京都", "大阪府", "札幌市", "福岡市", "京都府", "那覇市");
    my @ja = (
        "%pの配送について教えてください。%cまで何日かかりますか？",
        "注文番号%nの荷物がまだ届きません。確認をお願いします。",
        "%pの在庫はありますか？%cの店舗でも買えますか？",
        "先週注文した%pを返品したいのですが、手続きを教えてください。",
        "%cへの送料はいくらですか？%pを二つ注文したいです。");
    for my $i (0 .. $ARGV[0] - 1) {
        my $ja = $i % 2;
        my $t = $ja ? $ja[rand @ja] : $en[rand @en];
        my $p = $ja ? $pj[rand @pj] : $p[rand @p];
        my $c = $ja ? $cj[rand @cj] : $c[rand @c];
        my $n = 100000 + int rand 900000;
        $t =~ s/%p/$p/g; $t =~ s/%c/$c/g; $t =~ s/%n/$n/g;
        $t .= " By the way, do you know Zanzibar?" if $i % 1000 == 7;
        $t =~ s/ /\\u0020/g;
        my $page = $ja ? "/products/%E6%8A%B9%E8%8C%B6-$i" : "/products/$p-$i";
        print "$t $page\n";
    }' "$CONVS" >"$RUN/texts"

# open COUNT: the visitors write (saves their cookies), its script time
open_conversations() {
    rcli config resetstat >/dev/null
    "$LOADGEN" publish -p "$PORT" -c 16 -n "$CONVS" -U /chatport/messages \
        -H "$JSON" -f "$RUN/texts" \
        -B '{"text":"%1","page":"http://bench%2"}' \
        -o "$RUN/visitors" --save-cookie chatport_vid --save-json id \
        >"$RUN/visitors.log" 2>&1
    grep -q "statuses: 201=$CONVS\$" "$RUN/visitors.log" ||
        { warn "opening: $(grep '^publish:' "$RUN/visitors.log")"; exit 1; }
    # the worker indexes the messages a second after them (a build without
    # the queue has none)
    local i
    for i in $(seq 300); do
        [ "$(rcli exists "chatport:{$SITE}:index-queue")" = 0 ] && break
        sleep 0.1
    done
    rcli info commandstats | tr -d '\r' |
        sed -n 's/^cmdstat_evalsha:calls=\([0-9]*\),usec=\([0-9]*\),.*/\2 \1/p' |
        awk -v n="$CONVS" '{ printf "%.1f %d\n", $1 / n, $2 }'
}

post() {             # post COUNT URL FILE BODY [ARGS]: all must answer 2xx
    local count=$1 url=$2 file=$3 body=$4 log
    shift 4
    log=$RUN/post-$RANDOM.log
    "$LOADGEN" publish -p "$PORT" -c 16 -n "$count" -U "$url" -H "$JSON" \
        -f "$file" -B "$body" "$@" >"$log" 2>&1
    grep -Eq "statuses: 20[14]=$count\$" "$log" ||
        { warn "posting to $url: $(grep '^publish:' "$log")"; exit 1; }
}

if [ -n "$COMPARE_MODULE" ]; then
    say "opening $CONVS conversations with $COMPARE_MODULE"
    CHATPORT_MODULE=$COMPARE_MODULE site_start
    read -r CMP_US CMP_CALLS <<<"$(open_conversations)"
    site_stop
fi

say "opening $CONVS conversations"
site_start
base=$(rcli info memory | tr -d '\r' | sed -n 's/^used_memory://p')
read -r OPEN_US OPEN_CALLS <<<"$(open_conversations)"
used_open=$(rcli info memory | tr -d '\r' | sed -n 's/^used_memory://p')
rcli zrange "chatport:{$SITE}:convs" 0 -1 >"$RUN/cids"
say "an operator answers half, every visitor leaves an address"
post $(( CONVS / 2 )) '/chatport/agent/conversations/%1/messages' "$RUN/cids" \
    '{"text":"Thank you! Your parcel ships tomorrow, tracking follows by mail."}' \
    -H "$AUTH"
post "$CONVS" /chatport/contact "$RUN/visitors" \
    '{"email":"customer%d@mail.example","name":"Customer %d"}' \
    -H 'Cookie: chatport_vid=%1'
[ "$(rcli zcard "chatport:{$SITE}:convs")" = "$CONVS" ] ||
    { warn "convs holds $(rcli zcard "chatport:{$SITE}:convs")"; exit 1; }

# q: curl QUERY: the answer's time (ms) and body in $RUN/answer
q() {
    curl -s -o "$RUN/answer" -w '%{time_total}\n' -H "$AUTH" \
        "http://127.0.0.1:$PORT/chatport/agent/conversations?$1" |
        awk '{ printf "%.2f\n", $1 * 1000 }'
}

cursor() { sed -n 's/.*"cursor":"\([^"]*\)".*/\1/p' "$RUN/answer"; }

declare -a NAMES QUERIES
add() { NAMES+=("$1"); QUERIES+=("$2"); }
add "plain list (no q)"              "limit=50"
add "common word: order"             "q=order&limit=50"
add "two words: tracking number"     "q=tracking+number&limit=50"
add "rare word: zanzibar"            "q=zanzibar&limit=50"
add "Japanese word: 配送"            "q=%E9%85%8D%E9%80%81&limit=50"
add "Japanese word: 札幌"            "q=%E6%9C%AD%E5%B9%8C&limit=50"
add "email: customer4242@..."        "q=customer4242%40mail.example&limit=50"
add "order + filter=unanswered"      "q=order&filter=unanswered&limit=50"
add "filter=open (no q)"             "filter=open&limit=50"
add "filter=mine (none claimed)"     "filter=mine&limit=50"

say ""
say "median of $ROUNDS requests through nginx, ms (found: the first page's size)"
printf '%-32s %9s %7s\n' query median found
for i in "${!NAMES[@]}"; do
    times=()
    for _ in $(seq "$ROUNDS"); do times+=("$(q "${QUERIES[$i]}")"); done
    found=$(grep -o '"id":"[0-9a-f]\{32\}"' "$RUN/answer" | wc -l)
    printf '%-32s %9s %7s\n' "${NAMES[$i]}" "$(median "${times[@]}")" "$found"
done

# paging: pages 2 and 3 of the common Japanese word
q "q=%E9%85%8D%E9%80%81&limit=50" >/dev/null
for page in 2 3; do
    c=$(cursor)
    [ -n "$c" ] || { warn "no cursor for page $page"; break; }
    times=()
    for _ in $(seq "$ROUNDS"); do
        times+=("$(q "q=%E9%85%8D%E9%80%81&limit=50&before=$c")")
    done
    found=$(grep -o '"id":"[0-9a-f]\{32\}"' "$RUN/answer" | wc -l)
    printf '%-32s %9s %7s\n' "配送, page $page" "$(median "${times[@]}")" \
        "$found"
done

# the index's memory: MEMORY USAGE over its keys
sum_usage() {
    rcli --scan --pattern "$1" |
        awk '{ print "MEMORY USAGE " $0 " SAMPLES 0" }' | rcli |
        awk '{ s += $1; n++ } END { printf "%d %d\n", n, s }'
}
read -r idx_keys idx_bytes <<<"$(sum_usage "chatport:{$SITE}:idx:*")"
read -r terms_keys terms_bytes <<<"$(sum_usage "chatport:{$SITE}:conv:*:terms")"
entries=$(rcli --scan --pattern "chatport:{$SITE}:conv:*:terms" |
          awk '{ print "SCARD " $0 }' | rcli | awk '{ s += $1 } END { print s }')

say ""
say "index: $idx_keys idx keys, $idx_bytes B; $terms_keys terms sets, $terms_bytes B;" \
    "$entries entries ($(( (idx_bytes + terms_bytes) / CONVS )) B per conversation," \
    "$(( (idx_bytes + terms_bytes) / entries )) B per entry)"
say "used_memory after opening: +$(( (used_open - base) / CONVS )) B per conversation"
say "scripts' time while opening: $OPEN_US us per conversation ($OPEN_CALLS calls)"
[ -n "$COMPARE_MODULE" ] &&
    say "  with $COMPARE_MODULE: $CMP_US us per conversation ($CMP_CALLS calls)"
site_stop
say ""
say "done in $(( $(date +%s) - T_START )) s$([ "$KEEP" = 1 ] && echo "; files in $RUN")"
