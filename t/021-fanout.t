# Fan-out through Redis pub/sub: polls parked on several workers of one
# nginx, and on two nginx instances sharing one Redis, are woken by a
# message posted through any of them.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(time sleep);

use lib 't/lib';
use ChatPort::Harness;

require_env();

my $site = 't021';

# every visitor here comes from 127.0.0.1: no chatport_chat_rate in the way
my $server = <<"_EOC_";
        chatport_site $site;
        chatport_chat_rate 10000/1m;

        location /chatport/ {
            chatport;
            chatport_poll_timeout 6s;
            add_header X-Worker \$pid always;
        }
_EOC_

my $na = start_nginx(workers => 4, listen => 'reuseport', server => $server);
my $pa = $na->port;

is(scalar($na->workers), 4, 'nginx A runs 4 workers');

sub texts { map { $_->{text} } @{ $_[0]{json}{messages} || [] } }

sub summary {
    my ($list) = @_;
    my %c;
    $c{ $_->{status} . ($_->{error} ? " $_->{error}" : '') }++ for @$list;
    return join ', ', map { "$_ x$c{$_}" } sort keys %c;
}

sub log_clean {
    my ($ngx, $what) = @_;
    my @bad = grep { /\[(alert|crit|emerg|error)\]/ } split /\n/,
              $ngx->error_log;
    ok(!@bad, "no error or alert in the log of $what")
        or diag join "\n", @bad[0 .. ($#bad < 9 ? $#bad : 9)];
}


# ---------------------------------------------------------------------------
subtest '200 polls of one visitor on 4 workers, one message' => sub {
    my $v = visitor(port => $pa);
    my $res = $v->post('hello from one visitor');
    is($res->{status}, 201, 'first message: 201') or return;
    my $first = $res->{json}{id};

    my $polls = open_requests([ map { $v->poll_request($first) } 1 .. 200 ]);
    sleep 1;
    my $open = $polls->pump(0);
    is($open, 200, 'all 200 polls are parked')
        or diag summary([ grep { $_ } @{ $polls->done } ]);

    my $t = time;
    $res = $v->post('to everybody');
    is($res->{status}, 201, 'the message: 201');
    my $id = $res->{json}{id};

    my $answers = $polls->collect(timeout => 8);
    my $took = time - $t;

    my @ok = grep { $_->{status} == 200 } @$answers;
    is(scalar @ok, 200, 'all 200 polls answered 200')
        or diag summary($answers);

    my @with = grep {
        my @m = @{ $_->{json}{messages} || [] };
        @m == 1 && $m[0]{id} eq $id && $m[0]{text} eq 'to everybody'
            && ($_->{json}{cursor} // '') eq $id;
    } @ok;
    is(scalar @with, 200, 'every poll received the message, and only it');
    cmp_ok($took, '<', 3, 'all answered well before the 6 s poll timeout');

    my %workers;
    $workers{ $_->{headers}{'x-worker'} // '?' }++ for @$answers;
    cmp_ok(scalar(keys %workers), '>=', 3,
           'the polls were parked on at least 3 workers')
        or diag explain \%workers;
    note 'polls per worker: '
         . join(', ', map { "$_=$workers{$_}" } sort keys %workers);
};


# ---------------------------------------------------------------------------
subtest '100 visitors, each with a parked poll, each gets only its own' => sub {
    my @v = map { visitor(port => $pa) } 1 .. 100;

    # 100 new visitors at once
    my $created = open_requests([ map { $v[$_]->post_request("hi from $_") }
                                  0 .. 99 ])->collect(timeout => 10);
    $v[$_]->absorb($created->[$_]) for 0 .. 99;

    is(scalar(grep { $_->{status} == 201 } @$created), 100,
       '100 new visitors: 201') or diag summary($created);
    my %vids = map { ($_->vid // '') => 1 } @v;
    is(scalar(grep { $_ } keys %vids), 100, '100 different cookies');

    my @first = map { $_->{json}{id} } @$created;

    my $polls = open_requests([ map { $v[$_]->poll_request($first[$_]) }
                                0 .. 99 ]);
    sleep 1;
    is($polls->pump(0), 100, 'all 100 polls are parked');

    my $t = time;
    my $sent = open_requests([ map { $v[$_]->post_request("for $_ only") }
                               0 .. 99 ])->collect(timeout => 10);
    is(scalar(grep { $_->{status} == 201 } @$sent), 100,
       '100 messages: 201') or diag summary($sent);

    my $answers = $polls->collect(timeout => 8);
    my $took = time - $t;

    is(scalar(grep { $_->{status} == 200 } @$answers), 100,
       'all 100 polls answered 200') or diag summary($answers);

    my @wrong;
    for my $i (0 .. 99) {
        my @m = @{ $answers->[$i]{json}{messages} || [] };
        push @wrong, $i
            unless @m == 1 && $m[0]{text} eq "for $i only"
                   && $m[0]{id} eq ($sent->[$i]{json}{id} // '');
    }
    is_deeply(\@wrong, [], "each poll received its own visitor's message only")
        or diag explain [ map { $answers->[$_]{json} } @wrong[0 .. 2] ];
    cmp_ok($took, '<', 4, 'all answered well before the poll timeout');

    my %workers;
    $workers{ $_->{headers}{'x-worker'} // '?' }++ for @$answers;
    cmp_ok(scalar(keys %workers), '>=', 3, 'on at least 3 workers');
};


# ---------------------------------------------------------------------------
subtest 'two nginx instances sharing one Redis' => sub {
    my $nb = start_nginx(workers => 2, server => $server);
    my $pb = $nb->port;
    isnt($pb, $pa, 'a second nginx on another port');

    my $v = visitor(port => $pa);
    my $res = $v->post('opened on A');
    is($res->{status}, 201, 'conversation opened on A') or return;
    my $id = $res->{json}{id};

    # A -> B
    my $poll = open_requests([ $v->poll_request($id, port => $pb) ]);
    sleep 0.5;
    is($poll->pump(0), 1, 'a poll is parked on B');

    my $t = time;
    $res = $v->post('posted on A');
    is($res->{status}, 201, 'message posted on A: 201');
    my $ida = $res->{json}{id};

    my $got = $poll->collect(timeout => 8)->[0];
    is($got->{status}, 200, "B's poll: 200") or diag explain $got;
    is_deeply([ texts($got) ], ['posted on A'], "B's poll got A's message");
    is($got->{json}{cursor}, $ida, 'with its id as the cursor');
    cmp_ok(time - $t, '<', 2, 'woken, not timed out');

    # B -> A
    $poll = open_requests([ $v->poll_request($ida, port => $pa) ]);
    sleep 0.5;
    is($poll->pump(0), 1, 'a poll is parked on A');

    $t = time;
    $res = $v->post('posted on B', port => $pb);
    is($res->{status}, 201, 'message posted on B: 201');
    is_deeply($res->{set_cookie}, [], 'B knows the visitor: no new cookie');
    my $idb = $res->{json}{id};

    $got = $poll->collect(timeout => 8)->[0];
    is($got->{status}, 200, "A's poll: 200") or diag explain $got;
    is_deeply([ texts($got) ], ['posted on B'], "A's poll got B's message");
    is($got->{json}{cursor}, $idb, 'with its id as the cursor');
    cmp_ok(time - $t, '<', 2, 'woken, not timed out');

    for my $port ($pa, $pb) {
        $res = $v->history(undef, port => $port);
        is_deeply([ texts($res) ], ['opened on A', 'posted on A',
                                    'posted on B'],
                  "the same history through port $port");
    }

    ok($nb->stop(10), 'nginx B stops gracefully');
    log_clean($nb, 'nginx B');
};


ok($na->stop(10), 'nginx A stops gracefully');
log_clean($na, 'nginx A');

done_testing;
