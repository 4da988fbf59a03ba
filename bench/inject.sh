#!/usr/bin/env bash
# ChatPort injection benchmark: chatport_inject vs sub_filter vs no filter.
#
# One nginx (one worker) serves a generated ~20 KB HTML page from a backend
# server block and proxies it (HTTP/1.1, upstream keep-alive) through three
# front locations:
#   /chatport-inject/  chatport_inject on;
#   /sub-filter/       sub_filter '</body>' '<script ...></body>';
#   /plain/            neither
# It checks that every location answers the expected body, then measures
# requests/s of each for ROUNDS rounds of SECONDS seconds (the subjects
# alternate, the order rotates every round), prints the medians, the ratios
# chatport/sub_filter and chatport/plain, and the verdict against the
# issue's targets (>= 1.00 and >= 0.95).  Everything runs on 127.0.0.1;
# nginx is stopped by pid on exit.
#
#   bash bench/inject.sh
#
# Settings (environment):
#   ROUNDS=5              rounds; every round runs each subject once
#   DURATION=5            length of one run (s)
#   CONNS=32              keep-alive connections of the load generator
#   WARMUP=1              seconds of unmeasured load per subject before round 1
#   PAGE_KB=20            size of the generated page
#   CHATPORT_BUILD=1      run `make` in the repo root first (0: use the built .so)
#   CHATPORT_MODULE=...   module path (default build/nginx/objs/ngx_http_chatport_module.so)
#   NGINX=/usr/sbin/nginx
#   KEEP=0                1: keep build/bench/inject/run-<pid>/ (config, page, logs)

set -u
set -o pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PAGE_KB=${PAGE_KB:-20}

# shellcheck source=lib.sh
. "$REPO/bench/lib.sh"
rate_settings inject
T_START=$(date +%s)

TAG='<script src="/chatport/widget.js" defer data-chatport></script>'
SUBJECTS="chatport sub_filter plain"

case $PAGE_KB in ''|*[!0-9]*) warn "PAGE_KB must be a number: $PAGE_KB"; exit 1;; esac
[ "$PAGE_KB" -ge 1 ] && [ "$PAGE_KB" -le 1024 ] || { warn "PAGE_KB must be 1..1024"; exit 1; }

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

# A deterministic page of about PAGE_KB KB: a <head> with meta, a <style>
# and an inline <script>, a header with a nav, an article of paragraphs with
# inline markup (links, <em>, <code>), a list, a table, a footer, and
# "</body></html>\n" at the very end.
PAGE=$RUN/html/page.html
mkdir -p "$RUN/html"
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
' "$PAGE_KB" >"$PAGE" || { warn "could not generate the page"; exit 1; }
PAGE_BYTES=$(wc -c <"$PAGE")
# what the two filters must answer: the tag right before the only </body>
perl -0777 -pe 's{</body>}{'"$TAG"'</body>}' "$PAGE" >"$RUN/expected.html"

# ----------------------------------------------------------------- nginx

PORT=$(free_port)
BPORT=$(free_port)
while [ "$BPORT" = "$PORT" ]; do BPORT=$(free_port); done
mkdir -p "$RUN/tmp" "$RUN/logs"
cat >"$RUN/nginx.conf" <<EOF
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
    types { text/html html; }
    default_type application/octet-stream;

    upstream bench_backend {
        server 127.0.0.1:$BPORT;
        keepalive 64;
        keepalive_requests 10000000;
    }

    # the backend: the static page (same worker)
    server {
        listen 127.0.0.1:$BPORT backlog=4096;
        server_name backend;
        root $RUN/html;
        location / { }
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

url_of() {
    case $1 in
    chatport)   echo /chatport-inject/page.html;;
    sub_filter) echo /sub-filter/page.html;;
    plain)      echo /plain/page.html;;
    esac
}

say "nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///'), 1 worker (pid $WORKER_PID), front 127.0.0.1:$PORT, backend 127.0.0.1:$BPORT"
say "page: $PAGE_BYTES bytes, </body></html> at the end"
say "load generator: $LOADGEN publish -M GET (keep-alive, GET without body), $CONNS connections"

