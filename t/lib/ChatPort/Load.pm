package ChatPort::Load;

# A steady, bounded load for the fault tests: V visitors, each with P
# polls that stay parked and re-poll from their own cursor (every second
# one on a kept-alive connection, as browsers do), O operators' inbox
# polls (fault_bed's agent location) doing the same, and a poster that
# sends one message every `interval` seconds (round robin over the
# visitors, at most `inflight` at once), recording the id of every 201.
# Everything runs in this process on non-blocking sockets: ->run(S) pumps
# it for S seconds while the test does something to Redis or nginx.
#
#   my $load = ChatPort::Load->new(port => $ngx->port, site => 't100',
#                                  redis_port => $redis->port);
#   $load->start;                      # opens the conversations and polls
#   $load->run(2);
#   ... fault ...
#   $load->run(2);
#   $load->recover(20);                # until every poll answers again
#   $load->settle(20);                 # no new posts; polls catch up
#   $load->check('after the fault');   # the assertions (Test::More)
#
# What ->check asserts: every message answered 201 is in its Redis
# stream exactly once (by id and by its unique text); no poll was given
# a message twice, or one not newer than the cursor it asked with; every
# poll has seen every 201 message of its visitor (an inbox poll: of every
# visitor), and answered with messages after the mark; no request hung
# past its bound; no status other than the expected ones. A 503 or a
# dropped connection may still have stored the message: only "201 =>
# stored" is asserted (and that such a message is stored at most once);
# the figures count them.

use strict;
use warnings;

use Exporter 'import';
use IO::Select;
use IO::Socket::INET;
use MIME::Base64 qw(encode_base64);
use Socket qw(SOL_SOCKET SO_LINGER);
use Test::More;
use Time::HiRes qw(time sleep);

use ChatPort::Harness;

our @EXPORT = qw(fault_bed soak figures redis_clients redis_links_settle
                 redis_proxy rst);

# a kept-alive connection the server has closed must not kill the test
$SIG{PIPE} = 'IGNORE';

# the operator of fault_bed's agent location
my $OPERATOR = 'Basic ' . encode_base64('op:pw', '');


sub new {
    my ($class, %o) = @_;

    my $self = bless {
        port       => $o{port},
        site       => $o{site},
        redis_port => $o{redis_port},
        nvisitors  => $o{visitors} // 8,
        npolls     => $o{polls} // 2,          # per visitor
        ninbox     => $o{operators} // 2,      # operators' inbox polls
        interval   => $o{interval} // 0.05,    # between posts; 0: none
        inflight   => $o{inflight} // 4,
        retry      => $o{retry} // 0.2,        # before a failed poll again
        # a failover may lose a message a poll was given (one not
        # answered 201): its cursor is then ahead of the stream, a 400
        # invalid_cursor until newer messages come, counted, no problem
        lost_cursor => $o{lost_cursor} // 0,
        poll_bound => $o{poll_bound} // 15,    # longest wait for an answer
        post_bound => $o{post_bound} // 8,
        tick       => $o{tick} // 0.02,        # longest wait in the loop
        sel        => IO::Select->new,
        posting    => 0,
        seq        => 0,
        turn       => 0,
        open       => {},                       # fileno => request
        visitors   => [],
        chains     => [],
        stats      => { post => {}, poll => {} },
        problems   => [],                       # strings, capped
        nproblems  => 0,
        hung       => 0,
        mark       => 0,
    }, $class;

    return $self;
}

sub visitors { @{ $_[0]{visitors} } }

# the Redis ->check reads (after a failover: the new master)
sub redis_port {
    my ($self, $port) = @_;
    $self->{redis_port} = $port if $port;
    return $self->{redis_port};
}
sub chains   { @{ $_[0]{chains} } }

sub problem {
    my ($self, $text) = @_;
    $self->{nproblems}++;
    push @{ $self->{problems} }, $text if @{ $self->{problems} } < 20;
}

# stream ids "ms-seq": is $a after $b?
sub newer {
    my ($a, $b) = @_;
    my ($am, $as) = split /-/, $a;
    my ($bm, $bs) = split /-/, $b;
    return $am > $bm || ($am == $bm && $as > $bs);
}

