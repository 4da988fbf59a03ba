#!/usr/bin/env bash
# ChatPort injection benchmark: chatport_inject vs sub_filter vs no filter.
#
# One nginx (one worker) serves generated HTML pages from a backend server
# block and proxies them (HTTP/1.1, upstream keep-alive) through three
# front locations:
#   /chatport-inject/  chatport_inject on;
#   /sub-filter/       sub_filter '</body>' '<script ...></body>';
#   /plain/            neither
# Three rows, each measured on its own:
#   len20     the ~20 KB page, the backend sends a Content-Length
#   len200    a ~200 KB page (10x), Content-Length
#   chunked20 the ~20 KB page, the backend sends it chunked (ssi on there
#             clears its length: the cost of the backend's SSI parser is
#             the same for the three subjects)
# Per row it checks that every location answers the expected body and
# length, then measures requests/s of each for ROUNDS rounds of DURATION
# seconds (the subjects alternate, the order rotates every round), prints
# the medians and the ratios chatport/sub_filter and chatport/plain. The
# issue's targets (>= 1.4 and >= 0.92) are for the len20 row.  Everything
# runs on 127.0.0.1; nginx is stopped by pid on exit.
#
#   bash bench/inject.sh
#
# Settings (environment):
#   ROUNDS=5              rounds; every round runs each subject once
#   DURATION=5            length of one run (s)
#   CONNS=32              keep-alive connections of the load generator
#   WARMUP=1              seconds of unmeasured load per subject before a row
#   PAGE_KB=20            size of the small page (the large one is 10x)
#   ROWS="len20 len200 chunked20"   the rows to run
#   CHATPORT_BUILD=1      run `make` in the repo root first (0: use the built .so)
#   CHATPORT_MODULE=...   module path (default build/nginx/objs/ngx_http_chatport_module.so)
#   NGINX=/usr/sbin/nginx
#   KEEP=0                1: keep build/bench/inject/run-<pid>/ (config, pages, logs)

set -u
set -o pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PAGE_KB=${PAGE_KB:-20}
ROWS=${ROWS:-len20 len200 chunked20}

# shellcheck source=lib.sh
. "$REPO/bench/lib.sh"
rate_settings inject
T_START=$(date +%s)

TAG='<script src="/chatport/widget.js" defer data-chatport></script>'
SUBJECTS="chatport sub_filter plain"

case $PAGE_KB in ''|*[!0-9]*) warn "PAGE_KB must be a number: $PAGE_KB"; exit 1;; esac
[ "$PAGE_KB" -ge 1 ] && [ "$PAGE_KB" -le 1024 ] || { warn "PAGE_KB must be 1..1024"; exit 1; }
for row in $ROWS; do
    case $row in len20|len200|chunked20) ;; *) warn "unknown row: $row"; exit 1;; esac
done

# ------------------------------------------------------------ processes

NGINX_PID=

LG_PID=
cleanup() {
    [ -n "$LG_PID" ] && stop_pid "$LG_PID"
    [ -n "$NGINX_PID" ] && stop_pid "$NGINX_PID"
    NGINX_PID=
    if [ "$KEEP" != 1 ]; then
        rm -rf "$RUN"
        rmdir "$BENCH/inject" 2>/dev/null
    else
        say "kept $RUN"
    fi
}
trap cleanup EXIT
trap 'warn interrupted; exit 130' INT TERM

# ---------------------------------------------------------------- checks

