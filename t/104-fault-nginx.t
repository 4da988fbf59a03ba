# nginx's own faults under a steady load: 20 reloads (SIGHUP) in a row,
# then a worker killed with -9, twice. The old workers answer their
# parked polls and exit, the master replaces a killed worker, the polls
# (re-sent by their clients) resume from their cursors, every message
# answered 201 is in its stream once, no poll gets one twice, and Redis
# ends with exactly the two links of each worker. Last, nginx stops
# (SIGQUIT) with the load still on.
#
# CHATPORT_SOAK=1 (make soak): 100 reloads and more kills.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(sleep);

use lib 't/lib';
use ChatPort::Harness;
use ChatPort::Load;

require_env();

my $site = 't104';
# the workers this test kills with -9 are logged as "exited on signal 9"
my ($redis, $ngx) = fault_bed(site => $site,
                              log_allow => qr/exited on signal 9\b/);
my $rport = $redis->port;

my $load = ChatPort::Load->new(port => $ngx->port, site => $site,
                               redis_port => $rport)->start;
$load->run(2);


# ---------------------------------------------------------------------------
my $reloads = soak() ? 100 : 20;
my @before = $ngx->workers;

for (1 .. $reloads) {
    $ngx->signal('HUP');
    $load->run(0.3);
}

ok($load->recover(20), "$reloads reloads: every poll answers again")
    or diag $load->summary('poll');

ok(wait_until(sub { $ngx->workers == 2 }, 30, 0.2),
   'the old workers exited, two are left');
my %old = map { $_ => 1 } @before;
is((grep { $old{$_} } $ngx->workers), 0, 'they are new ones');

is(redis_links_settle($rport, 2), 5,
   'Redis has the two links of each worker, no more');


# ---------------------------------------------------------------------------
my $kills = soak() ? 10 : 2;

for my $k (1 .. $kills) {
    my ($victim) = $ngx->workers;
    kill 'KILL', $victim;
    $load->run(0.5);

    ok(wait_until(sub {
           my @w = $ngx->workers;
           @w == 2 && !grep { $_ == $victim } @w;
       }, 10, 0.1), "kill $k: the master replaced worker $victim");

    ok($load->recover(20), "kill $k: every poll answers again")
        or diag $load->summary('poll');
}

ok($load->settle(20), 'the polls caught up');
$load->check('nginx reloads and worker kills');

is(redis_links_settle($rport, 2), 5,
   'Redis has the two links of each worker, no more');

# a graceful stop with the load still on: the parked polls are answered
# and nginx exits, it does not wait for them
$ngx->signal('QUIT');
ok($load->run_until(sub { !$ngx->alive }, 10), 'nginx exits under load');
$load->stop;
ok($ngx->stop(1), 'and is reaped');

my @bad = $ngx->bad_lines;
my @killed = grep { /exited on signal 9\b/ } @bad;
is(scalar @killed, $kills, "$kills workers exited on signal 9");
is_deeply([ grep { !/exited on signal 9\b/ } @bad ], [],
          'no other alert, crit, emerg or crash');
$redis->stop;

done_testing;
