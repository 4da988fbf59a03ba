# The widget and the operator console in a real browser (Debian's
# chromium, driven by playwright-core from t/browser/): a shop page proxied
# through nginx gets the widget; a visitor chats, an operator answers
# through the API and through the console; the contact form when the
# business hours are closed; a page with a strict Content-Security-Policy;
# a page whose CSS hides every button; a phone-sized viewport; HTML in
# messages shown as text; http(s) links in messages on both sides,
# hostile URL texts (javascript:, data:, quotes, <, Unicode lookalikes)
# giving no link or only the safe one; a message and a reply whose 201
# is lost (503) sent again with the same key, stored and shown once; one
# thread: the operator goes away mid-chat and the visitor is asked for an
# address in it, typing survives a state flip, closing is told; the
# console's first event on an empty inbox notifies and beeps once, #<CID>
# and #forms open what they name; a direct visit has no referrer; typing
# and seen both ways (t/browser/typing.js); the page the visitor is on,
# followed live (t/browser/page.js); a poll cursor the store lost in a
# failover (t/browser/cursor.js); customisation: labels, texts, the
# privacy link, left position, dark mode, a long form on a phone, a
# multi-line reply from a phone console (t/browser/custom.js). Also the
# gzipped size of widget.js + widget.css.
# Screenshots go to build/screenshots/.

use strict;
use warnings;

use Test::More;
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Path qw(make_path);
use IO::Select;
use IO::Compress::Gzip qw(gzip $GzipError);
use HTTP::Tiny;
use JSON::PP ();
use POSIX qw(WNOHANG strftime);
use Time::HiRes qw(time sleep);

use lib 't/lib';
use ChatPort::Harness qw(free_port start_nginx);

for my $v (qw(TEST_NGINX_LOAD_MODULES TEST_NGINX_REDIS_PORT)) {
    plan skip_all => "$v is not set (run it through `make test`, which "
                     . "builds the module and starts a private Redis)"
        unless $ENV{$v};
}

my $T0 = time;
my $top = abs_path(dirname(__FILE__) . '/..');
my $bdir = "$top/t/browser";
my $chromium = '/usr/bin/chromium';

# ---------------------------------------------------------- prerequisites

sub which {
    my ($cmd) = @_;
    for my $d (split /:/, $ENV{PATH} // '') {
        return "$d/$cmd" if length $d && -x "$d/$cmd" && !-d "$d/$cmd";
    }
    return;
}

my @missing;
push @missing, "$chromium (apt-get install chromium)" unless -x $chromium;
push @missing, 'node (apt-get install nodejs)' unless which('node');
push @missing, 'npm (apt-get install npm)' unless which('npm');
if (@missing) {
    fail('browser test prerequisites: ' . join(', ', @missing)
         . ' missing; scripts/deps.sh installs them');
    done_testing();
    exit;
}
pass('chromium, node and npm are there');

# npm ci only when node_modules is missing or older than the lock file
{
    my $nm = "$bdir/node_modules";
    my $lock = "$bdir/package-lock.json";
    if (!-d "$nm/playwright-core" || (stat $nm)[9] < (stat $lock)[9]) {
        local $ENV{PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD} = 1;
        my $out = `npm ci --prefix '$bdir' --no-audit --no-fund 2>&1`;
        my $rc = $?;
        utime undef, undef, $nm if -d $nm;
        if (!ok($rc == 0 && -d "$nm/playwright-core",
                'npm ci in t/browser (playwright-core)')) {
            diag($out);
            done_testing();
            exit;
        }
    }
}

# ------------------------------------------------------------------ nginx

my %port;
while (1) {
    %port = map { $_ => free_port() } qw(back front off empty custom);
    last if keys %{{ reverse %port }} == 5;
}

my $run = sprintf '%x%04x', time, $$ & 0xffff;
my $site = "t060-$run";

sub spew {
    my ($file, $text) = @_;
    open my $fh, '>', $file or die "$file: $!";
    print $fh $text;
    close $fh or die "$file: $!";
}

# closed hours for the "off" server: a day three days from today (UTC)
my $closed_day = (qw(Sun Mon Tue Wed Thu Fri Sat))[((gmtime)[6] + 3) % 7];

my $redis = $ENV{TEST_NGINX_REDIS_PORT};
my $proxy = <<"_EOC_";
            proxy_pass http://127.0.0.1:$port{back};
            proxy_set_header Accept-Encoding "";
_EOC_
my $chatport = <<"_EOC_";
        location /chatport/ {
            chatport;
            chatport_poll_timeout 5s;
            chatport_chat_rate 1000/10m;    # t/browser/list.js opens 121
        }