missing=()
for cmd in cc make perl curl; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
done
[ -x "$NGINX" ] || missing+=("nginx ($NGINX)")
if [ ${#missing[@]} -gt 0 ]; then
    warn "missing: ${missing[*]}"
    warn "install: apt-get install -y nginx curl build-essential"
    exit 1
fi
if ! "$NGINX" -V 2>&1 | grep -q -- --with-http_sub_module; then
    warn "$NGINX is built without the sub_filter module (--with-http_sub_module)"
    exit 1
fi

mkdir -p "$RUN"
build_tools

# ------------------------------------------------------------------ page

# A deterministic page of about KB kilobytes: a <head> with meta, a <style>
# and an inline <script>, a header with a nav, an article of paragraphs with
# inline markup (links, <em>, <code>), a list, a table, a footer, and
# "</body></html>\n" at the very end.
mkdir -p "$RUN/html"
gen_page() {        # gen_page KB: html/page-KB.html and expected-KB.html
    local kb=$1 page=$RUN/html/page-$1.html
    perl -e '
    my $target = $ARGV[0] * 1024;
    my @w = qw(visitor message operator widget channel reply answer support
               question browser session cookie request response latency
               stream buffer chunk header proxy upstream module filter page
               script document network server client order account price);
    my $seed = 7;
    sub rnd { $seed = ($seed * 1103515245 + 12345) % 2147483648; $seed % $_[0] }
    sub words { join " ", map { $w[rnd(scalar @w)] } 1 .. $_[0] }
    my $head = <<"EOT";
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Example shop - Help centre</title>
<link rel="stylesheet" href="/static/site.css">
<link rel="icon" href="/favicon.ico">
<style>
body { font-family: system-ui, sans-serif; margin: 0; color: #222; }
header, footer { background: #f4f4f4; padding: 1em 2em; }
article { max-width: 48em; margin: 2em auto; line-height: 1.5; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: .3em; }
</style>
<script>
window.dataLayer = window.dataLayer || [];
function track(e) { if (e && e.length < 64) { window.dataLayer.push(e); } }
</script>
</head>
<body class="help">
<header>
<a class="logo" href="/"><img src="/static/logo.svg" alt="Example shop" width="120" height="32"></a>
<nav><ul>
<li><a href="/">Home</a></li><li><a href="/products/">Products</a></li>
<li><a href="/help/">Help</a></li><li><a href="/contact/">Contact</a></li>
</ul></nav>
</header>
<article>
<h1>How can we help?</h1>
EOT
    my $tail = <<"EOT";
</article>
<footer>
<p>&copy; Example shop &middot; <a href="/privacy/">Privacy</a> &middot; <a href="/terms/">Terms</a></p>
</footer>
<script src="/static/site.js" defer></script>
</body>
</html>
EOT
    my $out = $head;
    my $n = 0;
    while (length($out) + length($tail) < $target - 200) {
        $n++;
        if ($n % 7 == 0) {
            $out .= "<h2 id=\"s$n\">" . ucfirst(words(4)) . "</h2>\n";
        } elsif ($n % 11 == 0) {
            $out .= "<ul>\n" . join("", map { "<li><a href=\"/help/" . rnd(999)
                    . "\">" . words(3) . "</a></li>\n" } 1 .. 4) . "</ul>\n";
        } elsif ($n % 13 == 0) {
            $out .= "<table>\n<tr><th>" . words(1) . "</th><th>" . words(1)
                    . "</th></tr>\n" . join("", map { "<tr><td>" . words(2)
                    . "</td><td>" . rnd(100) . "</td></tr>\n" } 1 .. 3) . "</table>\n";
        } else {
            $out .= "<p>" . ucfirst(words(12)) . ", <a href=\"/help/" . rnd(999)
                    . "\">" . words(2) . "</a> " . words(10) . " <em>" . words(2)
                    . "</em> " . words(8) . " <code>" . words(1) . "</code> "
                    . words(9) . ".</p>\n";
        }
    }
    $out .= "<p>" . ("x" x ($target - length($out) - length($tail) - 8)) . "</p>\n";
    print $out, $tail;
    ' "$kb" >"$page" || { warn "could not generate the page"; exit 1; }
    # what the two filters must answer: the tag right before the only </body>
    perl -0777 -pe 's{</body>}{'"$TAG"'</body>}' "$page" >"$RUN/expected-$kb.html"
}
SMALL_KB=$PAGE_KB
LARGE_KB=$((PAGE_KB * 10))
gen_page "$SMALL_KB"
gen_page "$LARGE_KB"

# ----------------------------------------------------------------- nginx

PORT=$(free_port)
BPORT=$(free_port)
while [ "$BPORT" = "$PORT" ]; do BPORT=$(free_port); done
mkdir -p "$RUN/tmp" "$RUN/logs"
{ conf_head 'text/html html;'; cat <<EOF; } >"$RUN/nginx.conf"
    default_type application/octet-stream;

    upstream bench_backend {
        server 127.0.0.1:$BPORT;
        keepalive 64;
        keepalive_requests 10000000;
    }

    # the backend: the static pages (same worker), with a Content-Length
    # under /len/, chunked under /chunked/ (ssi clears the length)
    server {
        listen 127.0.0.1:$BPORT backlog=4096;
        server_name backend;
        location /len/ { alias $RUN/html/; }
        location /chunked/ { alias $RUN/html/; ssi on; }
    }

    # the front: three ways of passing the page on
    server {
        listen 127.0.0.1:$PORT backlog=4096;
        server_name localhost;

        proxy_http_version 1.1;
        proxy_set_header Connection "";

        location /chatport-inject/ {
            chatport_inject on;
            proxy_pass http://bench_backend/;
        }
        location /sub-filter/ {
            sub_filter '</body>' '$TAG</body>';
            proxy_pass http://bench_backend/;
        }
        location /plain/ {
            proxy_pass http://bench_backend/;
        }
    }
}
EOF

start_bench_nginx
if [ -z "$WORKER_PID" ] || ! wait_port "$PORT" || ! wait_port "$BPORT"; then
    warn "nginx did not start: $(tail -c 300 "$RUN/error.log" 2>/dev/null)"
    exit 1
fi

# the row's settings: ROW_PAGE (file), ROW_KB, ROW_PATH (under a subject's
# location), ROW_LEN (1: the backend sends a Content-Length), ROW_TEXT
set_row() {
    case $1 in
    len20)     ROW_KB=$SMALL_KB ROW_LEN=1 ROW_PATH=len
               ROW_TEXT="${SMALL_KB} KB page, Content-Length upstream";;
    len200)    ROW_KB=$LARGE_KB ROW_LEN=1 ROW_PATH=len
               ROW_TEXT="${LARGE_KB} KB page, Content-Length upstream";;
    chunked20) ROW_KB=$SMALL_KB ROW_LEN=0 ROW_PATH=chunked
               ROW_TEXT="${SMALL_KB} KB page, chunked upstream";;
    esac
    ROW_PAGE=$RUN/html/page-$ROW_KB.html
    ROW_BYTES=$(wc -c <"$ROW_PAGE")
}

