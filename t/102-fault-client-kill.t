# Redis drops nginx's connections under a steady load: CLIENT KILL of the
# pub/sub links, of the command links (with commands in flight), and of
# both at once, each three times in a row. Every worker reconnects and
# subscribes again, every parked poll catches up from its cursor, every
# message answered 201 is in its stream once and no poll gets one twice.
#
# CHATPORT_SOAK=1 (make soak): more rounds.

use strict;
use warnings;

use Test::More;

use lib 't/lib';
use ChatPort::Harness;
use ChatPort::Load;

require_env();

my $site = 't102';
my ($redis, $ngx) = fault_bed(site => $site);
my $rport = $redis->port;
my @workers = $ngx->workers;

my $load = ChatPort::Load->new(port => $ngx->port, site => $site,
                               redis_port => $rport)->start;
$load->run(2);

my $rounds = soak() ? 5 : 1;

for my $round (1 .. $rounds) {
    for my $types (['pubsub'], ['normal'], ['pubsub', 'normal']) {
        my $what = join(' and ', @$types) . " links, round $round";
        my $killed = 0;

        for (1 .. 3) {
            # (CLIENT KILL spares the connection that sends it)
            $killed += redis_cmd($rport, 'CLIENT', 'KILL', 'TYPE', $_)
                for @$types;
            $load->run(0.3);
        }

        cmp_ok($killed, '>=', 3 * 2 * @$types, "$what: killed");
        ok($load->recover(20), "$what: every poll answers again")
            or diag $load->summary('poll');
    }
}

ok($load->settle(20), 'the polls caught up');
$load->check('CLIENT KILL');

like($ngx->error_log, qr{redis pub/sub connection to \S+ is back},
     'the log tells the pub/sub link is back');
is(redis_links_settle($rport, 2), 5,
   'Redis has the two links of each worker, no more');
is_deeply([ $ngx->workers ], \@workers, 'the same workers');

$load->stop;
ok($ngx->stop(10), 'nginx stops gracefully');
is_deeply([ $ngx->bad_lines ], [], 'no alert, crit, emerg or crash');
$redis->stop;

done_testing;
