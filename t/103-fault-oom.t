# Redis out of memory (maxmemory with noeviction) under a steady load:
# the memory fills up while messages are posted (then maxmemory is put
# below the memory used, so that it stays full); every post is then
# answered 503 (the log names OOM), polls keep working, a new visitor's
# first message leaves no key behind, no conversation is half-written
# (its hash's last id is its stream's last entry). Once memory is freed,
# everything works again and nothing answered 201 is lost or doubled.
#
# CHATPORT_SOAK=1 (make soak): more rounds.

use strict;
use warnings;

use Test::More;

use lib 't/lib';
use ChatPort::Harness;
use ChatPort::Load;

require_env();

my $site = 't103';
my ($redis, $ngx) = fault_bed(site => $site);
my $rport = $redis->port;
my @workers = $ngx->workers;

my $load = ChatPort::Load->new(port => $ngx->port, site => $site,
                               redis_port => $rport)->start;
$load->run(2);

redis_cmd($rport, 'CONFIG', 'SET', 'maxmemory-policy', 'noeviction');

my $rounds = soak() ? 5 : 1;

for my $round (1 .. $rounds) {
    my $info = redis_cmd($rport, 'INFO', 'memory');
    my ($used) = $info =~ /^used_memory:(\d+)/m;
    redis_cmd($rport, 'CONFIG', 'SET', 'maxmemory', $used + 512 * 1024);

    # the test fills the rest while the load goes on
    my $full = 0;
    for my $i (1 .. 1000) {
        eval { redis_cmd($rport, 'APPEND', "$site:filler", 'x' x 16384) };
        if ($@) {
            $full = $@ =~ /OOM/;
            last;
        }
        $load->run(0.01);
    }
    ok($full, "round $round: Redis memory is full (OOM)");

    # and stays full: the filler's freed query buffer would leave room
    ($used) = redis_cmd($rport, 'INFO', 'memory') =~ /^used_memory:(\d+)/m;
    redis_cmd($rport, 'CONFIG', 'SET', 'maxmemory', $used - 256 * 1024);

    # (posts that Redis ran before are answered first)
    $load->run(0.5);

    my %before = %{ $load->stats->{post} };
    my $polls = $load->stats->{poll}{200} // 0;
    my $log = $ngx->log_size;

    $load->run(3.5);

    is(($load->stats->{post}{201} // 0) - ($before{201} // 0), 0,
       "round $round: no post answered 201 while full");
    cmp_ok(($load->stats->{post}{503} // 0) - ($before{503} // 0), '>', 10,
           "round $round: posts answered 503");
    cmp_ok($load->stats->{poll}{200} // 0, '>', $polls,
           "round $round: polls answered 200 meanwhile");
    like($ngx->log_since($log), qr/chatport: redis error: OOM/,
         "round $round: the log names OOM");

    my $new = visitor(port => $ngx->port);
    my $res = $new->post("round $round: a new visitor while full");
    is($res->{status}, 503, "round $round: a new visitor's message: 503");
    is($res->{json}{error}, 'unavailable', "round $round: unavailable");
    is_deeply($res->{set_cookie}, [], "round $round: no cookie");
    my $keys = redis_cmd($rport, 'KEYS', "chatport:{$site}:conv:*");
    # meta, messages and search terms of each of the load's conversations
    is(scalar @$keys, 3 * $load->visitors,
       "round $round: no key for it (only the load's conversations)");

    redis_cmd($rport, 'DEL', "$site:filler");
    redis_cmd($rport, 'CONFIG', 'SET', 'maxmemory', 0);

    ok($load->recover(20), "round $round: every poll answers again")
        or diag $load->summary('poll');
}

ok($load->settle(20), 'the polls caught up');
$load->check('OOM');

my @half;
for my $vis ($load->visitors) {
    my $meta = conv_key($site, $vis->{v}->vid);
    my $last = redis_cmd($rport, 'HGET', $meta, 'last') // '';
    my $tail = redis_cmd($rport, 'XREVRANGE', "$meta:msgs", '+', '-',
                         'COUNT', 1);
    push @half, "$meta: last $last, stream ends at $tail->[0][0]"
        unless $last eq ($tail->[0][0] // 'none');
}
is_deeply(\@half, [], 'no conversation is half-written');

is(redis_links_settle($rport, 2), 5,
   'Redis has the two links of each worker, no more');
is_deeply([ $ngx->workers ], \@workers, 'the same workers');

$load->stop;
ok($ngx->stop(10), 'nginx stops gracefully');
is_deeply([ $ngx->bad_lines ], [], 'no alert, crit, emerg or crash');
$redis->stop;

done_testing;
