# Clients that leave under a steady load: polls closed at once (before
# they are parked) and after they are parked, with FIN and with RST;
# POSTs that stop mid-body or after their headers; and every connection
# of the load itself reset at once. The workers free what those requests
# held at once, not after a poll timeout (their file descriptors come
# back to where they were), the load's polls resume from their cursors,
# every message answered 201 is in its stream once and no poll gets one
# twice.
#
# CHATPORT_SOAK=1 (make soak): more rounds.

use strict;
use warnings;

use Test::More;
use IO::Socket::INET;
use Time::HiRes qw(time sleep);

use lib 't/lib';
use ChatPort::Harness;
use ChatPort::Load;

require_env();

my $site = 't105';
my ($redis, $ngx) = fault_bed(site => $site, poll_timeout => '10s');
my $port = $ngx->port;
my @workers = $ngx->workers;

my $load = ChatPort::Load->new(port => $port, site => $site,
                               redis_port => $redis->port)->start;
$load->run(2);

# with the load stopped, the count settles back to this
sub idle_fds {
    $load->stop;
    my ($last, $n) = (-1, 0);
    wait_until(sub {
        ($last, $n) = ($n, $ngx->fds);
        $last == $n;
    }, 5, 0.5);
    return $n;
}

sub raw {
    my ($text) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp') or die "connect: $!";
    syswrite $s, $text;
    return $s;
}

# visitors' polls after their last message
sub polls {
    my ($n) = @_;
    my @vis = $load->visitors;
    return [ map {
        my $vis = $vis[ $_ % @vis ];
        $vis->{v}->poll_request($vis->{stored}[-1]{id});
    } 1 .. $n ];
}

my $baseline = idle_fds();
note "workers' file descriptors with nothing connected: $baseline";

# without the load: polls whose clients leave at once, before they are
# parked, are ended then, not by their poll timeout (10 s)
for my $how ('FIN', 'RST') {
    my $b = open_requests(polls(50));
    my @open = grep { $_->{sock} } @{ $b->{items} };
    rst($_->{sock}) for $how eq 'RST' ? @open : ();
    $b->abandon;
    ok(wait_until(sub { $ngx->fds <= $baseline }, 5, 0.05),
       "50 polls left at once ($how): their connections are closed");
}

my $rounds = soak() ? 5 : 1;

for my $round (1 .. $rounds) {
    $load->posting(1);
    $load->run(0.5);

    # polls gone before they are parked (FIN), and after (RST)
    my $b = open_requests(polls(100));
    $b->abandon;
    $load->run(0.5);

    # (no posts meanwhile, or they would be answered)
    $load->posting(0);
    $load->run_until(sub { !$load->posts_open }, 10);
    $b = open_requests(polls(100));
    $load->run(0.7);
    is($b->pump(0), 100, "round $round: 100 more polls parked");
    rst($_->{sock}) for grep { $_->{sock} } @{ $b->{items} };
    $b->abandon;
    $load->posting(1);
    $load->run(0.5);

    # POSTs that stop mid-body, and after their headers
    my $vis = ($load->visitors)[0]{v};
    my $head = "POST /chatport/messages HTTP/1.1\r\nHost: localhost\r\n"
             . "Cookie: " . $vis->cookie . "\r\n"
             . "Content-Type: application/json\r\nContent-Length: 500\r\n"
             . "\r\n";
    my @socks = map { raw($head . '{"text": "half a mess') } 1 .. 30;
    push @socks, map { raw($head) } 1 .. 30;
    $load->run(0.3);
    $_ % 2 ? close $socks[$_] : rst($socks[$_]) for 0 .. $#socks;
    $load->run(0.5);

    # every connection of the load at once
    $load->abandon;

    ok($load->recover(20), "round $round: every poll answers again")
        or diag $load->summary('poll');
}

ok($load->settle(20), 'the polls caught up');
$load->check('clients that leave');

# every request whose client left is gone, well before a poll timeout
my $t = time;
my $fds;
wait_until(sub { ($fds = idle_fds()) <= $baseline }, 5, 0.5);
is($fds, $baseline, "the workers' file descriptors are back to $baseline");
figures sprintf 'open files back after %.1f s', time - $t;

is(redis_links_settle($redis->port, 2), 5,
   'Redis has the two links of each worker, no more');
is_deeply([ $ngx->workers ], \@workers, 'the same workers');

ok($ngx->stop(10), 'nginx stops gracefully');
is_deeply([ $ngx->bad_lines ], [], 'no alert, crit, emerg or crash');
$redis->stop;

done_testing;
