# Redis Cluster: three masters with a replica each on loopback
# (redis-cli --cluster create), nginx (2 workers) on it with
# chatport_redis_cluster and chatport_redis_wait 1. Three sites chosen to
# land on the three masters each take messages and polls. Then, under a
# steady bounded load on one site: its master killed with -9 (its replica
# takes over), and its slot moved to another master by hand
# (SETSLOT IMPORTING/MIGRATING, MIGRATE, SETSLOT NODE), which nginx
# follows through ASK and MOVED. After each, every message answered 201
# is in the owning master's stream once, every poll saw it exactly once
# and answers again, and nginx keeps its workers.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(time sleep);

use lib 't/lib';
use ChatPort::Harness;
use ChatPort::Load;

require_env();

plan skip_all => 'no redis-cli'
    unless grep { -x "$_/redis-cli" } split /:/, $ENV{PATH};

my @nodes = map {
    start_redis(args => ['--cluster-enabled', 'yes',
                         '--cluster-config-file', 'nodes.conf',
                         '--cluster-node-timeout', '2000',
                         '--cluster-require-full-coverage', 'no',
                         '--repl-ping-replica-period', '1'])
} 1 .. 6;

my %by_port = map { $_->port => $_ } @nodes;

my $out = `timeout 60 redis-cli --cluster create @{[
    map { '127.0.0.1:' . $_->port } @nodes ]} --cluster-replicas 1 \\
    --cluster-yes 2>&1`;
ok($? == 0, 'redis-cli --cluster create') or diag $out;

# CLUSTER SLOTS as the first live node tells it: [start, end, master port]
sub slots {
    for my $n (@nodes) {
        next unless ChatPort::Harness::pid_alive($n->pid);
        my $r = eval { $n->cmd('CLUSTER', 'SLOTS') } or next;
        return [ map { [ $_->[0], $_->[1], $_->[2][1] ] } @$r ];
    }
    return [];
}

sub owner {
    my ($slot) = @_;
    for (@{ slots() }) {
        return $_->[2] if $_->[0] <= $slot && $slot <= $_->[1];
    }
    return 0;
}

