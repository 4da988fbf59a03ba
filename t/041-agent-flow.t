# The operator's side with real clients (the visitor's cookie carried
# between requests): a visitor opens a conversation, the operator lists
# it with page, referrer and user agent, reads it, replies (the visitor's
# parked poll gets the reply), closes it, and the inbox long-poll tells
# each step. Then: tenant isolation between two sites, chatport_hours
# in several time zones around the current time, and chatport_notify
# to a capturing webhook and to failing ones.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(time sleep);
use POSIX ();
use IO::Socket::INET;
use IO::Select;
use MIME::Base64 qw(encode_base64);
use File::Temp ();
use JSON::PP ();

use lib 't/lib';
use ChatPort::Harness;

require_env();

my $redis = shared_redis_port();
my ($SA, $SB, $SH) = ('t041a', 't041b', 't041h');
my $ID = qr/^\d+-\d+$/;

# a clean slate for this file's sites in the shared Redis
for my $site ($SA, $SB, $SH) {
    my $keys = redis_cmd($redis, 'KEYS', "chatport:{$site}:*");
    redis_cmd($redis, 'DEL', @$keys) if ref $keys && @$keys;
}

my $tmp = File::Temp::tempdir("chatport-041-XXXXXX", TMPDIR => 1,
                              CLEANUP => !$ENV{CHATPORT_KEEP});

open my $fh, '>', "$tmp/htpasswd" or die "$tmp/htpasswd: $!";
print $fh "alice:{PLAIN}secret\nbob:{PLAIN}pw\n";
close $fh;

my %AUTH = (alice => 'Basic ' . encode_base64('alice:secret', ''),
            bob => 'Basic ' . encode_base64('bob:pw', ''));


# ------------------------------------------------------ the notify webhook

# a tiny HTTP server in a child: saves each request it gets, raw, as
# $tmp/hook.N (N from 1), answers 204; the first answer only after
# $o{delay} seconds
my $hook = IO::Socket::INET->new(Listen => 16, LocalAddr => '127.0.0.1',
                                 LocalPort => 0, ReuseAddr => 1, Proto => 'tcp')
    or die "hook listen: $!";
my $hook_port = $hook->sockport;
my $dead_port = free_port();      # nothing listens there

