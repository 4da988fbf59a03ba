# Redis's connections cut without a close, as a network partition or a
# firewall that forgot them would (a proxy stops forwarding them but
# keeps them open), under a steady load, with a poll timeout (30 s) far
# longer than the wait: the command link finds out with its next
# command's timeout; the pub/sub link, idle but for messages, by its
# heartbeat (every 10 s). Both reconnect, every poll answers with messages again long
# before its timeout, nothing answered 201 is lost or doubled.
#
# CHATPORT_SOAK=1 (make soak): more rounds.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(time);

use lib 't/lib';
use ChatPort::Harness;
use ChatPort::Load;

require_env();

my $site = 't106';
my ($redis, $ngx, $proxy) = fault_bed(site => $site, proxy => 1,
                                      poll_timeout => '30s',
                                      redis_timeout => '500ms');
my @workers = $ngx->workers;

my $load = ChatPort::Load->new(port => $ngx->port, site => $site,
                               redis_port => $redis->port,
                               poll_bound => 40)->start;
$load->run(2);

my $rounds = soak() ? 3 : 1;

for my $round (1 .. $rounds) {
    my $t = time;
    $proxy->freeze;
    $load->run(1);

    ok($load->recover(20), "round $round: every poll answers again")
        or diag $load->summary('poll');
    figures sprintf 'round %d: back after %.1f s', $round, time - $t;
}

ok($load->settle(20), 'the polls caught up');
$load->check('connections cut');

like($ngx->error_log,
     qr{redis pub/sub connection to \S+: no heartbeat reply in 500 ms},
     'the log tells the pub/sub link was silent');
is_deeply([ $ngx->workers ], \@workers, 'the same workers');

$load->stop;
ok($ngx->stop(10), 'nginx stops gracefully');
is_deeply([ $ngx->bad_lines ], [], 'no alert, crit, emerg or crash');
$proxy->stop;
$redis->stop;

done_testing;
