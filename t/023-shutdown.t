# Parked polls and nginx's signals: a graceful shutdown (SIGQUIT) and a
# reload (SIGHUP) answer every parked poll at once instead of holding the
# old workers for the poll timeout; the old workers exit, and nothing is
# left open (no "[alert] ... open socket ... left in connection").

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(time sleep);

use lib 't/lib';
use ChatPort::Harness;

require_env();

my $site = 't023';

my $server = <<"_EOC_";
        chatport_site $site;

        location /chatport/ {
            chatport;
            chatport_poll_timeout 30s;
            add_header X-Worker \$pid always;
        }
_EOC_

sub summary {
    my ($list) = @_;
    my %c;
    $c{ $_->{status} . ($_->{error} ? " $_->{error}" : '') }++ for @$list;
    return join ', ', map { "$_ x$c{$_}" } sort keys %c;
}

sub alerts {
    my ($ngx) = @_;
    return grep { /\[(alert|crit|emerg)\]/ } split /\n/, $ngx->error_log;
}

# parks $n polls (Connection: close) and 4 on kept-alive connections, of
# 3 visitors, on $ngx; returns the batch and the cursor of each request
sub park {
    my ($ngx, $n) = @_;
    my (@reqs, @cursors);

    for my $i (1 .. 3) {
        my $v = visitor(port => $ngx->port);
        my $res = $v->post("visitor $i");
        is($res->{status}, 201, "visitor $i: 201") or next;
        my $id = $res->{json}{id};

        for (1 .. int($n / 3)) {
            push @reqs, $v->poll_request($id);
            push @cursors, $id;
        }

        # a poll on a kept-alive connection must be closed after the answer
        for (1 .. ($i == 3 ? 2 : 1)) {
            push @reqs, { %{ $v->poll_request($id,
                                 headers => { Connection => 'keep-alive' }) },
                          wait_close => 1 };
            push @cursors, $id;
        }
    }

    my $batch = open_requests(\@reqs);
    sleep 0.5;
    is($batch->pump(0), scalar @reqs, scalar(@reqs) . ' polls are parked')
        or diag summary([ grep { $_ } @{ $batch->done } ]);

    return ($batch, \@cursors, \@reqs);
}

sub check_answers {
    my ($answers, $cursors, $reqs, $took, $what) = @_;

    my @bad = grep {
        my $r = $answers->[$_];
        !($r->{status} == 200 && $r->{json}
          && @{ $r->{json}{messages} } == 0
          && $r->{json}{cursor} eq $cursors->[$_])
    } 0 .. $#$answers;

    is(scalar @bad, 0, "$what: every parked poll answered 200, empty, "
                       . 'cursor unchanged')
        or diag summary([ @$answers[@bad] ]);
    cmp_ok($took, '<', 2.5, "$what: answered promptly (30 s poll timeout)");

    my @kept = grep { $reqs->[$_]{wait_close} } 0 .. $#$reqs;
    is(scalar(grep { $answers->[$_]{closed} } @kept), scalar @kept,
       "$what: kept-alive polls are closed after their answer");
}


# ---------------------------------------------------------------------------
subtest 'SIGQUIT answers parked polls and exits' => sub {
    my $ngx = start_nginx(workers => 2, server => $server);

    my ($batch, $cursors, $reqs) = park($ngx, 30);

    my $t = time;
    $ngx->signal('QUIT');

    my $answers = $batch->collect(timeout => 10);
    my $took = time - $t;
    check_answers($answers, $cursors, $reqs, $took, 'SIGQUIT');

    my %w;
    $w{ $_->{headers}{'x-worker'} // '?' }++ for @$answers;
    cmp_ok(scalar(keys %w), '>=', 1, 'answered by the workers')
        or diag explain \%w;

    ok($ngx->wait_exit(5), 'nginx exited within 5 s');
    cmp_ok(time - $t, '<', 5, 'well before the poll timeout');

    my @a = alerts($ngx);
    ok(!@a, 'no alert in the error log') or diag join "\n", @a;
    unlike($ngx->error_log, qr/open socket/, 'no open socket left');

    $ngx->stop;
};


# ---------------------------------------------------------------------------
subtest 'SIGHUP answers parked polls, the old workers exit' => sub {
    my $ngx = start_nginx(workers => 2, server => $server);
    my $master = $ngx->pid;
    my @old = $ngx->workers;
    is(scalar @old, 2, 'two workers');

    my ($batch, $cursors, $reqs) = park($ngx, 30);

    my $t = time;
    $ngx->signal('HUP');

    my $answers = $batch->collect(timeout => 10);
    my $took = time - $t;
    check_answers($answers, $cursors, $reqs, $took, 'SIGHUP');

    my %w;
    $w{ $_->{headers}{'x-worker'} // '?' }++ for @$answers;
    ok(!(grep { my $p = $_; !grep { $_ == $p } @old } keys %w),
       'answered by the old workers') or diag explain \%w;

    my $gone = wait_until(sub { !grep { pid_alive($_) } @old }, 5, 0.05);
    ok($gone, 'the old workers exited within 5 s')
        or diag 'still alive: ' . join ' ', grep { pid_alive($_) } @old;
    note sprintf 'old workers gone %.2f s after SIGHUP', time - $t;

    ok(pid_alive($master), 'the master is still up');

    my @new;
    wait_until(sub { @new = $ngx->workers; @new == 2 }, 5);
    is(scalar @new, 2, 'two new workers');
    ok(!(grep { my $p = $_; grep { $_ == $p } @old } @new),
       'they are new processes');

    # the new workers serve chat
    sleep 0.3;
    my $v = visitor(port => $ngx->port);
    my $res = $v->post('after the reload');
    is($res->{status}, 201, 'a message after the reload: 201');
    my $id = $res->{json}{id};

    my $poll = open_requests([ $v->poll_request($id) ]);
    sleep 0.3;
    $res = $v->post('wake after the reload');
    my $got = $poll->collect(timeout => 5)->[0];
    is($got->{status}, 200, 'a new poll: 200');
    is(($got->{json}{messages} || [])->[0]{text}, 'wake after the reload',
       'woken by the next message');
    my $nw = $got->{headers}{'x-worker'} // '';
    ok((grep { $_ eq $nw } @new), 'by a new worker');

    ok($ngx->stop(10), 'nginx stops gracefully');

    my @a = alerts($ngx);
    ok(!@a, 'no alert in the error log') or diag join "\n", @a;
    unlike($ngx->error_log, qr/open socket/, 'no open socket left');
};


done_testing;
