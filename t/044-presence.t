# Presence with real clients and a real Redis: the chosen status is kept
# (also across a reload); an operator is available while their status is
# online and a console of theirs holds an operator poll, or ended one less
# than chatport_presence_grace ago; two operators, one away and one
# available, make the site online; closed hours make config offline while
# the session still tells the status; GET A operators lists everyone; and
# config on one nginx follows a change made through another nginx that
# shares the Redis.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(time sleep);
use MIME::Base64 qw(encode_base64);
use File::Temp ();

use lib 't/lib';
use ChatPort::Harness;

require_env();

my $redis = shared_redis_port();
my ($S, $SH) = ('t044', 't044h');

for my $site ($S, $SH) {
    my $keys = redis_cmd($redis, 'KEYS', "chatport:{$site}:*");
    redis_cmd($redis, 'DEL', @$keys) if ref $keys && @$keys;
}

my $tmp = File::Temp::tempdir("chatport-044-XXXXXX", TMPDIR => 1,
                              CLEANUP => !$ENV{CHATPORT_KEEP});

open my $fh, '>', "$tmp/htpasswd" or die "$tmp/htpasswd: $!";
print $fh "alice:{PLAIN}secret\nbob:{PLAIN}pw\n";
close $fh;

my %AUTH = (alice => 'Basic ' . encode_base64('alice:secret', ''),
            bob => 'Basic ' . encode_base64('bob:pw', ''));

# a day that is not today nor near it (UTC): the hours are closed
my @DAYS = qw(Sun Mon Tue Wed Thu Fri Sat);
my $closed_day = $DAYS[((gmtime)[6] + 3) % 7];

# a short grace, and a poll timeout longer than every wait below
my $GRACE = 2;

my $agent = <<"_EOC_";
        location /chatport/agent/ {
            chatport_agent;
            auth_basic "ops";
            auth_basic_user_file $tmp/htpasswd;
            chatport_poll_timeout 60s;
        }
_EOC_

my $hours_port = free_port();

my $conf = <<"_EOC_";
        chatport_site $S;
        chatport_presence_grace ${GRACE}s;

        location /chatport/ {
            chatport;
        }

$agent
_EOC_

my $http = <<"_EOC_";
    server {
        listen 127.0.0.1:$hours_port;
        server_name localhost;
        chatport_site $SH;
        chatport_presence_grace ${GRACE}s;
        chatport_hours "$closed_day 10:00-11:00";

        location /chatport/ {
            chatport;
        }

$agent
    }
_EOC_

my $ngx = start_nginx(server => $conf, http => $http, workers => 2);
my $pa = $ngx->port;

# the second nginx: the same site, the same Redis
my $ngx2 = start_nginx(server => $conf, workers => 1);
my $pb = $ngx2->port;

sub agent {
    my ($port, $method, $path, $body, %o) = @_;
    return http_request(port => $port, method => $method,
                        path => "/chatport/agent/$path",
                        headers => { Authorization =>
                                         $AUTH{ $o{user} || 'alice' } },
                        (defined $body ? (body => $body) : ()),
                        timeout => 5);
}

# a console's long-poll, held until ->abandon (a phone that locks)
sub hold_poll {
    my ($port, $user) = @_;
    return open_requests([{ port => $port, method => 'GET',
                            path => '/chatport/agent/poll',
                            headers => { Authorization =>
                                             $AUTH{ $user || 'alice' } } }]);
}

sub config_online {
    my ($port) = @_;
    my $res = http_request(port => $port, path => '/chatport/config');
    return undef unless $res->{status} == 200 && $res->{json};
    return $res->{json}{online} ? 1 : 0;
}

sub session {
    my ($port, $user) = @_;
    return agent($port, GET => 'session', undef, user => $user)->{json} || {};
}

sub operators {
    my ($port) = @_;
    my $j = agent($port, GET => 'operators')->{json} || {};
    return { map { $_->{name} => $_ } @{ $j->{operators} || [] } };
}

# every worker of a nginx answers the same: ask a few times
sub online_everywhere {
    my ($port, $want) = @_;
    for (1 .. 6) {
        my $got = config_online($port) // -1;
        return 0 if $got != $want;
    }
    return 1;
}


