# The search index's queue (src/lua/index.lua, src/ngx_http_chatport_index.c)
# and a channel's linger (src/ngx_http_chatport_waiters.c), against their
# own Redis:
# - a stored message waits in chatport:{site}:index-queue; the worker that
#   stored it indexes the queue within seconds, without a search, and the
#   entries it writes are those the message script wrote before (scored
#   with the conversation's expiry, in its terms set, every key with an
#   expiry); words several conversations share are indexed for each;
# - a search indexes what waits first, so it finds a message at once;
# - an erasure indexes what waits first and then erases it: no entry of
#   the erased conversation is left in the queue or the index;
# - a message that finds 10000 waiting indexes the oldest 500 itself,
#   and the worker the rest, 500 by script; a search indexes all;
# - an entry of a conversation that has expired leaves no key behind;
# - a channel stays subscribed a while after its last poll, a poll that
#   comes then needs no SUBSCRIBE, and it is unsubscribed later.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(time sleep);
use IO::Socket::INET;

use lib 't/lib';
use ChatPort::Harness;

require_env();

my $site = 't142';
my $redis = start_redis();
my $rport = $redis->port;
my ($htpasswd, $auth) = operators(alice => 'secret');
my $AUTH = $auth->{alice};
my $QUEUE = "chatport:{$site}:index-queue";
# the page a ChatPort::Harness visitor's first message names
my $PAGE = 'https://shop.test/products';

my $ngx = start_nginx(
    redis_port => $rport,
    http => "chatport_redis 127.0.0.1:$rport;\n",
    server => <<"_EOC_");
        chatport_site $site;
        chatport_chat_rate 10000/1m site=10000/1m;

        location /chatport/agent/ {
            chatport_agent;
            auth_basic "ops";
            auth_basic_user_file $htpasswd;
        }

        location /chatport/ {
            chatport;
            chatport_poll_timeout 20s;
        }
_EOC_

my $port = $ngx->port;

sub redis { redis_cmd($rport, @_) }

sub agent {
    my ($method, $path, $body) = @_;
    return http_request(port => $port, method => $method,
                        path => "/chatport/agent/$path",
                        headers => { Authorization => $AUTH },
                        (defined $body ? (body => $body) : ()));
}

sub search {
    my ($q) = @_;
    my $res = agent(GET => "conversations?q=$q");
    die "search $q: $res->{status} $res->{body}" unless $res->{status} == 200;
    return [ sort map { $_->{id} } @{ $res->{json}{conversations} } ];
}

sub meta { "chatport:{$site}:conv:$_[0]" }

# a conversation opened by a visitor, once the worker indexed its words
sub open_conversation {
    my ($text) = @_;
    my $v = visitor(port => $port);
    my $res = $v->post($text);
    die "post: $res->{status}" unless $res->{status} == 201;
    ok(wait_until(sub { !redis('EXISTS', $QUEUE) }, 10 * ChatPort::Harness::slow()),
       "the queue of \"$text\" was indexed");
    return (cid_of($v->vid), $v, $res->{json}{id});
}

# what the message script queues: "CID AT <bytes of page> PAGE TEXT"
sub queue_entry {
    my ($cid, $text, $page) = @_;
    $page //= '';
    my $at = redis('HGET', meta($cid), 'expires');
    return "$cid $at " . length($page) . " $page$text";
}

# what Redis is sent from now on (MONITOR), read by monitor_text()
sub monitor {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $rport, Proto => 'tcp')
        or die "monitor: $!";
    print $s "MONITOR\r\n";
    my $ok = <$s>;
    die "monitor: $ok" unless $ok =~ /^\+OK/;
    $s->blocking(0);
    return $s;
}

sub monitor_text {
    my ($s) = @_;
    my ($text, $chunk) = ('');
    $text .= $chunk while sysread($s, $chunk, 65536);
    return $text;
}

sub expiry_less {
    my @keys = (@{ redis('KEYS', "chatport:{$site}:idx:*") },
                @{ redis('KEYS', "chatport:{$site}:conv:*:terms") });
    return [ grep { redis('PTTL', $_) < 0 } @keys ];
}

# --------------------------------------------------- the worker's flush

