# A parked poll takes no more request-pool blocks than nginx takes for any
# request with the same headers: ChatPort's own per-poll data (waiter,
# context, the read's keys) must fit in the blocks nginx allocated anyway
# (README, "Memory per parked poll"). Counted from nginx's debug log
# ("posix_memalign" lines of the connection: its pool blocks), with
# nginx's default request_pool_size and with 6k.

use strict;
use warnings;

use Test::More;
use IO::Socket::INET;
use Time::HiRes qw(time sleep);

use lib 't/lib';
use ChatPort::Harness;

require_env();

my $bin = $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx';
plan skip_all => "$bin is not built --with-debug"
    unless `$bin -V 2>&1` =~ /--with-debug/;

# what Chromium sends with the widget's poll
my @browser = (
    'Connection: keep-alive',
    'sec-ch-ua: "Chromium";v="120", "Not?A_Brand";v="8"',
    'sec-ch-ua-mobile: ?0',
    'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 '
        . '(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
    'sec-ch-ua-platform: "Linux"',
    'Accept: */*',
    'Sec-Fetch-Site: same-origin',
    'Sec-Fetch-Mode: cors',
    'Sec-Fetch-Dest: empty',
    'Referer: http://localhost/shop/products/garden-chair.html',
    'Accept-Encoding: gzip, deflate, br',
    'Accept-Language: en-US,en;q=0.9,de;q=0.8',
);

sub send_get {
    my ($port, $uri, $cookie) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                  Timeout => 5)
        or die "connect: $!";
    print $s join("\r\n", "GET $uri HTTP/1.1", 'Host: localhost', @browser,
                  "Cookie: $cookie", '', '');
    return $s;
}

# the pool blocks of the connection whose request line is $line
sub blocks {
    my ($log, $line) = @_;
    my ($conn) = $log =~ /\*(\d+) http request line: "\Q$line\E/ or return;
    my @sizes = $log =~ /\*$conn posix_memalign: \S+:(\d+)/g;
    return scalar @sizes;
}

for my $pool_size (undef, '6k') {
    my $what = $pool_size ? "request_pool_size $pool_size" : 'the defaults';

    my $ngx = start_nginx(
        log_level => 'debug',
        http => $pool_size ? "request_pool_size $pool_size;" : '',
        server => <<'_EOC_');
        chatport_site t046;

        location /chatport/ {
            chatport;
            chatport_poll_timeout 60s;
        }
_EOC_

    # a static file (a "return" would stop an UBSan build of nginx 1.22:
    # ngx_http_send_response adds 0 to a NULL pointer)
    open my $fh, '>', $ngx->dir . '/html/plain' or die $!;
    print $fh "plain\n";
    close $fh;

    my $v = visitor(port => $ngx->port);
    my $res = $v->post('hello');
    is($res->{status}, 201, "$what: the first message") or next;
    my $id = $res->{json}{id};

    # the same request headers, answered at once with a static file
    my $plain = send_get($ngx->port, '/plain', $v->cookie);
    $plain->blocking(0);
    my $answer = '';
    wait_until(sub {
        sysread($plain, $answer, 4096, length $answer);
        $answer =~ /\r\n\r\n/;
    }, 5);
    like($answer, qr{^HTTP/1\.1 200}, "$what: /plain answered 200");

    my $poll = send_get($ngx->port, "/chatport/poll?after=$id", $v->cookie);
    my $parked = wait_until(sub {
        $ngx->error_log =~ /chatport: pub\/sub subscribe/
            && $ngx->error_log =~ /http request line: "GET \/chatport\/poll/
    }, 5 * ChatPort::Harness::slow());
    sleep 0.5 * ChatPort::Harness::slow();

    $poll->blocking(0);
    my $early = sysread($poll, my $buf, 4096);
    ok($parked && !defined $early && $!{EAGAIN},
       "$what: the poll is parked (no answer, the connection open)");

    my $log = $ngx->error_log;
    my $pb = blocks($log, 'GET /plain HTTP/1.1');
    my $wb = blocks($log, "GET /chatport/poll?after=$id HTTP/1.1");

    ok($pb, "$what: nginx's log shows the pool blocks of /plain ($pb)");
    ok(defined $wb && $wb <= $pb,
       "$what: the parked poll has no more pool blocks than /plain")
        or diag "poll: " . ($wb // 'none') . ", /plain: $pb";

    close $poll;
    close $plain;
    $ngx->stop;
}

done_testing();