# every master has a replica online, and every node sees the cluster ok
sub cluster_ready {
    return wait_until(sub {
        my @m = map { $_->[2] } @{ slots() };
        return 0 unless @m >= 3;
        for my $p (@m) {
            my $info = eval { redis_cmd($p, 'INFO', 'replication') } // '';
            return 0 unless $info =~ /^slave0:.*state=online/m;
        }
        return !grep {
            ChatPort::Harness::pid_alive($_->pid)
            && (eval { $_->cmd('CLUSTER', 'INFO') } // '')
               !~ /cluster_state:ok/;
        } @nodes;
    }, 30, 0.2);
}

ok(cluster_ready(), 'three masters, each with a replica in sync');

# three site names whose hash tags ("chatport:{SITE}:...") land on three
# different masters
my (@sites, %slot_of, %taken);
for my $i (1 .. 100) {
    my $name = "t125s$i";
    my $slot = $nodes[0]->cmd('CLUSTER', 'KEYSLOT', "chatport:{$name}:x");
    my $master = owner($slot);
    next if !$master || $taken{$master}++;
    push @sites, $name;
    $slot_of{$name} = $slot;
    last if @sites == 3;
}
is(scalar @sites, 3, 'three sites on three masters: '
   . join ', ', map { "$_ (slot $slot_of{$_})" } @sites);

my %site_port = map { $_ => free_port() } @sites[1, 2];
my $seeds = join ' ', map { '127.0.0.1:' . $_->port } @nodes[0, 1];

my $servers = join '', map { <<"_EOC_" } @sites[1, 2];
server {
    listen 127.0.0.1:$site_port{$_};
    chatport_site $_;

    location /chatport/ {
        chatport;
        chatport_poll_timeout 3s;
        chatport_history 1000000;
        chatport_chat_rate 100000/1m site=100000/1m;
    }

    location /chatport/agent/ {
        chatport_agent;
        chatport_poll_timeout 3s;
        auth_basic ops;
        auth_basic_user_file htpasswd;
    }
}
_EOC_

my ($unused, $ngx) = fault_bed(
    site => $sites[0], redis => $nodes[0], redis_timeout => '1s',
    redis_conf => "chatport_redis_cluster $seeds;\n"
                  . "chatport_redis_wait 1 1s;\n" . $servers);
my @workers = $ngx->workers;

# each site in turn: messages and polls, checked on the master it is on;
# the workers know the map by the second site: its commands and the
# third's go to the right master at once (no MOVED: nginx's CRC16 slots
# are Redis's)
my $map_at;
for my $site (@sites) {
    $map_at //= $ngx->log_size if $site ne $sites[0];
    my $master = owner($slot_of{$site});
    my $load = ChatPort::Load->new(port => $site_port{$site} // $ngx->port,
                                   site => $site, redis_port => $master,
                                   visitors => 4)->start;
    $load->run(2);
    ok($load->settle(30), "$site: the polls caught up");
    $load->check("$site on the master at $master");
    $load->stop;
}
unlike($ngx->log_since($map_at), qr/moved to/,
       'no MOVED for the second and third sites');

my $site = $sites[0];
my $slot = $slot_of{$site};

# A message the old master took and published but never passed on is
# lost with it (README, "Redis topologies"): a poll it reached has a
# cursor ahead of the new master's stream, counted, not a failure.
my $load = ChatPort::Load->new(port => $ngx->port, site => $site,
                               redis_port => owner($slot),
                               lost_cursor => 1)->start;
$load->run(2);

# --- the master of the site's slot killed with -9

my $old = owner($slot);
my $t0 = time;
$by_port{$old}->crash;

my $last = 0;
my $new = $load->run_until(sub {
    return 0 if time - $last < 0.2;
    $last = time;
    my $p = owner($slot);
    return $p && $p != $old ? $p : 0;
}, 30);

ok($new, "kill -9: a replica took over the slot ($new)");
figures(sprintf 'kill -9: new master after %.1f s', time - $t0);

ok($load->recover(30), 'kill -9: every poll answers again')
    or diag $load->summary('poll');
figures(sprintf 'kill -9: polls answer again %.1f s after the fault',
        time - $t0);

# the old master comes back as the new one's replica (WAIT 1 needs one)
$by_port{$old}->start;
ok($load->run_until(sub {
    my $info = eval { redis_cmd($new, 'INFO', 'replication') } // '';
    $info =~ /^slave0:.*state=online/m;
}, 30), 'kill -9: the old master is a replica in sync');
$load->run(1);

# --- the slot moved to another master under load

my $src = $new;
my ($dst) = grep { $_ != $src } map { $_->[2] } @{ slots() };
my $src_id = redis_cmd($src, 'CLUSTER', 'MYID');
my $dst_id = redis_cmd($dst, 'CLUSTER', 'MYID');

$t0 = time;
my $log_at = $ngx->log_size;
redis_cmd($dst, 'CLUSTER', 'SETSLOT', $slot, 'IMPORTING', $src_id);
redis_cmd($src, 'CLUSTER', 'SETSLOT', $slot, 'MIGRATING', $dst_id);
$load->run(0.5);

my $moved = 0;
while (1) {
    my $keys = redis_cmd($src, 'CLUSTER', 'GETKEYSINSLOT', $slot, 100);
    last unless @$keys;
    redis_cmd($src, 'MIGRATE', '127.0.0.1', $dst, '', 0, 5000,
              'KEYS', @$keys);
    $moved += @$keys;
    $load->run(0.1);
}

# the keys are on $dst, the slot still on $src: $src answers ASK
redis_cmd($dst, 'CONFIG', 'RESETSTAT');
$load->run(0.5);
my ($asking) = redis_cmd($dst, 'INFO', 'commandstats')
               =~ /^cmdstat_asking:calls=(\d+)/m;
ok($asking, "reshard: nginx followed ASK ($asking ASKING on $dst)");

for my $p ($dst, $src, grep { $_ != $dst && $_ != $src }
                       map { $_->[2] } @{ slots() })
{
    redis_cmd($p, 'CLUSTER', 'SETSLOT', $slot, 'NODE', $dst_id);
}
figures(sprintf 'reshard: %d keys of slot %d moved in %.1f s', $moved,
        $slot, time - $t0);

ok($load->run_until(sub { owner($slot) == $dst }, 30),
   "reshard: the slot is on $dst");
ok($load->run_until(sub {
    $ngx->log_since($log_at) =~ /slot $slot moved to 127\.0\.0\.1:$dst\b/
}, 10), 'reshard: nginx followed a MOVED');
ok($load->recover(30), 'reshard: every poll answers again')
    or diag $load->summary('poll');
$load->run(1);

ok($load->settle(30), 'the polls caught up');
$load->redis_port($dst);
$load->check('kill -9 and reshard');

is_deeply([ $ngx->workers ], \@workers, 'the same workers');

$load->stop;
ok($ngx->stop(10), 'nginx stops gracefully');
is_deeply([ $ngx->bad_lines ], [], 'no alert, crit, emerg or crash');

$_->stop for @nodes;

done_testing;