subtest 'the worker indexes what it queued' => sub {
    my ($a) = open_conversation('hello there');
    my ($b) = open_conversation('good morning');
    redis('CONFIG', 'RESETSTAT');

    my $va = visitor(port => $port);
    my $t0 = time;
    my $res = $va->post('quokka sighting near the harbour');
    is($res->{status}, 201, 'a message: 201');
    my $c = cid_of($va->vid);
    my $waiting = redis('LRANGE', $QUEUE, 0, -1);
    my $idx = redis('EXISTS', "chatport:{$site}:idx:quokka");
    SKIP: {
        # the worker flushes a second after the message at the soonest
        skip 'over a second passed: the worker may have indexed it', 2
            if time - $t0 > 0.9;
        is_deeply($waiting, [ queue_entry($c, 'quokka sighting near the '
                                              . 'harbour', $PAGE) ],
                  'the message script queued the text');
        is($idx, 0, 'and wrote no idx key of its words');
    }

    ok(wait_until(sub { !redis('EXISTS', $QUEUE) }, 10 * ChatPort::Harness::slow()),
       'the queue is indexed without a search');
    my $at = redis('PEXPIRETIME', meta($c));
    for my $word (qw(quokka sighting near the harbour)) {
        is(redis('ZSCORE', "chatport:{$site}:idx:$word", $c), $at,
           "idx:$word holds it, scored with its expiry");
    }
    is_deeply([ sort @{ redis('SMEMBERS', meta($c) . ':terms') } ],
              [ sort qw(quokka sighting near the harbour products) ],
              'its terms set lists the words, and its page\'s');
    is(redis('PEXPIRETIME', meta($c) . ':terms'), $at,
       'and expires with it');
    is_deeply(expiry_less(), [], 'every idx key and terms set expires');

    # words shared by conversations whose messages wait together
    redis('RPUSH', $QUEUE, queue_entry($a, 'shared lagoon tour'),
          queue_entry($b, 'shared lagoon trip'),
          queue_entry($a, 'a second lagoon question'));
    my $vb = visitor(port => $port);
    $vb->post('lagoon please');
    my $d = cid_of($vb->vid);
    ok(wait_until(sub { !redis('EXISTS', $QUEUE) }, 10 * ChatPort::Harness::slow()),
       'entries a worker did not queue go with its next flush');
    is_deeply([ sort @{ redis('ZRANGE', "chatport:{$site}:idx:lagoon", 0,
                              -1) } ], [ sort $a, $b, $d ],
              'a shared word: every conversation once');
    is(redis('ZSCORE', "chatport:{$site}:idx:trip", $b),
       redis('PEXPIRETIME', meta($b)), 'each with its own expiry');
    ok(redis('SISMEMBER', meta($a) . ':terms', 'question'),
       'both messages of one conversation');
    is_deeply(search('lagoon'), [ sort $a, $b, $d ], 'a search finds them');
    is_deeply(expiry_less(), [], 'every idx key and terms set expires');
};

# ------------------------------------------------------ search and erase

subtest 'a search indexes what waits first' => sub {
    my ($c) = open_conversation('plain words');
    # waiting, as a worker that died before its flush would leave it
    redis('RPUSH', $QUEUE, queue_entry($c, 'wombat burrow',
                                       'https://shop.test/otters/'));
    is_deeply(search('wombat'), [$c], 'found at once');
    ok(!redis('EXISTS', $QUEUE), 'the queue is indexed');
    is_deeply(search('burrow'), [$c], 'every word of it');
    is_deeply(search('otters'), [$c], 'and of the page');
    is(redis('ZSCORE', "chatport:{$site}:idx:wombat", $c),
       redis('PEXPIRETIME', meta($c)), 'scored with the expiry');
};

subtest 'an erasure indexes what waits, then erases it' => sub {
    my ($c, $v) = open_conversation('erase me later');
    my ($keep) = open_conversation('keep me');
    redis('RPUSH', $QUEUE, queue_entry($c, 'confidential zanzibar'),
          queue_entry($keep, 'zanzibar holiday'));
    my $res = agent(POST => 'erase', { conversation => $c });
    is($res->{status}, 204, 'erase: 204') or diag explain $res;
    ok(!redis('EXISTS', $QUEUE), 'the queue is indexed');
    ok(!redis('EXISTS', "chatport:{$site}:idx:confidential"),
       'no idx key of its words is left');
    is_deeply(redis('ZRANGE', "chatport:{$site}:idx:zanzibar", 0, -1),
              [$keep], 'a shared word keeps the other conversation only');
    is_deeply(search('zanzibar'), [$keep], 'a search finds the other one');
};

# --------------------------------------------------------- the bound