url_of() {
    case $1 in
    chatport)   echo "/chatport-inject/$ROW_PATH/page-$ROW_KB.html";;
    sub_filter) echo "/sub-filter/$ROW_PATH/page-$ROW_KB.html";;
    plain)      echo "/plain/$ROW_PATH/page-$ROW_KB.html";;
    esac
}

say "nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///'), 1 worker (pid $WORKER_PID), front 127.0.0.1:$PORT, backend 127.0.0.1:$BPORT"
say "pages: $(wc -c <"$RUN/html/page-$SMALL_KB.html") and $(wc -c <"$RUN/html/page-$LARGE_KB.html") bytes, </body></html> at the end"
say "load generator: $LOADGEN publish -M GET (keep-alive, GET without body), $CONNS connections"

# ------------------------------------------------------------ correctness

# check_row: every subject answers the expected body and length
check_row() {
    local s hdr body code tags clen want want_tags want_len problem bad=0
    for s in $SUBJECTS; do
        hdr=$RUN/check-$s.hdr
        body=$RUN/check-$s.body
        code=$(curl -s -m 10 -D "$hdr" -o "$body" -w '%{http_code}' \
               "http://127.0.0.1:$PORT$(url_of "$s")")
        tags=$(grep -o 'data-chatport' "$body" | wc -l)
        clen=$(grep -i '^content-length:' "$hdr" | tr -d '\r' | awk '{print $2}')
        # chatport keeps an exact length, sub_filter cannot
        case $s in
        plain)      want_tags=0 want=$ROW_PAGE want_len=$ROW_BYTES;;
        chatport)   want_tags=1 want=$RUN/expected-$ROW_KB.html
                    want_len=$((ROW_BYTES + ${#TAG}));;
        sub_filter) want_tags=1 want=$RUN/expected-$ROW_KB.html want_len=;;
        esac
        [ "$ROW_LEN" = 1 ] || want_len=
        problem=
        [ "$code" = 200 ] || problem="status $code"
        [ -z "$problem" ] && [ "$tags" != "$want_tags" ] &&
            problem="$tags tags (want $want_tags)"
        [ -z "$problem" ] && ! cmp -s "$body" "$want" &&
            problem="body differs from the expected one ($(wc -c <"$body") bytes)"
        [ -z "$problem" ] && [ "$clen" != "$want_len" ] &&
            problem="Content-Length '$clen', want '$want_len'"
        if [ -n "$problem" ]; then
            warn "check $s ($(url_of "$s")): $problem"
            bad=1
        else
            say "check $s: 200, $tags tag(s), $(wc -c <"$body") bytes, $([ -n "$clen" ] && echo "Content-Length $clen" || echo chunked)"
        fi
    done
    [ "$bad" = 0 ] || { warn "the locations do not answer as expected; not measuring"; exit 1; }
}

# ------------------------------------------------------------ measuring

# worker CPU time in clock ticks (utime + stime)
ticks() {
    awk '{ print $14 + $15 }' "/proc/$WORKER_PID/stat" 2>/dev/null || echo 0
}
HZ=$(getconf CLK_TCK)

# run SUBJECT SECONDS OUT: sets RATE, CPU_US (worker CPU us per request)
# and RUN_ERR
run() {
    local s=$1 secs=$2 out=$3 t0 t1 resp ok err
    t0=$(ticks)
    "$LOADGEN" publish -p "$PORT" -M GET -U "$(url_of "$s")" -c "$CONNS" -d "$secs" \
        >"$out" 2>&1 &
    LG_PID=$!
    wait "$LG_PID"
    LG_PID=
    t1=$(ticks)
    resp=$(grep '^RESULT' "$out" | tr ' ' '\n' | sed -n 's/^responses=//p')
    ok=$(grep '^RESULT' "$out" | tr ' ' '\n' | sed -n 's/^ok=//p')
    err=$(grep '^RESULT' "$out" | tr ' ' '\n' | sed -n 's/^errors=//p')
    RATE=$(grep '^RESULT' "$out" | tr ' ' '\n' | sed -n 's/^ok_rate=//p')
    RUN_ERR=
    if [ -z "$RATE" ]; then
        RUN_ERR="loadgen: $(tail -c 200 "$out")"
        RATE=0
    elif [ "$resp" != "$ok" ] || [ "${err:-0}" != 0 ]; then
        RUN_ERR="$((resp - ok)) non-2xx, $err errors: $(grep '^publish:' "$out" | sed 's/.*statuses://')"
    fi
    if [ "${ok:-0}" -gt 0 ]; then
        CPU_US=$(awk -v d=$((t1 - t0)) -v hz="$HZ" -v n="$ok" \
                 'BEGIN { printf "%.1f", d * 1e6 / hz / n }')
    else
        CPU_US=0
    fi
}

# how busy is the machine without us? (1 s sample of /proc/stat)
cpu1=$(head -1 /proc/stat); sleep 1; cpu2=$(head -1 /proc/stat)
busy=$(printf '%s\n%s\n' "$cpu1" "$cpu2" | awk '{ idle[NR] = $5 + $6; tot[NR] = 0
    for (i = 2; i <= NF; i++) tot[NR] += $i }
    END { d = tot[2] - tot[1]; if (d <= 0) print 0; else printf "%d", 100 * (1 - (idle[2] - idle[1]) / d) }')
say "CPU busy before the run: ${busy}% of $(nproc) cores"
[ "${busy:-0}" -gt 15 ] &&
    warn "the machine is ${busy}% busy: other work will disturb the figures"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "n/a" }'; }