_EOC_

# the Harness adds load_module, pid, error_log (info), the workers and,
# as root, "user root" (the workers read html/ and conf/htpasswd in its
# private temporary folder); paths here are relative to that folder
my $conf = <<"_EOC_";
events {
    worker_connections 512;
}

http {
    access_log logs/access.log;
    client_body_temp_path client_body_temp;
    proxy_temp_path proxy_temp;
    fastcgi_temp_path fastcgi_temp;
    uwsgi_temp_path uwsgi_temp;
    scgi_temp_path scgi_temp;

    types {
        text/html html;
        text/css css;
        image/x-icon ico;
    }
    default_type application/octet-stream;

    chatport_redis 127.0.0.1:$redis;
    # every visitor of the checks comes from 127.0.0.1: more than the
    # default 10 new conversations in 10 minutes
    chatport_chat_rate 100/10m;

    # the site's own web server
    server {
        listen 127.0.0.1:$port{back};
        root html;
    }

    # nginx in front of it, with ChatPort
    server {
        listen 127.0.0.1:$port{front};
        chatport_site $site;
        chatport_inject on;

        location / {
$proxy        }

        location = /csp.html {
            add_header Content-Security-Policy "default-src 'self'" always;
$proxy        }

$chatport
        location /chatport/agent/ {
            chatport_agent;
            auth_basic ops;
            auth_basic_user_file htpasswd;     # conf/htpasswd
            chatport_operator ana "Ana García";
        }

        # one console for this site and the empty-inbox one (sites.js)
        location /chatport/sites/ {
            chatport_agent;
            chatport_agent_sites $site $site-empty;
            auth_basic ops;
            auth_basic_user_file htpasswd;
        }
    }

    # the same site where the business hours are closed today
    server {
        listen 127.0.0.1:$port{off};
        chatport_site $site;
        chatport_inject on;
        chatport_hours "$closed_day 10:00-11:00";

        location / {
$proxy        }

$chatport    }

    # a site of its own whose inbox is empty when its console opens, and
    # which asks for an address after 3 s without an answer
    server {
        listen 127.0.0.1:$port{empty};
        chatport_site $site-empty;
        chatport_inject on;
        chatport_reply_wait 3s;

        location / {
$proxy        }

$chatport
        location /chatport/agent/ {
            chatport_agent;
            chatport_presence_grace 2s;
            auth_basic ops;
            auth_basic_user_file htpasswd;
        }
    }

    # a customised widget (t/browser/custom.js): closed hours (the form),
    # on the left above a 90 px cart bar, labels, texts, a privacy link, a
    # long form
    server {
        listen 127.0.0.1:$port{custom};
        chatport_site $site-custom;
        chatport_inject on;
        chatport_hours "$closed_day 10:00-11:00";
        chatport_position left 90px;
        chatport_offline_text "Closed now: leave your order number and we reply by tomorrow.";
        chatport_thanks_text "Thanks, we got your order question.";
        chatport_privacy_url https://shop.example/privacy;
        chatport_form_field name;
        chatport_form_field email required type=email;
        chatport_form_field tel type=tel;
        chatport_form_field order_no required "label=Order number" "label:ja=注文番号";
        chatport_form_field company;
        chatport_form_field size label=Size;
        chatport_form_field colour label=Colour;
        chatport_form_field message required type=textarea;

        location / {
$proxy        }

$chatport    }
}
_EOC_

my $node_pid;

sub reaped {
    return waitpid($node_pid, WNOHANG) != 0 ? $? : undef;
}

