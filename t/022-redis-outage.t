# Redis goes away and comes back: requests fail fast with 503 and
# Retry-After, the workers stay up, the module reconnects by itself, a poll
# parked across the restart resumes from its cursor, nothing answered 201
# is lost (append-only file), a Redis that stops answering fails requests
# within chatport_redis_timeout, and the error log tells the story once.
#
# Uses a private redis-server (never the shared one of make test).

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(time sleep);

use lib 't/lib';
use ChatPort::Harness;

require_env();

my $site = 't022';
my $redis = start_redis(appendonly => 1);
my $rport = $redis->port;

my $ngx = start_nginx(
    workers => 2,
    redis_port => $rport,
    http => "chatport_redis 127.0.0.1:$rport;\n"
          . "chatport_redis_timeout 500ms;\n",
    server => <<"_EOC_");
        chatport_site $site;

        location /chatport/ {
            chatport;
            chatport_poll_timeout 20s;
        }
_EOC_

my $port = $ngx->port;
my $master = $ngx->pid;
my @workers = $ngx->workers;
is(scalar @workers, 2, 'two workers');

sub texts { map { $_->{text} } @{ $_[0]{json}{messages} || [] } }
sub ids   { map { $_->{id} } @{ $_[0]{json}{messages} || [] } }

sub is_503 {
    my ($res, $what) = @_;
    is($res->{status}, 503, "$what: 503") or diag explain $res;
    is($res->{json}{error}, 'unavailable', "$what: error unavailable");
    like($res->{headers}{'retry-after'} // '', qr/^\d+$/,
         "$what: Retry-After");
    # requests of is_503 ask for Connection: close and wait for it
    ok($res->{closed}, "$what: the server closes the connection");
}

my %close = (wait_close => 1, timeout => 1);

# POSTs until one is answered 201 (at most $timeout s); returns it
sub post_until_ok {
    my ($v, $text, $timeout) = @_;
    my $res;
    wait_until(sub {
        $res = $v->post($text, timeout => 3);
        $res->{status} == 201;
    }, $timeout, 0.1);
    return $res;
}

# chatport's Redis connection lines per worker and link since $offset
sub link_lines {
    my ($offset) = @_;
    my %n;
    for (split /\n/, $ngx->log_since($offset)) {
        next unless m{\] (\d+)#\d+: .*chatport: redis (command|pub/sub) connection to \S+ (lost|is back|failed)};
        $n{$1}{$2}{$3}++;
    }
    return \%n;
}

my $v = visitor(port => $port);
my @stored;


# ---------------------------------------------------------------------------
subtest 'messages before the outage' => sub {
    for my $i (1 .. 20) {
        my $res = $v->post("before $i");
        is($res->{status}, 201, "message $i: 201") or last;
        push @stored, $res->{json}{id};
    }
};

my $parked;
my $outage_log = $ngx->log_size;