verdict() {         # verdict RATIO MIN TEXT
    if awk -v r="$1" -v m="$2" 'BEGIN { exit !(r + 0 >= m) }'; then
        say "  met:    $3 ($1 >= $2)"
    else
        say "  MISSED: $3 ($1 < $2)"
    fi
}

problems=()
subj=($SUBJECTS)

# measure_row ROW: warm-up, the rounds, the table and the ratios
measure_row() {
    local row=$1 r k s line r_sub r_plain c_sub c_plain r_subplain
    local -A RATES CPUS MED MEDCPU

    set_row "$row"
    say ""
    say "== $row: $ROW_TEXT ($ROW_BYTES bytes)"
    check_row

    if [ "$WARMUP" -gt 0 ]; then
        for s in $SUBJECTS; do
            run "$s" "$WARMUP" "$RUN/warmup-$row-$s.log"
            [ -z "$RUN_ERR" ] || { warn "warm-up $s: $RUN_ERR"; exit 1; }
        done
    fi

    for r in $(seq "$ROUNDS"); do
        line="round $r/$ROUNDS:"
        for k in 0 1 2; do
            s=${subj[$(((k + r - 1) % 3))]}
            run "$s" "$DURATION" "$RUN/round$r-$row-$s.log"
            [ -n "$RUN_ERR" ] && problems+=("$row round $r $s: $RUN_ERR")
            RATES[$s]="${RATES[$s]:-} $RATE"
            CPUS[$s]="${CPUS[$s]:-} $CPU_US"
            line="$line  $s $RATE/s ($CPU_US us/req)"
        done
        say "$line"
    done

    say ""
    say "Requests/s, $row: $ROW_TEXT, $CONNS connections, $ROUNDS x ${DURATION}s (median; every run in brackets)"
    say ""
    printf '%-12s %10s %14s  %s\n' subject 'req/s' 'worker us/req' 'runs (req/s)'
    for s in $SUBJECTS; do
        MED[$s]=$(median ${RATES[$s]})
        MEDCPU[$s]=$(median ${CPUS[$s]})
        printf '%-12s %10.0f %14.1f  (%s)\n' "$s" "${MED[$s]}" "${MEDCPU[$s]}" "${RATES[$s]# }"
    done

    r_sub=$(ratio "${MED[chatport]}" "${MED[sub_filter]}")
    r_plain=$(ratio "${MED[chatport]}" "${MED[plain]}")
    c_sub=$(ratio "${MEDCPU[chatport]}" "${MEDCPU[sub_filter]}")
    c_plain=$(ratio "${MEDCPU[chatport]}" "${MEDCPU[plain]}")
    r_subplain=$(ratio "${MED[sub_filter]}" "${MED[plain]}")

    say ""
    say "Ratios (req/s; above 1 is better for ChatPort):"
    say "  chatport / sub_filter = $r_sub"
    say "  chatport / plain      = $r_plain"
    say "  (sub_filter / plain   = $r_subplain)"
    say "Worker CPU per request (below 1 is better for ChatPort):"
    say "  chatport / sub_filter = $c_sub"
    say "  chatport / plain      = $c_plain"

    if [ "$row" = len20 ]; then
        say ""
        say "Targets (the issue's, for this row):"
        verdict "$r_sub" 1.40 "ChatPort at least 1.4x sub_filter"
        verdict "$r_plain" 0.92 "ChatPort at least 0.92x no filter"
    fi
}

for row in $ROWS; do
    measure_row "$row"
done

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
say ""
say "done in $(( $(date +%s) - T_START )) s"