# opens the conversations (a first message each, retried while Redis
# warms up) and their polls, and starts posting
sub start {
    my ($self) = @_;

    for my $i (1 .. $self->{nvisitors}) {
        my $v = ChatPort::Harness::visitor(port => $self->{port});
        my $text = "$self->{site} v$i m0";
        my $res;

        ChatPort::Harness::wait_until(sub {
            $res = $v->post($text);
            $res->{status} == 201;
        }, 10, 0.1);

        die "load: the first message of visitor $i: $res->{status}\n"
            unless $res->{status} == 201;

        my $vis = { n => $i, v => $v, stored => [],
                    cid => ChatPort::Harness::cid_of($v->vid) };
        $self->record_201($vis, $text, $res->{json}{id});
        push @{ $self->{visitors} }, $vis;

        for my $j (1 .. $self->{npolls}) {
            push @{ $self->{chains} },
                { name => "visitor $i", vis => $vis,
                  cursor => $res->{json}{id},
                  seen => { $res->{json}{id} => 1 },
                  got => { "$vis->{cid} $res->{json}{id}" => 1 },
                  next => 0, fresh => 0, keepalive => $j % 2 == 0 };
        }
    }

    # the operators' inbox from its start: every message of every visitor
    for my $k (1 .. $self->{ninbox}) {
        push @{ $self->{chains} },
            { name => "inbox $k", inbox => 1, cursor => '0-0', seen => {},
              got => {}, next => 0, fresh => 0, keepalive => $k % 2 == 0 };
    }

    $self->{posting} = 1;
    $self->{next_post} = time;
    return $self;
}

sub record_201 {
    my ($self, $vis, $text, $id) = @_;
    push @{ $vis->{stored} }, { id => $id, text => $text };
}

sub posting {
    my ($self, $on) = @_;
    $self->{posting} = $on ? 1 : 0;
    $self->{next_post} = time;
}

# polls must answer (with messages) after this point
sub mark {
    my ($self) = @_;
    $self->{mark} = time;
    $_->{fresh} = 0 for @{ $self->{chains} };
}

sub stats { $_[0]{stats} }

sub posts_open { $_[0]{posts_open} // 0 }

# "201 x40, 503 x3" of posts or polls
sub summary {
    my ($self, $kind) = @_;
    my $c = $self->{stats}{$kind};
    return join ', ', map { "$_ x$c->{$_}" } sort keys %$c;
}


# ------------------------------------------------------------ requests

# $keep: a poll chain that keeps its connection alive between requests
sub send_request {
    my ($self, $req, $bound, $cb, $keep) = @_;

    my $s = $keep ? delete $keep->{sock} : undef;

    # a kept connection the server has closed (or written to) meanwhile
    if ($s && IO::Select->new($s)->can_read(0)) {
        close $s;
        undef $s;
    }

    $self->{reused}++ if $s;

    $s ||= IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                 PeerPort => $req->{port},
                                 Proto => 'tcp', Timeout => 2);
    unless ($s) {
        $cb->({ status => 0, error => "connect: $!" });
        return;
    }

    my $text = ChatPort::Harness::build_request($req);
    my $n = syswrite $s, $text;

    unless (defined $n && $n == length $text) {
        close $s;
        $cb->({ status => 0, error => 'write' });
        return;
    }

    $s->blocking(0);
    $self->{sel}->add($s);
    $self->{open}{ fileno $s } = { sock => $s, buf => '', cb => $cb,
                                   keep => $keep, until => time + $bound };
}