sub stop_node {
    my ($grace) = @_;      # seconds to let it exit on its own
    return unless $node_pid;
    my $rc;
    for (1 .. ($grace // 0) * 10) {
        last if defined($rc = reaped());
        sleep 0.1;
    }
    if (!defined $rc) {
        kill 'TERM', $node_pid;
        for (1 .. 50) {
            last if defined($rc = reaped());
            sleep 0.1;
        }
        if (!defined $rc) {
            kill 'KILL', $node_pid;
            waitpid $node_pid, 0;
        }
    }
    undef $node_pid;
    return $rc // -1;
}

# nginx is the Harness's to stop (its END block, after this one)
END {
    my $rc = $?;
    stop_node();
    $? = $rc;
}
$SIG{$_} = sub { stop_node(); exit 1 } for qw(INT TERM HUP);

my $ngx = eval {
    start_nginx(conf => $conf, workers => 2, port => $port{front});
};
if (!ok($ngx, "nginx is up (2 workers, site $site)")) {
    diag($@);
    done_testing();
    exit;
}
my $dir = $ngx->dir;

# no inline script or style: the same HTML is served under the CSP
my $shop = <<'_HTML_';
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tea &amp; Cups</title>
<link rel="stylesheet" href="/shop.css">
</head>
<body>
<h1>Tea &amp; Cups</h1>
<p>Hand-made teapots and cups from Tokoname.</p>
<ul class="products">
  <li>Blue teapot, 360 ml &mdash; 4,800 yen <button id="buy">Add to cart</button></li>
  <li>Cup set (2) &mdash; 2,400 yen</li>
</ul>
<p><a href="/shop.html">Shop</a> | <a href="/about.html">About</a></p>
</BODY>
</html>
_HTML_
spew("$dir/html/shop.html", $shop);
spew("$dir/html/csp.html", $shop);
spew("$dir/html/shop.css",
     "body { font: 16px/1.5 Georgia, serif; margin: 2em; background: #fffbf2 }\n"
     . "h1 { color: #6b3e1f }\n");
spew("$dir/html/hostile.css", "* { all: unset }\nbutton { display: none }\n");
(my $hostile = $shop) =~ s{/shop\.css}{/hostile.css};
spew("$dir/html/hostile.html", $hostile);
(my $about = $shop) =~ s{<title>}{<title>About };
spew("$dir/html/about.html", $about);
spew("$dir/html/favicon.ico", '');
# op2 and op3: operators of their own for the reply_wait and the
# background-tab checks on the empty-inbox site
# ana: an operator with a display name (t/browser/team.js)
spew("$dir/conf/htpasswd",
     "op:{PLAIN}pw\nop2:{PLAIN}pw\nop3:{PLAIN}pw\nana:{PLAIN}pw\n");

my $front = "http://127.0.0.1:$port{front}";

# ------------------------------------------------- the widget's weight

{
    my $http = HTTP::Tiny->new(timeout => 5);
    my ($raw, $gz) = (0, 0);
    my @each;
    for my $f (qw(widget.js widget.css)) {
        my $r = $http->get("$front/chatport/$f");
        die "GET /chatport/$f: $r->{status}\n" unless $r->{success};
        my $z;
        gzip(\$r->{content} => \$z, -Level => 9, Minimal => 1)
            or die "gzip: $GzipError";
        $raw += length $r->{content};
        $gz += length $z;
        push @each, sprintf '%s %d -> %d', $f, length $r->{content}, length $z;
    }
    diag("widget gzip -9: " . join(', ', @each)
         . ", together $raw -> $gz bytes (limit 10240)");
    ok($gz < 10240, "widget.js + widget.css gzipped: $gz bytes < 10240");
}

# ---------------------------------------------------------- the browser

my $shots = "$top/build/screenshots";
make_path($shots);

my @expected = (
    'an operator goes online (POST presence, a held poll)',
    'the launcher appears on the proxied page (tag injected)',
    'a message sent in the widget is stored with the page URL',
    'an agent reply sent through the API appears in the widget',
    'reloading the page shows the history',
    'a message whose answer is lost (503) is sent again with the same key: stored and shown once',
    'a direct visit records no referrer',
    'the operator goes away mid-chat: the visitor keeps the thread, is asked for an email in it, and the operator sees the address',
    'typing while the state flips keeps the text and the focus',
    'offline (hours closed) the widget shows the contact form',
    'a contact-form submission is stored (GET forms)',
    'a page with a strict CSP: widget works, no CSP violation',
    'hostile page CSS: launcher and panel still work',
    '360x640: the panel is full-screen',
    'the operator console loads (Basic auth)',
    'the operator console gets no widget injected',
    'the console shows a new conversation with its page URL within about a second',
    'a conversation records the page the visitor came from (referrer)',
    'an operator reply typed in the console appears in the widget',
    'an operator reply whose answer is lost (503) is sent again with the same key: stored and shown once',
    'HTML in a message renders as text on both sides',
    '#<CID> opens that conversation, with its address and "(direct)"; #forms the forms tab',
    'closing shows a notice in the widget',
    'first event on an empty inbox: one notification and one beep, after the sound prompt',
    'no answer within chatport_reply_wait (3 s there): the widget asks for an address while an operator is online',
    'the console summarises a user agent as its browser and system',
    'nothing is reported before the visitor writes; then one report per page load',
    'the operator sees the visitor move from one page to another live, the history in order with times, the user agent summarised with its raw string on demand, "(direct)" for a direct visit',
    '"Seen" appears in the widget once an operator opens the conversation',
    'the visitor types: the console shows it in the list and the open conversation, and stops showing it',
    'the operator types in the console: the widget shows "<name> is typing..." until the reply',
    '"Seen by the visitor" in the console once the widget showed the reply, also after reloads',
    '"X is replying" appears in a second operator\'s console (list and conversation) while another types, by display name, and goes away',
    'the visitor\'s widget shows the operator\'s display name while she types and on her reply',
    'a claim in one console shows who has it in the other\'s list and header',
    'a canned reply is inserted with "/" in the reply box',
    'canned replies are created, edited and deleted in the console',
    'a poll cursor the store lost (failover) is answered 400 once, the widget reads the history again and gets the next reply',
    'photos: the visitor attaches a 4000x3000 JPEG; it is downsized, stored under 1 MB, shown as a thumbnail',
    'photos: the console shows the thumbnail, the full size on click',
    'photos: the operator pastes an image (Ctrl+V); the widget shows it',
    'photos: the operator drops an image file on the conversation',
    'custom: the form shows the configured labels (not the field names), the offline text, autocomplete hints and the privacy link',
    'custom: a Japanese browser gets the Japanese label',
    'custom: chatport_position left 90px puts the launcher and the panel on the left above a 90 px bar; dark mode follows prefers-color-scheme with readable contrast (screenshots)',
    'custom: on a 360x560 phone a long form scrolls under the offline text, which stays in view',
    'custom: the configured thank-you text after sending the form',
    'custom: a multi-line reply written in the console on a phone (Enter: new line, Send sends) arrives with its line break, and shows as two lines on both sides',
    'one console for two sites: each conversation is labelled with its site',
    'one console for two sites: a reply goes to the visitor of its site, presence is set per site',
    'no uncaught script error on any page',
);

{
    local $ENV{CP_FRONT} = $front;
    local $ENV{CP_OFF} = "http://127.0.0.1:$port{off}";
    local $ENV{CP_EMPTY} = "http://127.0.0.1:$port{empty}";
    local $ENV{CP_CUSTOM} = "http://127.0.0.1:$port{custom}";
    local $ENV{CP_USER} = 'op';
    local $ENV{CP_PASS} = 'pw';
    local $ENV{CP_RUN} = $run;
    local $ENV{CP_SHOTS} = $shots;
    local $ENV{CP_CHROMIUM} = $chromium;
    local $ENV{NODE_PATH} = "$bdir/node_modules";

    my (@log, @results);
    pipe(my $r, my $w) or die "pipe: $!";
    $node_pid = fork // die "fork: $!";
    if (!$node_pid) {
        close $r;
        open STDOUT, '>&', $w or die;
        open STDERR, '>&', $w or die;
        chdir $bdir or die "$bdir: $!";
        exec 'node', "$bdir/run.js" or die "node: $!";
    }
    close $w;

    my $sel = IO::Select->new($r);
    # a guard against a hung browser, not a speed limit
    my $deadline = time + 400;
    my $buf = '';
    while (time < $deadline) {
        next unless $sel->can_read(0.5);
        my $n = sysread $r, $buf, 65536, length $buf;
        last unless $n;
        while ($buf =~ s/^(.*)\n//) {
            my $line = $1;
            push @log, $line;
            if ($line =~ /^@@ (\{.*\})\s*$/) {
                my $res = eval { JSON::PP::decode_json($1) };
                push @results, $res if $res;
            }
        }
    }
    push @log, $buf if length $buf;
    my $timed_out = time >= $deadline;
    my $rc = stop_node($timed_out ? 0 : 5);
    close $r;

    my %got = map { $_->{name} => $_ } @results;
    my $all = 1;
    for my $res (@results) {
        my $name = $res->{name};
        $all &= ok($res->{ok}, $name) ? 1 : 0;
        diag($res->{info}) if length $res->{info};
    }
    for my $name (@expected) {
        next if $got{$name};
        $all &= ok(0, "$name (not run)");
    }
    $all &= ok(!$timed_out && $rc == 0,
               'the browser checks finished in time, node exited with 0')
        or diag("node exit status $rc");
    diag("node's output:\n" . join("\n", @log)) unless $all;
    note("node's output:\n" . join("\n", @log)) if $all;
}

my @shots = glob "$shots/*.png";
diag('screenshots: ' . join(' ', map { s{^\Q$top/\E}{}r } @shots));

ok($ngx->stop, 'nginx stops gracefully');
my $errors = join '', grep { /\[(alert|crit|emerg)\]|exited on signal/ }
                      split /^/, $ngx->error_log;
is($errors, '',
   'no alert, crit, emerg or "exited on signal" in the error log');
diag(sprintf 'took %.1f s', time - $T0);

done_testing();