subtest 'status is kept; availability needs a held poll' => sub {
    is(config_online($pa), 0, 'nobody: offline');

    my $s = session($pa);
    is($s->{status}, 'away', 'an operator who never chose is away');
    ok(!$s->{available}, '... and not available');
    ok($s->{hours_open}, 'hours open (no chatport_hours)');
    is($s->{presence_grace}, $GRACE, 'the grace is told');

    is(agent($pa, POST => 'presence', { status => 'online' })->{status}, 204,
       'alice online: 204');

    $s = session($pa);
    is($s->{status}, 'online', 'session: status online');
    ok(!$s->{available}, '... but no console holds a poll: not available');
    ok(online_everywhere($pa, 0), 'config: offline without a console');

    my $poll = hold_poll($pa);
    ok(wait_until(sub { session($pa)->{available} }, 10),
       'a held poll makes alice available');
    ok(wait_until(sub { online_everywhere($pa, 1) }, 10),
       'config: online in every worker');

    my $ops = operators($pa);
    is($ops->{alice}{status}, 'online', 'operators: alice online');
    ok($ops->{alice}{available}, '... available');
    ok($ops->{alice}{connected}, '... connected');
    cmp_ok($ops->{alice}{last_seen} // 0, '>', 1_600_000_000_000,
           '... last seen now (ms)');

    # bob is away but has a console open
    is(agent($pa, POST => 'presence', { status => 'away' }, user => 'bob')
           ->{status}, 204, 'bob away: 204');
    my $bpoll = hold_poll($pa, 'bob');
    ok(wait_until(sub { (operators($pa)->{bob} || {})->{connected} }, 10),
       'bob\'s console is connected');

    $ops = operators($pa);
    is(scalar keys %$ops, 2, 'operators lists both');
    is($ops->{bob}{status}, 'away', 'bob: away');
    ok(!$ops->{bob}{available}, 'bob: not available');
    ok($ops->{alice}{available}, 'alice: available');
    ok(online_everywhere($pa, 1), 'one away, one available: online');

    # the phone locks: the poll is gone; available for the grace still
    my $gone = time;
    $poll->abandon;

    ok(wait_until(sub { online_everywhere($pa, 0) }, 15),
       'offline once the grace has passed');
    my $took = time - $gone;
    cmp_ok($took, '>=', $GRACE - 0.5,
           "not before the grace (${GRACE} s): after "
           . sprintf('%.1f', $took) . ' s');

    $s = session($pa);
    is($s->{status}, 'online', 'alice\'s status stays online');
    ok(!$s->{available}, '... not available');
    $ops = operators($pa);
    ok(!$ops->{alice}{connected}, 'alice not connected');
    cmp_ok($ops->{alice}{last_seen} // 0, '>', 1_600_000_000_000,
           'alice: a last seen time');

    # an away operator with a console never makes the site online
    ok(online_everywhere($pa, 0), 'bob away with a console: offline');

    $bpoll->abandon;
};


subtest 'the status survives a reload; a poll after it counts again' => sub {
    my @old = $ngx->workers;
    $ngx->signal('HUP');

    ok(wait_until(sub {
           my %o = map { $_ => 1 } @old;
           my @w = $ngx->workers;
           @w == 2 && !grep { $o{$_} } @w;
       }, 20), 'new workers');

    is(session($pa)->{status}, 'online', 'alice: still online after reload');
    is(session($pa, 'bob')->{status}, 'away', 'bob: still away');

    my $poll = hold_poll($pa);
    ok(wait_until(sub { online_everywhere($pa, 1) }, 10),
       'a new poll: online again');

    is(agent($pa, POST => 'presence', { status => 'away' })->{status}, 204,
       'alice away');
    ok(wait_until(sub { online_everywhere($pa, 0) }, 10),
       'away with a console held: offline');
    ok(!session($pa)->{available}, 'session: not available');

    $poll->abandon;
};


subtest 'closed hours: offline, the session tells why' => sub {
    is(agent($hours_port, POST => 'presence', { status => 'online' })
           ->{status}, 204, 'alice online on the hours site');
    my $poll = hold_poll($hours_port);

    ok(wait_until(sub { session($hours_port)->{available} }, 10),
       'alice available');

    my $s = session($hours_port);
    is($s->{status}, 'online', 'session: status online');
    ok(!$s->{hours_open}, 'session: hours closed');
    ok(online_everywhere($hours_port, 0), 'config: offline (hours closed)');

    $poll->abandon;
};


# B has one worker: once it has answered config, the site is in its
# memory, and only news (pub/sub, or the periodic re-read after 5 s) can
# change its answer
subtest 'config follows a change made through another nginx' => sub {
    is(config_online($pb), 0, 'B: offline (now in its memory)');

    is(agent($pa, POST => 'presence', { status => 'online' })->{status}, 204,
       'alice online through A');
    my $poll = hold_poll($pa);

    my $t0 = time;
    ok(wait_until(sub { config_online($pb) }, 10),
       'B: online from a poll held on A');
    diag(sprintf 'B saw it after %.2f s', time - $t0);

    is(agent($pa, POST => 'presence', { status => 'away' })->{status}, 204,
       'alice away through A');
    $t0 = time;
    ok(wait_until(sub { !config_online($pb) }, 10), 'B: offline again');
    diag(sprintf 'B saw it after %.2f s', time - $t0);

    $poll->abandon;
};


# what B's memory holds comes from pub/sub: news that Redis contradicts
# (published by hand) is believed until the periodic re-read corrects it
subtest 'B\'s memory: pub/sub news, and the re-read as a safety net' => sub {
    is(config_online($pb), 0, 'B: offline');

    redis_cmd($redis, 'PUBLISH', 'chatport:presence', "60000 $S");
    ok(wait_until(sub { config_online($pb) }, 10),
       'B: online from a message alone');

    ok(wait_until(sub { !config_online($pb) }, 20),
       'B: offline again after its re-read of Redis');
};


subtest 'config is not cached by browsers' => sub {
    my $res = http_request(port => $pa, path => '/chatport/config');
    is($res->{status}, 200, 'config: 200');
    unlike($res->{headers}{'cache-control'} // '', qr/max-age/,
           'no max-age');
};


for my $n ($ngx, $ngx2) {
    my @bad = grep { /\[(alert|emerg|crit)\]|exited on signal/ }
              split /\n/, $n->error_log;
    ok(!@bad, 'no alert, crit or crash in the error log')
        or diag join "\n", @bad;
}

$ngx2->stop;
$ngx->stop;

done_testing();