my $hook_pid = background(sub {
    my $n = 0;
    my $deadline = time + 60;
    my $sel = IO::Select->new($hook);

    while (time < $deadline) {
        next unless $sel->can_read(0.5);
        my $c = $hook->accept or next;
        $n++;

        my $buf = '';
        my $until = time + 5;
        my $csel = IO::Select->new($c);

        while (time < $until) {
            my $end = index $buf, "\r\n\r\n";
            if ($end >= 0) {
                my ($len) = substr($buf, 0, $end) =~ /^Content-Length:\s*(\d+)/mi;
                last if length($buf) >= $end + 4 + ($len // 0);
            }
            last unless $csel->can_read($until - time);
            my $r = sysread $c, $buf, 65536, length $buf;
            last unless $r;
        }

        open my $out, '>', "$tmp/hook.$n.part" or die $!;
        binmode $out;
        print $out $buf;
        close $out;
        rename "$tmp/hook.$n.part", "$tmp/hook.$n";

        sleep 1.5 if $n == 1;

        syswrite $c, "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";
        close $c;
    }
});

close $hook;

sub hook_request {
    my ($n) = @_;
    my $file = "$tmp/hook.$n";
    return undef unless -e $file;
    open my $in, '<', $file or return undef;
    binmode $in;
    local $/;
    my $raw = <$in>;
    close $in;

    my ($head, $body) = split /\r\n\r\n/, $raw, 2;
    my ($line, @h) = split /\r\n/, $head;
    my %h;
    for (@h) {
        my ($k, $v) = /^([^:]+):\s*(.*)$/ or next;
        $h{lc $k} = $v;
    }
    my $json = eval { JSON::PP->new->utf8->decode($body) };
    return { raw => $raw, line => $line, headers => \%h, body => $body,
             json => $json };
}


# ------------------------------------------------------------------ nginx

my $port_b = free_port();

my $agent_location = <<"_EOC_";
        location /chatport/agent/ {
            chatport_agent;
            auth_basic "ops";
            auth_basic_user_file $tmp/htpasswd;
            chatport_poll_timeout 2s;
        }
_EOC_

my $ngx = start_nginx(server => <<"_EOC_", http => <<"_EOC_");
        chatport_site $SA;

        location /chatport/ {
            chatport;
            chatport_poll_timeout 5s;
        }

$agent_location

        location /n/ {
            chatport;
            chatport_notify /hook;
        }

        location /dead/ {
            chatport;
            chatport_notify /deadhook;
        }

        location /err/ {
            chatport;
            chatport_notify /hook500;
        }

        location = /hook {
            internal;
            proxy_pass http://127.0.0.1:$hook_port/capture;
        }

        location = /deadhook {
            internal;
            proxy_pass http://127.0.0.1:$dead_port/capture;
        }

        location = /hook500 {
            internal;
            return 500;
        }
_EOC_
    server {
        listen 127.0.0.1:$port_b;
        server_name localhost;
        chatport_site $SB;

        location /chatport/ {
            chatport;
            chatport_poll_timeout 2s;
        }

$agent_location
    }
_EOC_

my $pa = $ngx->port;

# an operator's request: agent($port, METHOD, 'path below /chatport/agent/',
# body, user => 'bob', headers => {...})
sub agent {
    my ($port, $method, $path, $body, %o) = @_;
    my %h = (Authorization => $AUTH{ $o{user} || 'alice' },
             %{ $o{headers} || {} });
    return http_request(port => $port, method => $method,
                        path => "/chatport/agent/$path", headers => \%h,
                        (defined $body ? (body => $body) : ()),
                        timeout => $o{timeout} // 5);
}

sub conversations {
    my ($port, $query) = @_;
    my $res = agent($port, GET => 'conversations' . ($query // ''));
    return $res->{json} ? $res->{json}{conversations} : undef;
}

sub find_conv {
    my ($list, $cid) = @_;
    my ($c) = grep { $_->{id} eq $cid } @{ $list || [] };
    return $c;
}

sub config_online {
    my ($port, $prefix) = @_;
    my $res = http_request(port => $port, path => ($prefix // '/chatport/')
                                                  . 'config');
    return undef unless $res->{status} == 200 && $res->{json};
    return $res->{json}{online} ? 1 : 0;
}

sub ts_of { (split /-/, $_[0])[0] }

sub id_cmp {
    my ($x, $y) = @_;
    my ($am, $as) = split /-/, $x;
    my ($bm, $bs) = split /-/, $y;
    return $am <=> $bm || $as <=> $bs;
}

sub log_clean {
    my ($offset, $what) = @_;
    my @bad = grep { /\[(alert|crit|emerg)\]/ }
              split /\n/, $ngx->log_since($offset);
    ok(!@bad, "no alert in the error log: $what") or diag join "\n", @bad;
}


# ------------------------------------------------------------- the flow

my ($v, $cid, @vids);

subtest 'visitor opens a conversation, operator lists, reads, replies, closes' => sub {
    my $log = $ngx->log_size;

    $v = visitor(port => $pa, ua => 'FlowUA/1.0 (test)');
    my $res = $v->post('Hello, I have a question',
                       page => 'https://shop.test/p/42',
                       headers => { Referer => 'https://search.test/?q=shoes' });
    is($res->{status}, 201, 'visitor: first message 201') or diag explain $res;
    my $m1 = $res->{json}{id} // '';
    like($m1, $ID, 'visitor: message id');
    ok($v->vid, 'visitor: got a chatport_vid cookie');
    $cid = cid_of($v->vid // '');

    # a second visitor, later: newest first in the list
    my $w = visitor(port => $pa, ua => 'OtherUA/2');
    $res = $w->post('second visitor here', page => 'https://shop.test/');
    is($res->{status}, 201, 'second visitor: 201');
    my $wcid = cid_of($w->vid // '');

    $res = agent($pa, GET => 'conversations');
    is($res->{status}, 200, 'operator: GET conversations 200');
    is($res->{headers}{'content-type'}, 'application/json; charset=utf-8',
       'operator: JSON');
    my $list = $res->{json}{conversations} || [];
    is(scalar @$list, 2, 'operator: two conversations') or diag $res->{body};
    is_deeply([ map { $_->{id} } @$list ], [ $wcid, $cid ],
              'operator: newest activity first, ids are the CIDs');

    my $c = find_conv($list, $cid) || {};
    is($c->{status}, 'open', 'conversation: open');
    is($c->{page}, 'https://shop.test/p/42', 'conversation: page');
    is($c->{first_page}, 'https://shop.test/p/42', 'conversation: first_page');
    is($c->{referrer}, 'https://search.test/?q=shoes', 'conversation: referrer');
    is($c->{user_agent}, 'FlowUA/1.0 (test)', 'conversation: user agent');
    is($c->{unread}, 1, 'conversation: 1 unread');
    is($c->{created}, ts_of($m1), 'conversation: created at the first message');
    is($c->{updated}, ts_of($m1), 'conversation: updated at the first message');
    is_deeply($c->{last}, { id => $m1, from => 'visitor', ts => ts_of($m1) + 0,
                            text => 'Hello, I have a question' },
              'conversation: the last message');
    unlike($res->{body}, qr/\Q${\ ($v->vid)}\E/,
           "the visitor's secret id is nowhere in the operator's list");

    $res = agent($pa, GET => 'conversations?limit=1');
    is_deeply([ map { $_->{id} } @{ $res->{json}{conversations} || [] } ],
              [ $wcid ], 'limit=1: only the newest');

    # the first visitor goes on, from another page: newest again
    $res = $v->post('Do you ship to Osaka?', page => 'https://shop.test/shipping');
    is($res->{status}, 201, 'visitor: second message 201');
    my $m2 = $res->{json}{id} // '';
    is_deeply($res->{set_cookie}, [], 'visitor: no new cookie');

    $list = conversations($pa);
    is($list->[0]{id}, $cid, 'the first visitor is newest again');
    $c = find_conv($list, $cid) || {};
    is($c->{page}, 'https://shop.test/shipping', 'page: the latest one');
    is($c->{first_page}, 'https://shop.test/p/42', 'first_page: kept');
    is($c->{unread}, 2, '2 unread');
    is($c->{updated}, ts_of($m2), 'updated at the second message');

    # reading marks it read
    $res = agent($pa, GET => "conversations/$cid/messages");
    is($res->{status}, 200, 'operator: read 200');
    is_deeply($res->{json},
              { messages => [
                    { id => $m1, from => 'visitor', ts => ts_of($m1) + 0,
                      text => 'Hello, I have a question' },
                    { id => $m2, from => 'visitor', ts => ts_of($m2) + 0,
                      text => 'Do you ship to Osaka?' } ],
                cursor => $m2 },
              'operator: both messages, in order, and the cursor')
        or diag $res->{body};

    $c = find_conv(conversations($pa), $cid) || {};
    is($c->{unread}, 0, 'read: unread 0');

    $res = agent($pa, GET => "conversations/$cid/messages?after=$m1");
    is_deeply([ map { $_->{id} } @{ $res->{json}{messages} || [] } ], [ $m2 ],
              'operator: after=ID gives the newer ones');
    is($res->{json}{cursor}, $m2, 'operator: cursor');

    $res = agent($pa, GET => "conversations/$cid/messages?after=$m2");
    is_deeply($res->{json}, { messages => [], cursor => $m2 },
              'operator: nothing after the last, cursor kept');

    $res = agent($pa, GET => "conversations/$cid/messages?after=9999999999999-0");
    is($res->{status}, 400, 'operator: a cursor ahead of the conversation: 400');
    is($res->{json}{error}, 'invalid_cursor', '... invalid_cursor');

    # the visitor's poll is parked; the operator's reply wakes it
    my $poll = open_requests([ $v->poll_request($m2) ]);
    sleep 0.3;
    is(scalar @{ [ grep { defined } @{ $poll->done } ] }, 0,
       'visitor poll: parked');

    $res = agent($pa, POST => "conversations/$cid/messages",
                 { text => 'Yes, we do! 大阪へ発送できます' });
    is($res->{status}, 201, 'operator: reply 201') or diag explain $res;
    my $r1 = $res->{json}{id} // '';
    like($r1, $ID, 'operator: reply id');
    ok(id_cmp($m2, $r1) < 0, 'the reply comes after the visitor message');

    my $pres = $poll->collect(timeout => 6)->[0];
    is($pres->{status}, 200, 'visitor poll: 200');
    cmp_ok($pres->{elapsed}, '<', 3, 'visitor poll: woken by the reply, not the timeout');
    is_deeply($pres->{json}{messages},
              [ { id => $r1, from => 'agent', agent => 'alice',
                  ts => ts_of($r1) + 0,
                  text => 'Yes, we do! 大阪へ発送できます' } ],
              'visitor poll: the reply, from agent alice')
        or diag $pres->{body};
    is($pres->{json}{cursor}, $r1, 'visitor poll: cursor');

    # bob too
    $res = agent($pa, POST => "conversations/$cid/messages",
                 { text => 'Bob here' }, user => 'bob');
    is($res->{status}, 201, 'bob: reply 201');
    my $r2 = $res->{json}{id} // '';

    $res = $v->history;
    is_deeply([ map { [ $_->{from}, $_->{agent} // '', $_->{text} ] }
                @{ $res->{json}{messages} || [] } ],
              [ [ 'visitor', '', 'Hello, I have a question' ],
                [ 'visitor', '', 'Do you ship to Osaka?' ],
                [ 'agent', 'alice', 'Yes, we do! 大阪へ発送できます' ],
                [ 'agent', 'bob', 'Bob here' ] ],
              "visitor history: both operators' replies, named");

    $c = find_conv(conversations($pa), $cid) || {};
    is($c->{last}{id}, $r2, 'list: the last message is the reply');
    is($c->{last}{agent}, 'bob', 'list: ... by bob');
    is($c->{unread}, 0, 'list: replies are not unread');
    is($c->{updated}, ts_of($r2), 'list: updated at the reply');

    # close
    $res = agent($pa, POST => "conversations/$cid/close", {});
    is($res->{status}, 204, 'operator: close 204') or diag explain $res;
    is($res->{body}, '', 'close: no body');

    $c = find_conv(conversations($pa), $cid) || {};
    is($c->{status}, 'closed', 'list: closed');
    is(find_conv(conversations($pa), $wcid)->{status}, 'open',
       'the other conversation is still open');

    # the inbox told every step, in order
    $res = agent($pa, GET => 'poll?after=0-0');
    is($res->{status}, 200, 'inbox poll: 200');
    my @ev = @{ $res->{json}{events} || [] };
    my @mine = grep { ($_->{conversation} // '') eq $cid } @ev;
    is_deeply([ map { $_->{type} } @mine ],
              [ qw(conversation message message message closed) ],
              'inbox: conversation, 3 messages, closed')
        or diag $res->{body};
    is_deeply([ map { $_->{type} } grep { ($_->{conversation} // '') eq $wcid } @ev ],
              [ 'conversation' ], "inbox: the other visitor's conversation");
    is(scalar @ev, 6, 'inbox: six events in all');
    ok((!grep { id_cmp($ev[$_ - 1]{id}, $ev[$_]{id}) >= 0 } 1 .. $#ev),
       'inbox: event ids increasing');
    is($res->{json}{cursor}, $ev[-1]{id}, 'inbox: cursor is the last event');
    is($mine[0]{page}, 'https://shop.test/p/42', 'conversation event: page');
    is($mine[0]{message}{text}, 'Hello, I have a question',
       'conversation event: the message');
    is($mine[0]{message}{id}, $m1, 'conversation event: the message id');
    is($mine[0]{ts}, ts_of($mine[0]{id}), 'event ts from its id');
    is($mine[2]{message}{from}, 'agent', 'message event: from agent');
    is($mine[2]{message}{agent}, 'alice', 'message event: agent alice');
    is($mine[3]{message}{agent}, 'bob', 'message event: agent bob');
    is($mine[1]{message}{text}, 'Do you ship to Osaka?', 'message event: text');
    ok(!exists $mine[4]{message}, 'closed event: no message');

    my $cursor = $res->{json}{cursor};

    # the poll after the last event is held, then empty
    $res = agent($pa, GET => "poll?after=$cursor");
    is($res->{status}, 200, 'inbox poll at the end: 200');
    is_deeply($res->{json}{events}, [], 'inbox poll at the end: no events');
    is($res->{json}{cursor}, $cursor, 'inbox poll at the end: cursor kept');
    cmp_ok($res->{elapsed}, '>=', 1.8, 'inbox poll held for chatport_poll_timeout (2s)');
    cmp_ok($res->{elapsed}, '<', 4, '... and not much longer');

    # a parked inbox poll is woken by a visitor's message
    my $ipoll = open_requests([ { port => $pa, method => 'GET',
                                  path => "/chatport/agent/poll?after=$cursor",
                                  headers => { Authorization => $AUTH{bob} } } ]);
    sleep 0.3;
    $res = $v->post('One more thing', page => 'https://shop.test/p/42');
    is($res->{status}, 201, 'visitor writes to the closed conversation: 201');
    my $m3 = $res->{json}{id} // '';
    my $ires = $ipoll->collect(timeout => 5)->[0];
    is($ires->{status}, 200, 'parked inbox poll: 200');
    cmp_ok($ires->{elapsed}, '<', 1.5, 'parked inbox poll: woken at once');
    is_deeply([ map { [ $_->{type}, $_->{conversation}, $_->{message}{id} ] }
                @{ $ires->{json}{events} || [] } ],
              [ [ 'message', $cid, $m3 ] ],
              'parked inbox poll: the message event')
        or diag $ires->{body};

    $c = find_conv(conversations($pa), $cid) || {};
    is($c->{unread}, 1, 'new visitor message: 1 unread');
    is($c->{status}, 'open', 'a visitor message reopens a closed conversation');

    $res = agent($pa, GET => "conversations/$cid/messages?after=$r2");
    is_deeply([ map { $_->{id} } @{ $res->{json}{messages} || [] } ], [ $m3 ],
              'operator reads the new message');
    is(find_conv(conversations($pa), $cid)->{unread}, 0,
       'reading with after= marks read too');

    log_clean($log, 'flow');
};


# ---------------------------------------------------- tenant isolation

subtest 'tenant isolation: an operator of site B cannot reach site A (and back)' => sub {
    plan skip_all => 'no conversation from the flow' unless $cid;
    my $log = $ngx->log_size;

    my $before = agent($pa, GET => "conversations/$cid/messages")->{json};
    my $a_conv = find_conv(conversations($pa), $cid) || {};
    my $a_close = $a_conv->{status};

    # site B's own conversation
    my $vb = visitor(port => $port_b, ua => 'B-UA');
    my $res = $vb->post('hello site B', page => 'https://b.test/');
    is($res->{status}, 201, 'site B visitor: 201');
    my $cidb = cid_of($vb->vid // '');

    my $lb = conversations($port_b);
    is_deeply([ map { $_->{id} } @{ $lb || [] } ], [ $cidb ],
              "B's operator lists only B's conversation");

    my $la = conversations($pa);
    ok(find_conv($la, $cid), "A's operator lists A's conversation");
    ok(!find_conv($la, $cidb), "A's operator does not list B's");

    for my $case ([ $port_b, $cid, 'B', 'A' ], [ $pa, $cidb, 'A', 'B' ]) {
        my ($port, $target, $who, $whose) = @$case;

        $res = agent($port, GET => "conversations/$target/messages");
        is($res->{status}, 403, "$who reads $whose\'s conversation: 403");
        is($res->{json}{error}, 'unknown_conversation', '... unknown_conversation');
        unlike($res->{body}, qr/hello|question|Osaka/, '... and no text of it');

        $res = agent($port, POST => "conversations/$target/messages",
                     { text => "intruder from $who" });
        is($res->{status}, 403, "$who replies to $whose\'s conversation: 403");
        is($res->{json}{error}, 'unknown_conversation', '... unknown_conversation');

        $res = agent($port, POST => "conversations/$target/close", {});
        is($res->{status}, 403, "$who closes $whose\'s conversation: 403");
        is($res->{json}{error}, 'unknown_conversation', '... unknown_conversation');
    }

    # nothing changed on A, nothing was created on B
    my $after = agent($pa, GET => "conversations/$cid/messages")->{json};
    is_deeply($after, $before, "A's conversation: same messages");
    is((find_conv(conversations($pa), $cid) || {})->{status}, $a_close,
       "A's conversation: status unchanged");
    is(redis_cmd($redis, 'EXISTS', "chatport:{$SB}:conv:$cid"), 0,
       "no conversation with A's id appeared on B");
    is((find_conv(conversations($port_b), $cidb) || {})->{status}, 'open',
       "B's conversation: still open");
    is(scalar @{ agent($port_b, GET => "conversations/$cidb/messages")
                 ->{json}{messages} || [] }, 1,
       "B's conversation: still one message");

    # B's inbox has B's events only
    $res = agent($port_b, GET => 'poll?after=0-0');
    is_deeply([ map { [ $_->{type}, $_->{conversation} ] }
                @{ $res->{json}{events} || [] } ],
              [ [ 'conversation', $cidb ] ], "B's inbox: only B's conversation")
        or diag $res->{body};

    # the visitor's cookie of A means nothing on B
    $res = http_request(port => $port_b, path => '/chatport/messages',
                        cookie => $v->cookie);
    is($res->{status}, 403, "A's visitor cookie on B: 403");
    unlike($res->{body} // '', qr/question/, "... without A's messages");

    # sessions tell each operator their site
    is(agent($pa, GET => 'session')->{json}{site}, $SA, 'session on A: site A');
    is(agent($port_b, GET => 'session')->{json}{site}, $SB, 'session on B: site B');

    log_clean($log, 'isolation');
};


# ------------------------------------------------------------- presence

# t/044-presence.t tests presence: a status kept until changed, and
# availability from a held console poll and chatport_presence_grace


# ----------------------------------------------------------------- hours

# the local day and time of epoch $t in $zone
sub local_at {
    my ($zone, $t) = @_;
    my $old = $ENV{TZ};
    $ENV{TZ} = $zone;
    POSIX::tzset();
    my @lt = localtime($t);
    if (defined $old) { $ENV{TZ} = $old } else { delete $ENV{TZ} }
    POSIX::tzset();
    my @days = qw(Sun Mon Tue Wed Thu Fri Sat);
    return { day => $days[$lt[6]], wday => $lt[6],
             hm => sprintf('%02d:%02d', $lt[2], $lt[1]) };
}

my @DAYS = qw(Sun Mon Tue Wed Thu Fri Sat);

# "Day HH:MM-HH:MM" for [$t + $from, $t + $to] local, with the day of the
# start moved by $shift days
sub window {
    my ($zone, $t, $from, $to, $shift) = @_;
    my $s = local_at($zone, $t + $from);
    my $e = local_at($zone, $t + $to);
    my $day = $DAYS[($s->{wday} + ($shift // 0)) % 7];
    return "$day $s->{hm}-$e->{hm}";
}

subtest 'chatport_hours around the current time in several time zones' => sub {
    my $now = time;
    my @zones = ('Asia/Tokyo', 'America/New_York', 'Australia/Sydney',
                 'America/Sao_Paulo', 'UTC');
    my (%port, %spec, $conf);

    for my $zone (@zones) {
        my $p = free_port();
        $port{$zone} = $p;

        my $prev = local_at($zone, $now - 20 * 60)->{wday};
        my %s = (
            open    => window($zone, $now, -20 * 60, 20 * 60),
            later   => window($zone, $now, 6 * 3600 - 20 * 60, 6 * 3600 + 20 * 60),
            earlier => window($zone, $now, -6 * 3600 - 20 * 60, -6 * 3600 + 20 * 60),
            hour_on => window($zone, $now, 40 * 60, 100 * 60),
            hour_ago => window($zone, $now, -100 * 60, -40 * 60),
            nextday => window($zone, $now, -20 * 60, 20 * 60, 1),
            prevday => window($zone, $now, -20 * 60, 20 * 60, -1),
        );

        # several day sets, the matching one last, its range wrapping the week
        my ($t1) = (window($zone, $now, -20 * 60, 20 * 60) =~ / (\S+)$/);
        $s{multi} = "$s{later} $DAYS[($prev + 6) % 7]-$DAYS[$prev] 03:00-03:01 $t1";
        $s{comma} = "$DAYS[($prev + 2) % 7],$DAYS[$prev] $t1";
        $s{comma_other} = "$DAYS[($prev + 2) % 7],$DAYS[($prev + 4) % 7] $t1";

        $spec{$zone} = \%s;

        my $tz = $zone eq 'UTC' ? '' : "chatport_timezone $zone;";
        my $locs = join '', map {
            "        location /$_/ { chatport; chatport_hours \"$s{$_}\"; }\n"
        } sort keys %s;

        $conf .= <<"_EOC_";
    server {
        listen 127.0.0.1:$p;
        server_name localhost;
        chatport_site $SH;
        $tz
$locs
        location /always/ { chatport; }
        location /chatport/agent/ {
            chatport_agent;
            auth_basic "ops";
            auth_basic_user_file $tmp/htpasswd;
        }
    }
_EOC_
    }

    my $hn = start_nginx(server => "        chatport_site $SH;\n", http => $conf);
    my $log = $hn->log_size;

    # nobody online: offline, even within hours
    is(config_online($port{'Asia/Tokyo'}, '/open/'), 0,
       'Tokyo, open hours, nobody online: offline');
    is(config_online($port{'UTC'}, '/always/'), 0,
       'always, nobody online: offline');

    my $res = agent($port{UTC}, POST => 'presence', { status => 'online' });
    is($res->{status}, 204, 'operator online for the hours site');

    # and available: a console of theirs holds a poll
    my $console = open_requests([{ port => $port{UTC}, method => 'GET',
                                   path => '/chatport/agent/poll',
                                   headers => { Authorization =>
                                                    $AUTH{alice} } }]);
    ok(wait_until(sub { config_online($port{UTC}, '/always/') }, 10),
       'the operator is available');

    my %want = (open => 1, always => 1, multi => 1, comma => 1,
                later => 0, earlier => 0, hour_on => 0, hour_ago => 0,
                nextday => 0, prevday => 0, comma_other => 0);

    for my $zone (@zones) {
        my $here = local_at($zone, $now);
        for my $loc (sort keys %want) {
            my $spec = $loc eq 'always' ? 'always' : $spec{$zone}{$loc};
            is(config_online($port{$zone}, "/$loc/"), $want{$loc},
               "$zone (now $here->{day} $here->{hm}): \"$spec\" is "
               . ($want{$loc} ? 'open' : 'closed'));
        }
    }

    # open hours and the operator away: offline
    agent($port{UTC}, POST => 'presence', { status => 'away' });
    ok(wait_until(sub { !config_online($port{'Australia/Sydney'}, '/open/') },
                  10), 'Sydney, open hours, operator away: offline');
    $console->abandon;

    my @bad = grep { /\[(alert|crit|emerg|error)\]/ }
              split /\n/, $hn->log_since($log);
    ok(!@bad, 'hours: no error in the log') or diag join "\n", @bad;

    $hn->stop;
};


# ---------------------------------------------------------------- notify

subtest 'chatport_notify: the new conversation reaches the webhook, without the visitor\'s headers' => sub {
    my $log = $ngx->log_size;

    my $res = http_request(port => $pa, method => 'POST', path => '/n/messages',
                           headers => { 'User-Agent' => 'NotifyUA/3.1',
                                        Referer => 'https://ref.test/from',
                                        Cookie => 'session=s3cr3t-cookie; chatport_vid=bogus',
                                        'X-Visitor-Secret' => 'hush' },
                           body => { text => 'Need help with order #12',
                                     page => 'https://shop.test/orders/12' },
                           timeout => 5);
    is($res->{status}, 201, 'visitor: 201 with a notify location');
    cmp_ok($res->{elapsed}, '<', 1, 'visitor: the answer does not wait for the slow webhook');
    my ($vid) = map { /^chatport_vid=([0-9a-f]{32})/ ? $1 : () } @{ $res->{set_cookie} };
    ok($vid, 'visitor: a new chatport_vid (the bogus one was not taken)');
    $vid //= '';
    my $ncid = cid_of($vid);
    my $mid = $res->{json}{id} // '';

    ok(wait_until(sub { -e "$tmp/hook.1" }, 5), 'the webhook got a request');
    my $h = hook_request(1) || {};

    like($h->{line} // '', qr{^POST /capture HTTP/1\.[01]$}, 'webhook: POST to the proxied URI');
    like($h->{headers}{'content-type'} // '', qr{^application/json\b},
         'webhook: Content-Type application/json');
    ok(!exists $h->{headers}{cookie}, "webhook: no Cookie header");
    unlike($h->{raw} // '', qr/s3cr3t-cookie|bogus/, "webhook: nothing of the visitor's cookie");
    unlike($h->{raw} // '', qr/\Q$vid\E/, "webhook: not the visitor's secret id") if $vid;
    ok(!exists $h->{headers}{'x-visitor-secret'}, "webhook: no other visitor header");
    ok(!exists $h->{headers}{'user-agent'}, "webhook: no User-Agent header (it is in the JSON)");

    is_deeply($h->{json},
              { type => 'conversation', site => $SA, conversation => $ncid,
                page => 'https://shop.test/orders/12',
                referrer => 'https://ref.test/from',
                user_agent => 'NotifyUA/3.1',
                message => { id => $mid, text => 'Need help with order #12' },
                console => "http://localhost:$pa/chatport/agent/#$ncid" },
              'webhook: the event JSON')
        or diag $h->{body};

    # no notification for the next message of the same conversation
    my $nv = visitor(port => $pa, prefix => '/n/', vid => $vid);
    $res = $nv->post('and another thing', page => 'https://shop.test/orders/12');
    is($res->{status}, 201, 'visitor: second message 201');
    sleep 1;
    ok(!-e "$tmp/hook.2", 'webhook: nothing for a second message');

    # the operator sees the conversation the link points to
    ok(find_conv(conversations($pa), $ncid), 'the notified conversation is in the list');

    # a form submission is notified too
    $res = http_request(port => $pa, method => 'POST', path => '/n/form',
                        headers => { Cookie => 'session=s3cr3t-cookie' },
                        body => { email => 'visitor@example.test',
                                  message => 'call me back' });
    is($res->{status}, 201, 'form: 201') or diag explain $res;
    ok(wait_until(sub { -e "$tmp/hook.2" }, 5), 'the webhook got the form');
    $h = hook_request(2) || {};
    is($h->{json}{type}, 'form', 'form webhook: type form');
    is($h->{json}{site}, $SA, 'form webhook: site');
    is($h->{json}{form}{fields}{email}, 'visitor@example.test', 'form webhook: the email');
    is($h->{json}{form}{fields}{message}, 'call me back', 'form webhook: the message');
    is($h->{json}{console}, "http://localhost:$pa/chatport/agent/#forms",
       'form webhook: console link to the forms');
    ok(!exists $h->{headers}{cookie}, 'form webhook: no Cookie header');
    unlike($h->{raw} // '', qr/s3cr3t-cookie/, "form webhook: no visitor cookie");

    my $text = $ngx->log_since($log);
    unlike($text, qr/notification to "\/hook" failed/, 'no failure logged for the good hook');
    log_clean($log, 'notify');
};

subtest 'a failing notify location never changes the visitor\'s answer' => sub {
    for my $case ([ '/dead/', '/deadhook', 502 ], [ '/err/', '/hook500', 500 ]) {
        my ($prefix, $uri, $status) = @$case;
        my $log = $ngx->log_size;

        my $fv = visitor(port => $pa, prefix => $prefix, ua => 'FailUA');
        my $res = $fv->post("hello via $prefix", page => 'https://shop.test/');
        is($res->{status}, 201, "$uri: visitor 201");
        like($res->{body} // '', qr/^\{"id":"\d+-\d+"\}\n\z/, "$uri: the usual body");
        ok($fv->vid, "$uri: the cookie is set");

        ok(wait_until(sub { $ngx->log_since($log) =~ /notification to "\Q$uri\E" failed/ }, 5),
           "$uri: chatport: notification to \"$uri\" failed is logged");
        like($ngx->log_since($log),
             qr/chatport: notification to "\Q$uri\E" failed: status $status\b/,
             "$uri: ... with status $status");

        # the conversation is there and goes on
        $res = $fv->post('second', page => 'https://shop.test/');
        is($res->{status}, 201, "$uri: the next message 201");
        $res = $fv->history;
        is_deeply([ map { $_->{text} } @{ $res->{json}{messages} || [] } ],
                  [ "hello via $prefix", 'second' ], "$uri: both messages stored");
        ok(find_conv(conversations($pa), cid_of($fv->vid // '')),
           "$uri: the operator lists the conversation");

        my @crash = grep { /\[(alert|crit|emerg)\]|signal \d+/ }
                    split /\n/, $ngx->log_since($log);
        ok(!@crash, "$uri: no alert or crash") or diag join "\n", @crash;
    }

    ok($ngx->alive, 'nginx is still running');
};

$ngx->stop;

done_testing();