sub finish_request {
    my ($self, $fd, $res) = @_;
    my $r = delete $self->{open}{$fd};
    $self->{sel}->remove($r->{sock});

    if ($r->{keep} && $res->{status} && !$res->{closed}
        && ($res->{headers}{connection} // '') !~ /close/i)
    {
        $r->{keep}{sock} = $r->{sock};
    } else {
        close $r->{sock};
    }

    $r->{cb}->($res);
}

sub pending { scalar keys %{ $_[0]{open} } }

sub send_post {
    my ($self) = @_;
    my @vis = @{ $self->{visitors} };
    my $vis = $vis[ $self->{seq} % @vis ];
    my $text = "$self->{site} v$vis->{n} m" . ++$self->{seq};

    $self->{posts_open}++;

    $self->send_request($vis->{v}->post_request($text), $self->{post_bound},
                        sub { $self->post_done($vis, $text, @_) });
}

sub post_done {
    my ($self, $vis, $text, $res) = @_;

    $self->{posts_open}--;
    $self->{stats}{post}{ $res->{status} }++;

    if ($res->{status} == 201) {
        my $id = $res->{json}{id} // '';
        if ($id =~ /^\d+-\d+$/) {
            $self->record_201($vis, $text, $id);
        } else {
            $self->problem("a 201 without an id: $res->{body}");
        }

    } elsif ($res->{status} == 503 || $res->{status} == 0) {
        push @{ $vis->{unsure} }, $text;

    } else {
        $self->problem("POST answered $res->{status}: "
                       . ($res->{body} // ''));
    }

    $self->{hung}++, $self->problem("a POST hung: $text")
        if ($res->{error} // '') eq 'timeout';
}

sub send_poll {
    my ($self, $ch) = @_;
    my $asked = $ch->{cursor};

    $ch->{busy} = 1;
    my %h = $ch->{keepalive} ? (Connection => 'keep-alive') : ();

    my $req = $ch->{inbox}
        ? { port => $self->{port}, method => 'GET',
            path => "/chatport/agent/poll?after=$asked",
            headers => { %h, Authorization => $OPERATOR } }
        : $ch->{vis}{v}->poll_request($asked, headers => \%h);

    $self->send_request($req, $self->{poll_bound},
                        sub { $self->poll_done($ch, $asked, @_) },
                        $ch->{keepalive} ? $ch : undef);
}

sub poll_done {
    my ($self, $ch, $asked, $res) = @_;

    $ch->{busy} = 0;
    $self->{stats}{poll}{ $res->{status} }++;

    if ($res->{status} != 200 || !$res->{json}) {
        $ch->{next} = time + $self->{retry};

        if ($self->{lost_cursor} && $res->{status} == 400
            && ($res->{json}{error} // '') eq 'invalid_cursor')
        {
            $self->{cursor_lost}++;

        } elsif ($res->{status} != 503 && $res->{status} != 0) {
            $self->problem("a poll answered $res->{status}: "
                           . ($res->{body} // ''));
        }

        $self->{hung}++, $self->problem("a poll hung (after $asked)")
            if ($res->{error} // '') eq 'timeout';
        return;
    }

    # a visitor's messages, or the inbox's events (with their message)
    my @items = @{ $res->{json}{ $ch->{inbox} ? 'events' : 'messages' }
                   || [] };

    for my $m (@items) {
        my $id = $m->{id} // '';

        # a message is its conversation's id and its id in there
        my $mid = $ch->{inbox}
                  ? $m->{message} && "$m->{conversation} $m->{message}{id}"
                  : "$ch->{vis}{cid} $id";

        if ($ch->{seen}{$id}++ || ($mid && $ch->{got}{$mid}++)) {
            $self->{dup_delivered}++;
            $self->problem("$ch->{name}: $id delivered twice");

        } elsif (!newer($id, $asked)) {
            $self->{old_delivered}++;
            $self->problem("$ch->{name}: $id is not after $asked");
        }
    }

    $ch->{fresh}++ if @items;

    my $cursor = $res->{json}{cursor} // '';
    if ($cursor =~ /^\d+-\d+$/) {
        $ch->{cursor} = $cursor;
    } else {
        $self->problem("a poll answer without a cursor: $res->{body}");
    }

    $ch->{next} = 0;
}


# ------------------------------------------------------------ the loop

# one round: starts what is due, reads what arrived, waits at most $wait
sub step {
    my ($self, $wait) = @_;
    my $now = time;

    if ($self->{posting} && $self->{interval}) {
        while ($self->{next_post} <= $now
               && $self->posts_open < $self->{inflight})
        {
            $self->send_post;
            $self->{next_post} += $self->{interval};
        }
        # never catch up a backlog in a burst
        $self->{next_post} = $now if $self->{next_post} < $now - 1;
    }

    # a few hundred connects at a time, within nginx's listen backlog,
    # taking turns
    my $chains = $self->{chains};
    my $burst = 200;

    for (1 .. @$chains) {
        my $ch = $chains->[ $self->{turn}++ % @$chains ];
        next if $ch->{busy} || $ch->{next} > $now;
        $self->send_poll($ch);
        last unless --$burst;
    }

    unless (%{ $self->{open} }) {
        sleep $wait if $wait > 0;
        return;
    }

    for my $s ($self->{sel}->can_read($wait)) {
        my $fd = fileno $s;
        my $r = $self->{open}{$fd} or next;
        my $n = sysread $s, $r->{buf}, 65536, length $r->{buf};

        next if !defined $n && ($!{EAGAIN} || $!{EWOULDBLOCK});

        my $eof = !$n;
        my $res = ChatPort::Harness::parse_response($r->{buf}, $eof);

        if ($res) {
            $res->{closed} = $eof ? 1 : 0;
            $self->finish_request($fd, $res);
        } elsif ($eof) {
            $self->finish_request($fd, { status => 0, error => 'closed',
                                         body => $r->{buf} });
        }
    }

    $now = time;
    for my $fd (keys %{ $self->{open} }) {
        next if $self->{open}{$fd}{until} > $now;
        $self->finish_request($fd, { status => 0, error => 'timeout' });
    }
}

sub run {
    my ($self, $secs) = @_;
    my $deadline = time + $secs;
    while (time < $deadline) {
        my $left = $deadline - time;
        $self->step($left < $self->{tick} ? $left : $self->{tick});
    }
}

# runs until $cond is true (at most $secs); returns its last value
sub run_until {
    my ($self, $cond, $secs) = @_;
    my $deadline = time + $secs;
    while (1) {
        my $v = $cond->();
        return $v if $v || time >= $deadline;
        $self->step($self->{tick});
    }
}

# marks, posts, and runs until every poll has answered with messages
# again (at most $secs); true when they all did
sub recover {
    my ($self, $secs) = @_;
    $self->mark;
    $self->posting(1);
    return $self->run_until(sub {
        !grep { !$_->{fresh} } @{ $self->{chains} };
    }, $secs);
}

# no new posts; waits for the open ones and for every poll to have seen
# every 201 of its visitor (at most $secs); true when all caught up
sub settle {
    my ($self, $secs) = @_;
    $self->posting(0);
    return $self->run_until(sub {
        return !$self->posts_open && !$self->missing;
    }, $secs);
}

# how many (poll, 201 message) pairs the polls have not seen
sub missing {
    my ($self) = @_;
    my $n = 0;
    $n += $self->unseen($_) for @{ $self->{chains} };
    return $n;
}

# the 201 messages a poll chain should have had and has not
sub unseen {
    my ($self, $ch) = @_;
    my @vis = $ch->{inbox} ? @{ $self->{visitors} } : ($ch->{vis});
    return map {
        my $cid = $_->{cid};
        grep { !$ch->{got}{"$cid $_->{id}"} } @{ $_->{stored} };
    } @vis;
}

# closes a socket with a reset, as a client that vanishes
sub rst {
    my ($s) = @_;
    setsockopt($s, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0));
    close $s;
}

# closes every connection at once (RST), as clients that leave
sub abandon {
    my ($self) = @_;
    for my $fd (keys %{ $self->{open} }) {
        my $r = delete $self->{open}{$fd};
        $self->{sel}->remove($r->{sock});
        rst($r->{sock});
    }
    for my $ch (@{ $self->{chains} }) {
        rst(delete $ch->{sock}) if $ch->{sock};
        $ch->{busy} = 0;
        $ch->{next} = time;
    }
    $self->{posts_open} = 0;
}

sub stop {
    my ($self) = @_;
    $self->posting(0);
    for my $fd (keys %{ $self->{open} }) {
        my $r = delete $self->{open}{$fd};
        $self->{sel}->remove($r->{sock});
        close $r->{sock};
    }
    for my $ch (@{ $self->{chains} }) {
        close delete $ch->{sock} if $ch->{sock};
        $ch->{busy} = 0;
    }
    $self->{posts_open} = 0;
}


# ------------------------------------------------------------ the check

sub stream_key {
    my ($self, $vis) = @_;
    return ChatPort::Harness::conv_key($self->{site}, $vis->{v}->vid)
           . ':msgs';
}

# Test::More assertions (see the top); returns the figures
sub check {
    my ($self, $what) = @_;
    my %f = (stored => 0, lost => 0, stored_twice => 0, stored_anyway => 0,
             dup_delivered => 0,
             old_delivered => 0, unseen => 0, stale_polls => 0);

    for my $vis (@{ $self->{visitors} }) {
        my $entries = ChatPort::Harness::redis_cmd($self->{redis_port},
            'XRANGE', $self->stream_key($vis), '-', '+');
        my (%by_id, %by_text);

        for my $e (@$entries) {
            my %fields = @{ $e->[1] };
            $by_id{ $e->[0] } = $fields{text} // '';
            $by_text{ $fields{text} // '' }++;
        }

        # a 503 or no answer may have been stored anyway (at most once)
        for my $text (@{ $vis->{unsure} || [] }) {
            next unless $by_text{$text};
            $f{stored_anyway}++;
            $f{stored_twice}++, $self->problem("stored twice: \"$text\"")
                if $by_text{$text} > 1;
        }

        for my $m (@{ $vis->{stored} }) {
            $f{stored}++;
            if (!exists $by_id{ $m->{id} } || $by_id{ $m->{id} } ne $m->{text})
            {
                $f{lost}++;
                $self->problem("lost: $m->{id} \"$m->{text}\"");
            } elsif ($by_text{ $m->{text} } > 1) {
                $f{stored_twice}++;
                $self->problem("stored $by_text{ $m->{text} } times: "
                               . "\"$m->{text}\"");
            }
        }
    }

    $f{dup_delivered} = $self->{dup_delivered} // 0;
    $f{old_delivered} = $self->{old_delivered} // 0;
    $f{unseen} = $self->missing;

    for my $ch (grep { $f{unseen} } @{ $self->{chains} }) {
        my @not = $self->unseen($ch);
        splice @not, 5;
        $self->problem("$ch->{name}: a poll at $ch->{cursor} has not seen "
                       . join ' ', map { $_->{id} } @not)
            if @not;
    }
    $f{hung} = $self->{hung};

    if ($self->{mark}) {
        $f{stale_polls} = grep { !$_->{fresh} } @{ $self->{chains} };
    }

    $f{problems} = $self->{nproblems};

    # every assertion runs, also after a failed one
    my @ok = (
        cmp_ok($f{stored}, '>', $self->{nvisitors},
               "$what: messages were answered 201 under the load"),
        is($f{lost}, 0, "$what: every 201 message is in the stream"),
        is($f{stored_twice}, 0, "$what: each of them once"),
        is($f{dup_delivered}, 0, "$what: no poll got a message twice"),
        is($f{old_delivered}, 0,
           "$what: no poll got a message at or before its cursor"),
        is($f{unseen}, 0, "$what: every poll saw every 201 message"),
        is($f{stale_polls}, 0,
           "$what: every poll answered with messages after the fault"),
        is($f{hung}, 0, "$what: no request hung"),
        is($f{problems}, 0, "$what: nothing unexpected"));

    figures(sprintf '%s: posts %s; polls %s (%d on a kept-alive '
                 . 'connection); %d stored, %d lost, %d stored twice, %d '
                 . 'delivered twice; %d not answered 201 but stored; %d '
                 . 'polls after a lost message', $what,
                 $self->summary('post'), $self->summary('poll'),
                 $self->{reused} // 0, $f{stored}, $f{lost},
                 $f{stored_twice}, $f{dup_delivered}, $f{stored_anyway},
                 $self->{cursor_lost} // 0);
    diag join "\n", @{ $self->{problems} } if grep { !$_ } @ok;

    return \%f;
}


# ------------------------------------------------------------ the bed

# CHATPORT_SOAK=N (make soak): the long versions; 0 in make test
sub soak { $ENV{CHATPORT_SOAK} || 0 }

# what was measured: shown by make soak, a note in make test
sub figures {
    my ($text) = @_;
    soak() ? diag($text) : note($text);
}

# a private Redis with an append-only file (and DEBUG allowed), and an
# nginx of 2 workers on it (with proxy => 1, through a redis_proxy;
# log_allow as for start_nginx), with no limit on new conversations:
# (redis, nginx, proxy). redis => an object: that one instead; redis_conf
# => the directives that name it (chatport_redis_sentinel ...).
sub fault_bed {
    my (%o) = @_;

    my $redis = $o{redis} || ChatPort::Harness::start_redis(appendonly => 1,
        args => ['--enable-debug-command', 'yes',
                 @{ $o{redis_args} || [] }]);
    my $proxy = $o{proxy} && redis_proxy($redis->port);
    my $rport = $proxy ? $proxy->port : $redis->port;
    my $timeout = $o{redis_timeout} // '500ms';
    my $poll = $o{poll_timeout} // '3s';

    my $ngx = ChatPort::Harness::start_nginx(
        workers => $o{workers} // 2,
        redis_port => $rport,
        main => $o{main},
        listen => $o{listen},
        worker_connections => $o{worker_connections},
        log_allow => $o{log_allow},
        http => ($o{redis_conf} // "chatport_redis 127.0.0.1:$rport;\n")
              . "chatport_redis_timeout $timeout;\n",
        server => <<"_EOC_");
        chatport_site $o{site};

        location /chatport/ {
            chatport;
            chatport_poll_timeout $poll;
            chatport_history 1000000;
            chatport_chat_rate 100000/1m site=100000/1m;
        }

        location /chatport/agent/ {
            chatport_agent;
            chatport_poll_timeout $poll;
            auth_basic ops;
            auth_basic_user_file htpasswd;
        }
_EOC_

    # read per request, relative to conf/
    open my $fh, '>', $ngx->dir . '/conf/htpasswd' or die "htpasswd: $!";
    print $fh "op:{PLAIN}pw\n";
    close $fh;

    return ($redis, $ngx, $proxy);
}

# A TCP proxy to Redis in a child process that can cut the connections
# it carries without closing them, as a network partition or a firewall
# that forgot them would: ->freeze (SIGUSR1) stops forwarding on every
# connection open now; new connections are forwarded. ->stop.
sub redis_proxy {
    my ($rport) = @_;

    my $listen = IO::Socket::INET->new(Listen => 64, LocalAddr => '127.0.0.1',
                                       LocalPort => 0, ReuseAddr => 1,
                                       Proto => 'tcp')
        or die "proxy: $!";
    my $port = $listen->sockport;

    my $pid = ChatPort::Harness::background(sub {
        my (%peer, %dead);
        my $freeze = 0;
        local $SIG{USR1} = sub { $freeze = 1 };
        my $sel = IO::Select->new($listen);

        while (1) {
            if ($freeze) {
                $freeze = 0;
                for my $s (values %peer) {
                    $sel->remove($s);
                    $dead{ fileno $s } = $s;     # kept open, never read
                }
                %peer = ();
            }

            for my $s ($sel->can_read(0.1)) {
                if ($s == $listen) {
                    my $c = $listen->accept or next;
                    my $r = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                                  PeerPort => $rport,
                                                  Proto => 'tcp')
                        or next;
                    $peer{ fileno $c } = $r;
                    $peer{ fileno $r } = $c;
                    $sel->add($c, $r);
                    next;
                }

                my $to = $peer{ fileno $s } or next;
                my $n = sysread $s, my $buf, 65536;

                if (!$n) {
                    delete $peer{ fileno $s };
                    delete $peer{ fileno $to };
                    $sel->remove($s, $to);
                    close $s;
                    close $to;
                    next;
                }

                syswrite $to, $buf;
            }
        }
    });

    close $listen;
    return bless { port => $port, pid => $pid }, 'ChatPort::Load::Proxy';
}

sub ChatPort::Load::Proxy::port   { $_[0]{port} }
sub ChatPort::Load::Proxy::freeze { kill 'USR1', $_[0]{pid} }

sub ChatPort::Load::Proxy::stop {
    my ($self) = @_;
    kill 'KILL', $self->{pid};
    ChatPort::Harness::reap($self->{pid}, 5);
}

# Redis's connected_clients (this query's own connection included)
sub redis_clients {
    my ($port) = @_;
    my $info = ChatPort::Harness::redis_cmd($port, 'INFO', 'clients');
    return $info =~ /^connected_clients:(\d+)/m ? $1 : -1;
}

# every worker's two links (and the query's own connection) and no more,
# within a few seconds; returns the last count
sub redis_links_settle {
    my ($port, $workers) = @_;
    my $n;
    ChatPort::Harness::wait_until(sub {
        $n = redis_clients($port);
        $n == 2 * $workers + 1;
    }, 10, 0.2);
    return $n;
}


1;
