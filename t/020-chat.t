# The visitor's chat core with real clients: the cookie the server sets is
# carried between requests, polls are parked while other connections post,
# bursts are sent sequentially and concurrently, and the stored
# conversation is read back from Redis.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(time sleep);

use lib 't/lib';
use ChatPort::Harness;

require_env();

my $site = 't020';
my $redis = shared_redis_port();

my $ngx = start_nginx(server => <<"_EOC_");
        chatport_site $site;

        location /chatport/ {
            chatport;
            chatport_poll_timeout 2s;
        }

        location /big/ {
            chatport;
            chatport_max_message 4k;
            chatport_history 200;
            chatport_poll_timeout 2s;
        }

        location /short/ {
            chatport;
            chatport_history 5;
            chatport_poll_timeout 2s;
        }
_EOC_

my $port = $ngx->port;
my $ID = qr/^\d+-\d+$/;

sub id_cmp {
    my ($x, $y) = @_;
    my ($am, $as) = split /-/, $x;
    my ($bm, $bs) = split /-/, $y;
    return $am <=> $bm || $as <=> $bs;
}

sub increasing {
    my @ids = @_;
    for my $i (1 .. $#ids) {
        return 0 unless id_cmp($ids[$i - 1], $ids[$i]) < 0;
    }
    return 1;
}

sub texts { map { $_->{text} } @{ $_[0]{json}{messages} || [] } }
sub ids   { map { $_->{id} } @{ $_[0]{json}{messages} || [] } }

# no [alert], [crit] or [emerg] since $offset in the error log
sub log_clean {
    my ($offset, $what) = @_;
    my @bad = grep { /\[(alert|crit|emerg)\]/ }
              split /\n/, $ngx->log_since($offset);
    ok(!@bad, "no alert in the error log: $what") or diag join "\n", @bad;
}

sub new_visitor {
    my ($text, %o) = @_;
    my $v = visitor(port => $port, prefix => $o{prefix} || '/chatport/');
    my $res = $v->post($text, %o);
    is($res->{status}, 201, "first message of a new visitor: 201")
        or diag explain $res;
    return ($v, $res->{json}{id});
}


