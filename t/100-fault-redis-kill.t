# Redis killed with -9 under a steady load (parked polls, messages every
# 50 ms) and started again on its append-only file, twice: every message
# answered 201 is still in its stream once, no poll gets a message twice,
# every poll resumes from its cursor, nginx keeps its workers and exactly
# its own Redis connections. (t/022 stops Redis gracefully, without load.)
#
# CHATPORT_SOAK=1 (make soak): more rounds.

use strict;
use warnings;

use Test::More;

use lib 't/lib';
use ChatPort::Harness;
use ChatPort::Load;

require_env();

my $site = 't100';
my ($redis, $ngx) = fault_bed(site => $site);
my @workers = $ngx->workers;

my $load = ChatPort::Load->new(port => $ngx->port, site => $site,
                               redis_port => $redis->port)->start;
$load->run(2);

my $rounds = soak() ? 10 : 2;

for my $round (1 .. $rounds) {
    ok($redis->crash, "round $round: Redis killed with -9");
    $load->run(1);

    ok($redis->start, "round $round: Redis started on its append-only file");
    ok($load->recover(20), "round $round: every poll answers again")
        or diag $load->summary('poll');
    $load->run(1);
}

ok($load->settle(20), 'the polls caught up');
$load->check('Redis kill -9');

is(redis_links_settle($redis->port, 2), 5,
   'Redis has the two links of each worker, no more');
is_deeply([ $ngx->workers ], \@workers, 'the same workers');

$load->stop;
ok($ngx->stop(10), 'nginx stops gracefully');
is_deeply([ $ngx->bad_lines ], [], 'no alert, crit, emerg or crash');
$redis->stop;

done_testing;
