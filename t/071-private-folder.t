# nginx started by the tests (the Harness) and by the demo serves its files
# from a folder only the current user may read (mode 0700), the way a
# checkout in /root or a `mktemp -d` folder is. Started by root, nginx
# would run its workers as nobody, who cannot read there: the site would
# answer 403 and the console (its auth_basic file) 500. The Harness and
# scripts/demo.sh keep the workers as root then (see README, "The two
# commands"); as any other user the workers are that user. Checked here:
# a static page, a request body written to client_body_temp and the
# console behind auth_basic, through the Harness; the demo's printed site,
# 2nd page and console URLs with its printed login, from a 0700 copy of
# scripts/; its Redis data kept by a stop and deleted by a reset.

use strict;
use warnings;

use Test::More;
use File::Copy qw(copy);
use File::Temp ();
use MIME::Base64 qw(encode_base64);

use lib 't/lib';
use ChatPort::Harness;

require_env();

my $who = getpwuid($>) // $>;
note("running as $who (uid $>)");

# the folder must really be private for the checks to mean anything
sub is_private {
    my ($dir, $what) = @_;
    my @st = stat $dir;
    is(sprintf('%04o uid %d', $st[2] & 07777, $st[4]),
       sprintf('0700 uid %d', $>), "$what: $dir is 0700, owned by $who");
}

sub basic { 'Basic ' . encode_base64(join(':', @_), '') }

sub bad_lines {
    my ($log) = @_;
    return join '', grep { /\[(alert|crit|emerg)\]|exited on signal/ }
                    split /^/, $log;
}

# ------------------------------------------------------------ the Harness

{
    my $port = free_port();

    # master_process on: without it nginx never switches users
    my $ngx = start_nginx(port => $port, master => 1, server => <<"_EOC_");
        location /chatport/agent/ {
            chatport_agent;
            auth_basic ops;
            auth_basic_user_file htpasswd;
        }

        # the body always goes to a file in client_body_temp
        location = /upload {
            client_body_in_file_only clean;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_method GET;
            proxy_pass http://127.0.0.1:$port/index.html;
        }
_EOC_
    my $dir = $ngx->dir;

    is_private($dir, 'Harness');

    for my $f (["$dir/html/index.html", "<p>private page</p>\n"],
               ["$dir/conf/htpasswd", "op:{PLAIN}pw\n"])
    {
        open my $fh, '>', $f->[0] or die "$f->[0]: $!";
        print $fh $f->[1];
        close $fh or die "$f->[0]: $!";
    }

    my $r = http_request(port => $port, path => '/index.html');
    is($r->{status}, 200, 'Harness: a static page answers 200');
    is($r->{body}, "<p>private page</p>\n", 'Harness: with its content');

    $r = http_request(port => $port, method => 'POST', path => '/upload',
                      headers => { 'Content-Type' => 'text/plain' },
                      body => 'x' x 100000);
    is($r->{status}, 200, 'Harness: a request body in client_body_temp');

    $r = http_request(port => $port, path => '/chatport/agent/');
    is($r->{status}, 401, 'Harness: the console without a login: 401');

    $r = http_request(port => $port, path => '/chatport/agent/',
                      headers => { Authorization => basic('op', 'pw') });
    is($r->{status}, 200, 'Harness: the console with its login: 200');
    like($r->{body} // '', qr/<html/i, 'Harness: the console page');

    ok($ngx->stop, 'Harness: nginx stops gracefully');
    is(bad_lines($ngx->error_log), '', 'Harness: no alert, crit, emerg or '
                                       . '"exited on signal" in the log');
}

# --------------------------------------------------------------- the demo

my $top = File::Temp::tempdir('chatport-demo-XXXXXX', TMPDIR => 1,
                              CLEANUP => !$ENV{CHATPORT_KEEP});
my $script = "$top/scripts/demo.sh";
my $started;

mkdir "$top/$_" or die "$top/$_: $!" for qw(scripts scripts/demo-site);
for my $f (qw(demo.sh free-port.pl),
           map { s{^scripts/}{}r } glob('scripts/demo-site/*'))
{
    copy("scripts/$f", "$top/scripts/$f") or die "scripts/$f: $!";
}

is_private($top, 'demo');

# its output goes to a file: a pipe could stay open in the daemons
sub demo {
    my (@args) = @_;
    local $ENV{CHATPORT_NGINX} = $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx';
    my $cmd = join ' ', map { "'$_'" } 'sh', $script, @args;
    system("$cmd > '$top/demo.out' 2>&1 < /dev/null");
    return ($? >> 8, ChatPort::Harness::slurp("$top/demo.out"));
}

END {
    demo('stop') if $started;
}

my ($rc, $out) = do {
    local $ENV{CHATPORT_DEMO_PORT} = free_port();
    $started = 1;
    demo('start', $ENV{TEST_NGINX_LOAD_MODULES});
};

my ($site) = $out =~ m{^\s+site\s+(http://\S+)}m;
my ($page2) = $out =~ m{^\s+2nd page\s+(http://\S+)}m;
my ($console) = $out =~ m{^\s+console\s+(http://\S+)}m;
my ($password) = $out =~ m{^\s+login\s+user "demo", password "([^"]+)"}m;

ok($rc == 0 && $site && $page2 && $console && $password,
   'demo: starts and prints the site, its 2nd page, the console and the '
   . 'login')
    or diag($out);

sub get {
    my ($url, %h) = @_;
    my ($port, $path) = $url =~ m{^http://127\.0\.0\.1:(\d+)(/.*)$}
        or return { status => "not a loopback URL: $url" };
    return http_request(port => $port, path => $path, headers => \%h);
}

if ($site && $console && $password) {
    my $r = get($site);
    is($r->{status}, 200, "demo: the site $site answers 200");
    like($r->{body} // '', qr/data-chatport/, 'demo: with the widget tag');

    $r = get($page2);
    is($r->{status}, 200, "demo: the 2nd page $page2 answers 200");
    like($r->{body} // '', qr/data-chatport/, 'demo: with the widget tag');

    $r = get($console);
    is($r->{status}, 401, 'demo: the console without a login: 401');

    $r = get($console, Authorization => basic('demo', $password));
    is($r->{status}, 200, 'demo: the console with the printed login: 200');
}

($rc, $out) = demo('stop');
$started = 0;
ok($rc == 0 && $out =~ /stopped nginx/ && $out =~ /stopped redis/,
   'demo: stops nginx and redis') or diag($out);

# the Redis data stays for the next start, until a reset deletes it
my $aof = "$top/build/demo/redis/appendonlydir";
ok(-d $aof, 'demo: its Redis data is kept after a stop');

($rc, $out) = demo('reset');
ok($rc == 0 && $out =~ /deleted its Redis data/ && !-e $aof,
   'demo: a reset deletes its Redis data and says so') or diag($out);

my $log = ChatPort::Harness::slurp("$top/build/demo/logs/error.log");
is(bad_lines($log), '',
   'demo: no alert, crit, emerg or "exited on signal" in the log');

done_testing();