subtest 'a full queue: the message indexes part, the worker the rest' => sub {
    my ($c) = open_conversation('filler');
    redis('RPUSH', $QUEUE, map { queue_entry($c, "word$_ common") }
                           1 .. 9998);
    my $v = visitor(port => $port);
    # the worker flushes a second after a message at the soonest: the
    # 10000th message's own script must have indexed 500 when answered
    my $t0 = time;
    is($v->post('the last straw')->{status}, 201, '9999th: 201');
    my $len0 = redis('LLEN', $QUEUE);
    is($v->post('camel back')->{status}, 201, '10000th: 201');
    my $len = redis('LLEN', $QUEUE);
    SKIP: {
        skip 'over a second passed: the worker may have indexed some', 2
            if time - $t0 > 0.9;
        is($len0, 9999, 'the queue holds 9999');
        is($len, 9500, 'the 10000th indexed the oldest 500');
    }
    ok(wait_until(sub { !redis('EXISTS', $QUEUE) },
                  30 * ChatPort::Harness::slow()),
       'the worker indexes the rest, 500 by script');
    is(redis('ZCARD', "chatport:{$site}:idx:common"), 1,
       'the messages of one conversation: one idx entry');
    ok(redis('ZSCORE', "chatport:{$site}:idx:word1", $c), 'each word');
    # 1000 terms at most per conversation
    is(redis('SCARD', meta($c) . ':terms'), 1000,
       'up to the terms a conversation keeps');
    is_deeply(search('camel'), [ cid_of($v->vid) ], 'and the message');
};

subtest 'a search indexes a queue of more than one batch' => sub {
    my ($c) = open_conversation('batch size');
    redis('RPUSH', $QUEUE, queue_entry($c, 'oldest seagull'),
          (map { queue_entry($c, "seagull") } 2 .. 1199),
          queue_entry($c, 'newest seagull'));
    is_deeply(search('newest'), [$c], 'the newest found');
    is_deeply(search('oldest'), [$c], 'the oldest found');
    ok(!redis('EXISTS', $QUEUE), 'the queue is indexed whole');
};

subtest 'an expired conversation leaves nothing' => sub {
    my $gone = 'f' x 32;
    redis('RPUSH', $QUEUE, "$gone 1000 0 vanished ghost");
    is_deeply(search('ghost'), [], 'not found');
    is(redis('EXISTS', meta($gone) . ':terms'), 0, 'no terms set');
    is_deeply(expiry_less(), [], 'no key without an expiry');
};

# ------------------------------------------------------------ the linger

subtest 'a channel lingers after its last poll' => sub {
    my ($c, $v, $id) = open_conversation('linger test');
    my $channel = meta($c);
    my $mon = monitor();
    my $poll = open_requests([ $v->poll_request($id) ]);
    ok(wait_until(sub { redis('PUBSUB', 'NUMSUB', $channel)->[1] == 1 },
                  5 * ChatPort::Harness::slow()), 'the poll subscribed its channel');
    my $reply = agent(POST => "conversations/$c/messages",
                      { text => 'an answer' });
    is($reply->{status}, 201, 'a reply: 201');
    my $got = $poll->collect(timeout => 10)->[0];
    is($got->{status}, 200, 'the poll has it');
    my $last = $got->{json}{messages}[-1]{id};
    is(redis('PUBSUB', 'NUMSUB', $channel)->[1], 1,
       'the channel is still subscribed');

    # the visitor polls again at once: no SUBSCRIBE
    my $again = open_requests([ $v->poll_request($last) ]);
    sleep 0.5;
    my @subs = monitor_text($mon) =~ /"SUBSCRIBE" "\Q$channel\E"/g;
    is(scalar @subs, 1, 'one SUBSCRIBE for both polls');
    agent(POST => "conversations/$c/messages", { text => 'another' });
    $got = $again->collect(timeout => 10)->[0];
    is($got->{json}{messages}[0]{text}, 'another',
       'the second poll has the next message');

    # nobody polls: the channel goes after its linger
    ok(wait_until(sub { redis('PUBSUB', 'NUMSUB', $channel)->[1] == 0 },
                  15 * ChatPort::Harness::slow()), 'unsubscribed later');
    my $text = monitor_text($mon);
    my @unsubs = $text =~ /"UNSUBSCRIBE" "\Q$channel\E"/g;
    is(scalar @unsubs, 1, 'with one UNSUBSCRIBE');
    close $mon;
};

is_deeply([ $ngx->bad_lines ], [], 'no alert, emerg or crash in the log');

$ngx->stop;
$redis->stop;

done_testing();