# ---------------------------------------------------------------------------
subtest 'send, history, poll at once' => sub {
    my $v = visitor(port => $port);

    my $res = $v->post('hello');
    is($res->{status}, 201, 'POST messages: 201') or diag explain $res;
    like($res->{json}{id} // '', $ID, 'the answer is a stream id');
    my $id1 = $res->{json}{id};

    is(scalar @{ $res->{set_cookie} }, 1, 'one Set-Cookie');
    like($res->{set_cookie}[0] // '',
         qr/^chatport_vid=[0-9a-f]{32}; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Lax$/,
         'chatport_vid cookie: 32 hex, Path=/, HttpOnly, SameSite=Lax');
    ok($v->vid, 'the visitor has a cookie now');

    $res = $v->history;
    is($res->{status}, 200, 'GET messages: 200');
    is_deeply($res->{json},
              { messages => [ { id => $id1, from => 'visitor',
                                text => 'hello',
                                ts => (split /-/, $id1)[0] } ],
                events => [], cursor => $id1, status => 'open' },
              'history: the message, with ts from its id, and the cursor')
        or diag $res->{body};

    $res = $v->poll('0-0');
    is($res->{status}, 200, 'poll after 0-0: 200');
    is_deeply([ texts($res) ], ['hello'], 'poll returns the message');
    cmp_ok($res->{elapsed}, '<', 0.5, 'poll returned at once');

    my $vid = $v->vid;
    $res = $v->post('second');
    is($res->{status}, 201, 'second message: 201');
    is_deeply($res->{set_cookie}, [], 'no new cookie for a known visitor');
    is($v->vid, $vid, 'same visitor');
    my $id2 = $res->{json}{id};
    ok(id_cmp($id1, $id2) < 0, 'ids are increasing');

    $res = $v->poll($id1);
    is($res->{status}, 200, 'poll after the first: 200');
    is_deeply([ ids($res) ], [$id2], 'only the newer message');
    is($res->{json}{cursor}, $id2, 'cursor is the last id');
    cmp_ok($res->{elapsed}, '<', 0.5, 'returned at once');

    $res = $v->history($id1);
    is_deeply([ texts($res) ], ['second'], 'history after=ID: newer only');
    is($res->{json}{cursor}, $id2, 'history cursor');

    $res = $v->history($id2);
    is_deeply($res->{json}, { messages => [], events => [], cursor => $id2,
                              status => 'open' },
              'history after the last id: empty, cursor unchanged');
};


# ---------------------------------------------------------------------------
subtest 'a parked poll is woken by a message from another connection' => sub {
    my ($v, $id) = new_visitor('before the poll');

    my $batch = open_requests([ $v->poll_request($id) ]);
    sleep 0.4;
    is($batch->pump(0), 1, 'the poll is parked');

    my $t = time;
    my $res = $v->post('wake up');
    is($res->{status}, 201, 'message on another connection: 201');
    my $new = $res->{json}{id};

    my $poll = $batch->collect(timeout => 5)->[0];
    my $after_post = time - $t;

    is($poll->{status}, 200, 'the poll answers 200') or diag explain $poll;
    is_deeply([ map { [$_->{id}, $_->{text}, $_->{from}] }
                @{ $poll->{json}{messages} || [] } ],
              [ [$new, 'wake up', 'visitor'] ], 'with the new message');
    is($poll->{json}{cursor}, $new, 'cursor is its id');
    cmp_ok($after_post, '<', 1, 'answered well before the 2 s poll timeout');
    cmp_ok($poll->{elapsed}, '<', 1.8, 'the poll took less than its timeout');
};


# ---------------------------------------------------------------------------
subtest 'timeout, and two visitors never see each other' => sub {
    my ($va, $a1) = new_visitor('alice one');
    my ($vb, $b1) = new_visitor('bob one');

    isnt($va->vid, $vb->vid, 'two visitors, two cookies');

    my $batch = open_requests([ $va->poll_request($a1),
                                $vb->poll_request($b1) ]);
    sleep 0.4;

    my $res = $vb->post('bob secret');
    is($res->{status}, 201, "bob's message: 201");
    my $b2 = $res->{json}{id};

    my ($pa, $pb) = @{ $batch->collect(timeout => 5) };

    is($pb->{status}, 200, "bob's poll: 200");
    is_deeply([ texts($pb) ], ['bob secret'], "bob's poll gets his message");
    cmp_ok($pb->{elapsed}, '<', 1.5, "bob's poll was woken");

    is($pa->{status}, 200, "alice's poll: 200 at the timeout")
        or diag explain $pa;
    is_deeply($pa->{json}, { messages => [], events => [], cursor => $a1 },
              "alice's poll: empty, cursor unchanged");
    cmp_ok($pa->{elapsed}, '>=', 1.8, "alice's poll was not woken by bob");
    cmp_ok($pa->{elapsed}, '<', 3.5, 'and ended at about the poll timeout');

    $res = $va->history;
    is_deeply([ texts($res) ], ['alice one'], "alice's history: hers only");
    $res = $vb->history;
    is_deeply([ texts($res) ], ['bob one', 'bob secret'],
              "bob's history: his only");

    $res = $va->poll('0-0');
    is_deeply([ texts($res) ], ['alice one'], "alice's poll: hers only");

    # a cursor of bob's is newer than alice's last message
    for my $what (qw(poll messages)) {
        my $off = $ngx->log_size;
        $res = http_request(%{ $va->get_request($what, $b2) });
        is($res->{status}, 400, "alice's GET $what after bob's id: 400")
            or diag explain $res;
        is($res->{json}{error}, 'invalid_cursor', 'invalid_cursor');
        log_clean($off, "GET $what with a cursor ahead: 400");
    }

    # forged or unknown cookies
    my $forged = visitor(port => $port, vid => '0123456789abcdef' x 2);
    for my $what (qw(poll messages)) {
        my $off = $ngx->log_size;
        $res = http_request(%{ $forged->get_request($what, undef) });
        is($res->{status}, 403, "unknown vid, GET $what: 403");
        is($res->{json}{error}, 'unknown_visitor', 'unknown_visitor');
        log_clean($off, "GET $what with an unknown vid: 403");
    }

    my $bad = visitor(port => $port, vid => 'not-a-visitor-id');
    $res = $bad->history;
    is($res->{status}, 403, 'malformed vid, GET messages: 403');
    $res = $bad->poll('0-0');
    is($res->{status}, 403, 'malformed vid, GET poll: 403');

    $res = http_request(port => $port, path => '/chatport/messages',
                        cookie => 'chatport_vid=' . uc $va->vid);
    is($res->{status}, 403, 'upper-case copy of a real vid: 403');
};


# ---------------------------------------------------------------------------
# a follower polls from its cursor while $send runs in another process

sub follow {
    my ($v, $start, $want, $send) = @_;

    my $child = background($send);

    my ($cursor, @got, @bad) = ($start);
    my $deadline = time + 20;

    while (@got < $want && time < $deadline) {
        my $res = $v->poll($cursor, timeout => 5);
        if ($res->{status} != 200) {
            push @bad, $res;
            last;
        }
        push @got, @{ $res->{json}{messages} };
        $cursor = $res->{json}{cursor};
    }

    ok(reap($child, 20), 'the sender finished');
    is($? >> 8, 0, 'every message of the sender was answered 201');
    is_deeply(\@bad, [], 'every poll answered 200');

    return @got;
}

subtest '100 sequential messages: in order, once, and followed by polls' => sub {
    my ($v, $first) = new_visitor('burst start');
    my $vid = $v->vid;

    my @got = follow($v, $first, 100, sub {
        my $s = visitor(port => $port, vid => $vid);
        my $prev = '0-0';
        for my $i (1 .. 100) {
            my $res = $s->post("seq $i");
            die "message $i: $res->{status}\n" unless $res->{status} == 201;
            die "message $i: id not increasing\n"
                unless id_cmp($prev, $res->{json}{id}) < 0;
            $prev = $res->{json}{id};
        }
    });

    is_deeply([ map { $_->{text} } @got ], [ map { "seq $_" } 1 .. 100 ],
              'the follower saw each message once, in order');
    ok(increasing($first, map { $_->{id} } @got), 'ids strictly increase');

    my $res = $v->history;
    is($res->{status}, 200, 'history: 200');
    is_deeply([ texts($res) ], [ 'burst start', map { "seq $_" } 1 .. 100 ],
              'history: all 101, in order, once');
    is_deeply([ ids($res) ], [ $first, map { $_->{id} } @got ],
              'history ids are the ids the follower saw');
    is($res->{json}{cursor}, $got[-1]{id}, 'cursor is the last id');
};

subtest '100 concurrent messages on separate connections' => sub {
    my ($v, $first) = new_visitor('concurrent start');

    my $batch = open_requests([ map { $v->post_request("c$_") } 1 .. 100 ]);
    my $answers = $batch->collect(timeout => 15);

    my @st = grep { $_->{status} != 201 } @$answers;
    is(scalar @st, 0, 'all 100 answered 201')
        or diag explain [ map { [$_->{status}, $_->{error}, $_->{body}] }
                          @st[0 .. ($#st < 4 ? $#st : 4)] ];
    is(scalar(grep { @{ $_->{set_cookie} || [] } } @$answers), 0,
       'none set a new cookie');

    my %by_text = map { ("c" . ($_ + 1)) => $answers->[$_]{json}{id} }
                  0 .. 99;

    my $res = $v->history;
    is($res->{status}, 200, 'history: 200');
    my @msgs = @{ $res->{json}{messages} || [] };
    is(scalar @msgs, 101, '101 messages kept');
    is($msgs[0]{text}, 'concurrent start', 'the first message first');
    ok(increasing(map { $_->{id} } @msgs), 'in stream id order');

    my %seen;
    $seen{ $_->{text} }++ for @msgs[1 .. $#msgs];
    is_deeply([ sort keys %seen ], [ sort keys %by_text ],
              'every text is there');
    is(scalar(grep { $_ != 1 } values %seen), 0, 'each exactly once');
    is_deeply({ map { $_->{text} => $_->{id} } @msgs[1 .. $#msgs] },
              \%by_text, 'with the id its POST answered');

    # and a follower while another process sends 100 at once
    my $vid = $v->vid;
    my $last = $msgs[-1]{id};

    my @got = follow($v, $last, 100, sub {
        my $s = visitor(port => $port, vid => $vid);
        my $batch = open_requests([ map { $s->post_request("f$_") } 1 .. 100 ]);
        my @bad = grep { $_->{status} != 201 } @{ $batch->collect(timeout => 15) };
        die scalar(@bad) . " POSTs failed\n" if @bad;
    });

    is(scalar @got, 100, 'the follower got 100 messages');
    my %f;
    $f{ $_->{text} }++ for @got;
    is(scalar(keys %f), 100, 'all different');
    is(scalar(grep { $_ != 1 } values %f), 0, 'each exactly once');
    ok(increasing($last, map { $_->{id} } @got), 'in stream id order');
};


# ---------------------------------------------------------------------------
subtest 'a history larger than 16 KiB comes back whole' => sub {
    my ($v, $first) = new_visitor('big 000' . ('.' x 2993), prefix => '/big/');

    my @want = ('big 000' . ('.' x 2993));
    my @ids = ($first);

    for my $i (1 .. 149) {
        # multi-byte characters too: JSON and UTF-8 through the big reply
        my $t = sprintf("big %03d ", $i) . ("\x{65e5}\x{672c}" x 100)
                . ('x' x (3000 - 8 - 600));
        my $res = $v->post($t);
        if ($res->{status} != 201) {
            fail("message $i: $res->{status}");
            diag explain $res;
            last;
        }
        push @want, $t;
        push @ids, $res->{json}{id};
    }

    my $res = $v->history;
    is($res->{status}, 200, 'history: 200');
    cmp_ok(length $res->{body}, '>', 400_000, 'a body of more than 400 KB');
    is(scalar @{ $res->{json}{messages} || [] }, 150, '150 messages');
    is_deeply([ texts($res) ], \@want, 'every text whole, in order');
    is_deeply([ ids($res) ], \@ids, 'the ids the POSTs answered');

    $res = $v->poll('0-0');
    is($res->{status}, 200, 'poll after 0-0: 200');
    is_deeply([ texts($res) ], \@want, 'the poll returns all of it too');

    $res = $v->history($ids[9]);
    is_deeply([ ids($res) ], [ @ids[10 .. 149] ], 'history after the 10th');
};


# ---------------------------------------------------------------------------
subtest 'chatport_history 5 keeps only the last 5' => sub {
    my ($v, $first) = new_visitor('short 1', prefix => '/short/');
    my @ids = ($first);

    for my $i (2 .. 8) {
        my $res = $v->post("short $i");
        is($res->{status}, 201, "message $i: 201");
        push @ids, $res->{json}{id};
    }

    my $res = $v->history;
    is_deeply([ texts($res) ], [ map { "short $_" } 4 .. 8 ],
              'history: the last 5');
    is($res->{json}{cursor}, $ids[-1], 'cursor is the last id');

    $res = $v->poll('0-0');
    is_deeply([ texts($res) ], [ map { "short $_" } 4 .. 8 ],
              'poll after 0-0: the last 5');

    # a cursor that was trimmed away still works
    $res = $v->poll($ids[1]);
    is($res->{status}, 200, 'poll from a trimmed cursor: 200');
    is_deeply([ texts($res) ], [ map { "short $_" } 4 .. 8 ],
              'returns what is kept after it');

    my $key = conv_key($site, $v->vid) . ':msgs';
    is(redis_cmd($redis, 'XLEN', $key), 5, 'the stream holds 5 entries');
};


# ---------------------------------------------------------------------------
subtest 'page, referrer and user agent of the first message are recorded' => sub {
    my $v = visitor(port => $port);

    my $res = $v->post('where am I?', page => 'https://shop.test/cart?x=1',
                       headers => { 'Referer' => 'https://search.test/?q=shoes',
                                    'User-Agent' => 'ChatPortTest/1.0 (first)' });
    is($res->{status}, 201, 'first message: 201');

    my $key = conv_key($site, $v->vid);
    my %h = @{ redis_cmd($redis, 'HGETALL', $key) || [] };

    is($h{cid}, cid_of($v->vid), 'cid is sha1("chatport conversation " . vid)');
    is($h{first_page}, 'https://shop.test/cart?x=1', 'first_page');
    is($h{page}, 'https://shop.test/cart?x=1', 'page');
    is($h{referrer}, 'https://search.test/?q=shoes', 'referrer');
    is($h{user_agent}, 'ChatPortTest/1.0 (first)', 'user_agent');
    is($h{status}, 'open', 'status open');
    is($h{last}, $res->{json}{id}, 'last is the message id');
    is($h{unread}, 1, 'one unread');
    ok(!grep({ index($_, $v->vid) >= 0 } values %h),
       'the visitor id itself is not stored');

    my $ttl = redis_cmd($redis, 'PTTL', $key);
    cmp_ok($ttl, '>', 0, 'the conversation expires');

    $res = $v->post('now here', page => 'https://shop.test/checkout',
                    headers => { 'Referer' => 'https://shop.test/cart',
                                 'User-Agent' => 'Other/2.0' });
    is($res->{status}, 201, 'second message: 201');

    %h = @{ redis_cmd($redis, 'HGETALL', $key) || [] };
    is($h{page}, 'https://shop.test/checkout', 'page follows the visitor');
    is($h{first_page}, 'https://shop.test/cart?x=1', 'first_page kept');
    is($h{referrer}, 'https://search.test/?q=shoes', 'referrer kept');
    is($h{user_agent}, 'ChatPortTest/1.0 (first)', 'user_agent kept');
    is($h{unread}, 2, 'two unread');
};


# ---------------------------------------------------------------------------
ok($ngx->stop(10), 'nginx stops gracefully');
my $log = $ngx->error_log;
unlike($log, qr/\[(alert|crit|emerg)\]/, 'no alert, crit or emerg in the log')
    or diag join "\n", grep { /\[(alert|crit|emerg)\]/ } split /\n/, $log;
unlike($log, qr/\[error\]/, 'no error in the log')
    or diag join "\n", grep { /\[error\]/ } split /\n/, $log;

done_testing;