# ------------------------------------------------------------ correctness

bad=0
for s in $SUBJECTS; do
    hdr=$RUN/check-$s.hdr
    body=$RUN/check-$s.body
    code=$(curl -s -m 10 -D "$hdr" -o "$body" -w '%{http_code}' \
           "http://127.0.0.1:$PORT$(url_of "$s")")
    tags=$(grep -o 'data-chatport' "$body" | wc -l)
    clen=$(grep -i '^content-length:' "$hdr" | tr -d '\r' | awk '{print $2}')
    case $s in
    plain) want_tags=0; want=$PAGE;;
    *)     want_tags=1; want=$RUN/expected.html;;
    esac
    problem=
    [ "$code" = 200 ] || problem="status $code"
    [ -z "$problem" ] && [ "$tags" != "$want_tags" ] &&
        problem="$tags tags (want $want_tags)"
    [ -z "$problem" ] && ! cmp -s "$body" "$want" &&
        problem="body differs from the expected one ($(wc -c <"$body") bytes)"
    if [ -z "$problem" ]; then
        if [ "$s" = plain ]; then
            [ "$clen" = "$PAGE_BYTES" ] || problem="Content-Length '$clen', want $PAGE_BYTES"
        else
            [ -z "$clen" ] || problem="Content-Length $clen present (the page grew)"
        fi
    fi
    if [ -n "$problem" ]; then
        warn "check $s ($(url_of "$s")): $problem"
        bad=1
    else
        if [ "$s" = plain ]; then
            say "check $s: 200, the page unchanged (no tag), Content-Length $clen"
        else
            say "check $s: 200, the page with one tag right before </body>, no Content-Length (chunked), $(wc -c <"$body") bytes"
        fi
    fi
done
[ "$bad" = 0 ] || { warn "the locations do not answer as expected; not measuring"; exit 1; }

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

if [ "$WARMUP" -gt 0 ]; then
    for s in $SUBJECTS; do
        run "$s" "$WARMUP" "$RUN/warmup-$s.log"
        [ -z "$RUN_ERR" ] || { warn "warm-up $s: $RUN_ERR"; exit 1; }
    done
fi

declare -A RATES CPUS
problems=()
subj=($SUBJECTS)
for r in $(seq "$ROUNDS"); do
    line="round $r/$ROUNDS:"
    for k in 0 1 2; do
        s=${subj[$(((k + r - 1) % 3))]}
        run "$s" "$DURATION" "$RUN/round$r-$s.log"
        [ -n "$RUN_ERR" ] && problems+=("round $r $s: $RUN_ERR")
        RATES[$s]="${RATES[$s]:-} $RATE"
        CPUS[$s]="${CPUS[$s]:-} $CPU_US"
        line="$line  $s $RATE/s ($CPU_US us/req)"
    done
    say "$line"
done

# ------------------------------------------------------------ results

say ""
say "Requests/s, $PAGE_BYTES-byte page through proxy_pass, $CONNS connections, $ROUNDS x ${DURATION}s (median; every run in brackets)"
say ""
printf '%-12s %10s %14s  %s\n' subject 'req/s' 'worker us/req' 'runs (req/s)'
declare -A MED MEDCPU
for s in $SUBJECTS; do
    MED[$s]=$(median ${RATES[$s]})
    MEDCPU[$s]=$(median ${CPUS[$s]})
    printf '%-12s %10.0f %14.1f  (%s)\n' "$s" "${MED[$s]}" "${MEDCPU[$s]}" "${RATES[$s]# }"
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "n/a" }'; }
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

verdict() {         # verdict RATIO MIN TEXT
    if awk -v r="$1" -v m="$2" 'BEGIN { exit !(r + 0 >= m) }'; then
        say "  met:    $3 ($1 >= $2)"
    else
        say "  MISSED: $3 ($1 < $2)"
    fi
}
say ""
say "Targets:"
verdict "$r_sub" 1.00 "ChatPort at least as fast as sub_filter"
verdict "$r_plain" 0.95 "ChatPort within 5% of no filter"

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
