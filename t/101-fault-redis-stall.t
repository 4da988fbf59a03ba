# A Redis that stops answering for longer than chatport_redis_timeout
# (500 ms here), under a steady load: SIGSTOP for 2 s and for 4 s (longer
# than the poll timeout) then SIGCONT, and DEBUG SLEEP 2. Requests fail
# with 503 meanwhile (some of them may still be stored once Redis runs
# again: only 201 is a promise); afterwards every message answered 201
# is in its stream once, no poll gets a message twice, every poll
# resumes. (t/022 pauses Redis without load.)
#
# CHATPORT_SOAK=1 (make soak): more rounds.

use strict;
use warnings;

use Test::More;
use IO::Socket::INET;

use lib 't/lib';
use ChatPort::Harness;
use ChatPort::Load;

require_env();

my $site = 't101';
my ($redis, $ngx) = fault_bed(site => $site, redis_timeout => '500ms');
my @workers = $ngx->workers;

my $load = ChatPort::Load->new(port => $ngx->port, site => $site,
                               redis_port => $redis->port)->start;
$load->run(2);

my $rounds = soak() ? 6 : 1;

for my $round (1 .. $rounds) {
    # shorter, then longer than the poll timeout (3 s)
    for my $secs (2, 4) {
        my $stalls = $load->stats->{post}{503} // 0;

        $redis->pause;
        $load->run($secs);
        $redis->resume;

        ok($load->recover(20), "SIGSTOP $secs s ($round): polls answer again")
            or diag $load->summary('poll');
        cmp_ok($load->stats->{post}{503} // 0, '>', $stalls,
               "SIGSTOP $secs s ($round): some posts answered 503 meanwhile");
    }

    # DEBUG SLEEP blocks Redis, so its answer is read afterwards
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $redis->port, Proto => 'tcp')
        or die "redis: $!";
    syswrite $s, "*3\r\n\$5\r\nDEBUG\r\n\$5\r\nSLEEP\r\n\$1\r\n2\r\n";
    my $stalls = $load->stats->{post}{503} // 0;

    $load->run(2.5);

    my $sel = IO::Select->new($s);
    my $reply = '';
    sysread $s, $reply, 64 if $sel->can_read(5);
    is($reply, "+OK\r\n", "DEBUG SLEEP $round: done");
    close $s;

    ok($load->recover(20), "DEBUG SLEEP $round: every poll answers again")
        or diag $load->summary('poll');
    cmp_ok($load->stats->{post}{503} // 0, '>', $stalls,
           "DEBUG SLEEP $round: some posts were answered 503 meanwhile");
}

ok($load->settle(20), 'the polls caught up');
$load->check('Redis stalls');

like($ngx->error_log, qr/redis did not answer in 500 ms/,
     'the log names the timeout');
is(redis_links_settle($redis->port, 2), 5,
   'Redis has the two links of each worker, no more');
is_deeply([ $ngx->workers ], \@workers, 'the same workers');

$load->stop;
ok($ngx->stop(10), 'nginx stops gracefully');
is_deeply([ $ngx->bad_lines ], [], 'no alert, crit, emerg or crash');
$redis->stop;

done_testing;