# ---------------------------------------------------------------------------
subtest 'Redis stopped: 503 with Retry-After, workers stay up' => sub {
    $parked = open_requests([ $v->poll_request($stored[-1]) ]);
    sleep 0.3;
    is($parked->pump(0), 1, 'a poll is parked');

    ok($redis->stop, 'private Redis stopped (SIGTERM)');
    sleep 0.3;

    my $res = $v->post('while Redis is down', %close);
    is_503($res, 'POST messages');
    cmp_ok($res->{answered} // 99, '<', 1, 'answered at once');

    my $new = visitor(port => $port);
    $res = $new->post('a new visitor while Redis is down', %close);
    is_503($res, 'POST messages of a new visitor');
    is_deeply($res->{set_cookie}, [], 'no cookie for a conversation not stored');

    $res = $v->poll($stored[-1], %close);
    is_503($res, 'GET poll');
    cmp_ok($res->{answered} // 99, '<', 1, 'answered at once');

    $res = $v->history(undef, %close);
    is_503($res, 'GET messages');

    # some reconnect attempts happen meanwhile
    sleep 1.5;

    $res = $v->post('still down', %close);
    is_503($res, 'POST messages 2 s into the outage');

    ok(pid_alive($master), 'the master is up');
    is_deeply([ $ngx->workers ], \@workers, 'the same workers are up');
    is($parked->pump(0), 1, 'the parked poll is still parked');
};


# ---------------------------------------------------------------------------
my ($after_restart, $back_at);

subtest 'Redis back: requests work again, the parked poll resumes' => sub {
    ok($redis->start, 'private Redis started again on the same port');
    my $t = time;

    my $res = post_until_ok($v, 'after the restart', 10);
    is($res->{status}, 201, 'a POST is answered 201 again')
        or diag explain $res;
    $back_at = time - $t;
    cmp_ok($back_at, '<', 8, 'within a few seconds');
    note sprintf 'POST works again %.2f s after Redis restarted', $back_at;
    $after_restart = $res->{json}{id};

    my $poll = $parked->collect(timeout => 10)->[0];
    is($poll->{status}, 200, 'the poll parked before the restart: 200')
        or diag explain $poll;
    is(($poll->{json}{messages} || [])->[0]{id}, $after_restart,
       'it received the message posted after the restart');
    is($poll->{json}{cursor}, (ids($poll))[-1], 'its cursor is its last id');

    # each worker reconnects on its own backoff: the other one may answer
    # 503 for a moment longer
    wait_until(sub {
        $res = $v->history;
        $res->{status} != 503;
    }, 8, 0.1);
    is($res->{status}, 200, 'history: 200');
    my %have = map { $_ => 1 } ids($res);
    my @lost = grep { !$have{$_} } @stored;
    is_deeply(\@lost, [], 'every message answered 201 before the stop is kept');
    is_deeply([ grep { /^before / } texts($res) ],
              [ map { "before $_" } 1 .. 20 ], 'in order');
    ok($have{$after_restart}, 'and the one after the restart');

    # the pub/sub link has its own backoff: it may come back a little later
    wait_until(sub {
        $res = $v->poll($stored[-1]);
        $res->{status} != 503;
    }, 8, 0.1);
    is($res->{status}, 200, 'a new poll works');
    is(($res->{json}{messages} || [])->[0]{id}, $after_restart,
       'and returns at once what is newer');

    is_deeply([ $ngx->workers ], \@workers, 'still the same workers');
};


# ---------------------------------------------------------------------------
subtest 'the error log: lost once, back once, per worker and link' => sub {
    # every worker's two links come back, each at its own backoff
    my $n;
    wait_until(sub {
        $n = link_lines($outage_log);
        my $back = 0;
        for my $w (@workers) {
            $back += $n->{$w}{$_}{'is back'} // 0 for 'command', 'pub/sub';
        }
        $back >= 2 * @workers;
    }, 10, 0.2);

    for my $w (@workers) {
        for my $link ('command', 'pub/sub') {
            my $c = $n->{$w}{$link} || {};
            is($c->{lost} // 0, 1, "worker $w, $link link: lost once");
            is($c->{'is back'} // 0, 1, "worker $w, $link link: back once");
            cmp_ok($c->{failed} // 0, '<=', 1,
                   "worker $w, $link link: no line per retry");
        }
    }

    my $log = $ngx->log_since($outage_log);
    my @noise = grep { /chatport: redis/ && !/\[debug\]/
                       && !/(lost|is back|failed)/ }
                split /\n/, $log;
    ok(@noise <= 4, 'few other Redis lines') or diag join "\n", @noise;
};


# ---------------------------------------------------------------------------
subtest 'Redis paused: 503 within chatport_redis_timeout, then back' => sub {
    my $off = $ngx->log_size;

    $redis->pause;

    my $res = $v->post('while Redis is paused', wait_close => 1, timeout => 3);
    my $took = $res->{answered} // 99;

    is_503($res, 'POST messages with Redis paused');
    cmp_ok($took, '>=', 0.4, 'after about the 500 ms timeout');
    cmp_ok($took, '<', 1.5, 'not much later');
    note sprintf 'answered in %.3f s', $took;

    $res = $v->history(undef, wait_close => 1, timeout => 3);
    is_503($res, 'GET messages with Redis paused');
    cmp_ok($res->{answered} // 99, '<', 1.5, 'within about the timeout');

    $redis->resume;

    $res = post_until_ok($v, 'after the pause', 8);
    is($res->{status}, 201, 'POST works again after the pause')
        or diag explain $res;
    my $id = $res->{json}{id};

    # each worker reconnects on its own backoff: the other one may answer
    # 503 for a moment longer
    wait_until(sub {
        $res = $v->history;
        $res->{status} != 503;
    }, 8, 0.1);
    is($res->{status}, 200, 'history: 200');
    ok((grep { $_ eq $id } ids($res)), 'with the message after the pause');
    my %have = map { $_ => 1 } ids($res);
    is_deeply([ grep { !$have{$_} } @stored, $after_restart ], [],
              'nothing answered 201 is lost');

    my $p = open_requests([ $v->poll_request($id) ]);
    sleep 0.3;
    my $msg = $v->post('wake after the pause');
    my $got = $p->collect(timeout => 5)->[0];
    is($got->{status}, 200, 'a parked poll works after the pause');
    is(($got->{json}{messages} || [])->[0]{id}, $msg->{json}{id},
       'and is woken by the next message');

    my $log = $ngx->log_since($off);
    like($log, qr/redis did not answer in 500 ms/,
         'the log names the timeout');
    my $n = () = $log =~ /did not answer/g;
    cmp_ok($n, '<=', 4, 'one line per timed-out command, not per retry');

    is_deeply([ $ngx->workers ], \@workers, 'still the same workers');
};


# ---------------------------------------------------------------------------
ok($ngx->stop(10), 'nginx stops gracefully');
my @bad = grep { /\[(alert|crit|emerg)\]/ } split /\n/, $ngx->error_log;
ok(!@bad, 'no alert, crit or emerg in the log') or diag join "\n", @bad;

ok($redis->stop, 'private Redis stops');

done_testing;
