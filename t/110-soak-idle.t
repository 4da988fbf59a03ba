# Idle parked polls over several poll timeouts: each poll is answered
# empty when its timeout passes and is sent again at once, round after
# round. The workers' memory and open files and Redis's client count are
# compared after the first round and after the last: memory grows by
# little, open files and Redis connections not at all; then one message
# per conversation still reaches every poll.
#
# make test: 300 polls, 2 s timeout, 4 rounds. CHATPORT_SOAK=1 (make
# soak): 4000 polls (CHATPORT_SOAK_POLLS), 3 s timeout, 10 rounds.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(time);

use lib 't/lib';
use ChatPort::Harness;
use ChatPort::Load;

require_env();

my $site = 't110';
my $npolls = soak() ? ($ENV{CHATPORT_SOAK_POLLS} || 4000) : 300;
my $timeout = soak() ? 3 : 2;
my $rounds = soak() ? 10 : 4;
my $nvisitors = soak() ? 200 : 30;

# each poll is a socket here too: stay within this process's limit, and
# nginx's workers within the hard one
my ($nofile) = `sh -c 'ulimit -n'` =~ /(\d+)/;
my ($hard) = `sh -c 'ulimit -Hn'` =~ /(\d+)/;
if ($nofile && $npolls > $nofile - 200) {
    $npolls = $nofile - 200;
    diag "only $npolls polls: the open-file limit is $nofile (ulimit -n)";
}
my $rlimit = 4 * $npolls + 2048;
$rlimit = $hard if $hard && $hard < $rlimit;

my ($redis, $ngx) = fault_bed(site => $site, poll_timeout => "${timeout}s",
                              listen => 'reuseport',
                              worker_connections => 2 * $npolls + 1024,
                              main => "worker_rlimit_nofile $rlimit;\n");
my $rport = $redis->port;
my @workers = $ngx->workers;

my $idle_rss = $ngx->rss;
my $idle_fds = $ngx->fds;

my $load = ChatPort::Load->new(port => $ngx->port, site => $site,
                               redis_port => $rport,
                               visitors => $nvisitors,
                               polls => int($npolls / $nvisitors),
                               interval => 0.02,
                               poll_bound => $timeout + 10,
                               tick => 0.1)->start;
$load->posting(0);

my $total = $load->chains;
note "$total polls of $nvisitors visitors, ${timeout} s poll timeout";

# measured when every poll has been answered N rounds' worth of times
# and (almost) all are parked again
sub after_rounds {
    my ($n) = @_;
    my $ok = $load->run_until(sub {
        ($load->stats->{poll}{200} // 0) >= $n * $total
            && $load->pending >= $total * 0.98;
    }, ($timeout + 2) * $n + 30);
    return { ok => $ok, rss => $ngx->rss, fds => $ngx->fds,
             redis => redis_clients($rport) };
}

my $before = after_rounds(1);
ok($before->{ok}, "round 1: all $total polls answered and parked again");

my $after = after_rounds($rounds);
ok($after->{ok}, "$rounds rounds: every poll answered each round");
is(join(', ', grep { $_ != 200 } keys %{ $load->stats->{poll} }), '',
   'only 200 answers');

my %before = %$before;
my %after = %$after;

figures sprintf 'workers RSS: %d KB idle, %d KB after round 1, %d KB after '
             . 'round %d (%.2f KB per parked poll); open files %d, %d, %d; '
             . 'Redis clients %d, %d', $idle_rss, $before{rss}, $after{rss},
             $rounds, ($before{rss} - $idle_rss) / $total, $idle_fds,
             $before{fds}, $after{fds}, $before{redis}, $after{redis};

# allocators keep some slack: 10% and 2 MB over the first round
cmp_ok($after{rss}, '<=', $before{rss} * 1.1 + 2048,
       'the workers\' memory stays bounded');
cmp_ok(abs($after{fds} - $before{fds}), '<=', $total * 0.02 + 8,
       'their open files stay the same (but for polls between rounds)');
is($after{redis}, $before{redis}, 'Redis connections: the same count');
is($before{redis}, 5, 'the two links of each worker (and the query\'s)');

# a message to every conversation still reaches every poll
ok($load->recover(30), 'one message per conversation reaches every poll')
    or diag $load->summary('poll');
ok($load->settle(30), 'the polls caught up');
$load->check('idle soak');

$load->stop;
ok(wait_until(sub { $ngx->fds <= $idle_fds }, 10, 0.2),
   "the workers' open files come back to $idle_fds");
is_deeply([ $ngx->workers ], \@workers, 'the same workers');
ok($ngx->stop(10), 'nginx stops gracefully');
is_deeply([ $ngx->bad_lines ], [], 'no alert, crit, emerg or crash');
$redis->stop;

done_testing;
