# Retries are safe (SPEC "Visitor endpoints"): a visitor's message, an
# operator's reply and a JSON form post carry an optional "key"; a post
# that repeats a key answers the first post's 201 {"id"} and stores and
# publishes nothing new, also when copies race over two workers. Bad keys
# are 400 invalid_key. And the case the keys are for: Redis stalls
# (SIGSTOP) longer than chatport_redis_timeout while a message is posted,
# the visitor gets 503, and the same post with the same key after SIGCONT
# is stored exactly once.
#
# Uses a private redis-server (it is paused), never the shared one.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(time sleep);
use File::Temp ();
use MIME::Base64 qw(encode_base64);

use lib 't/lib';
use ChatPort::Harness;

require_env();

my $site = 't025';
my $redis = start_redis();
my $rport = $redis->port;
my $ID = qr/^\d+-\d+$/;

my $tmp = File::Temp::tempdir('chatport-025-XXXXXX', TMPDIR => 1,
                              CLEANUP => !$ENV{CHATPORT_KEEP});

open my $fh, '>', "$tmp/htpasswd" or die "$tmp/htpasswd: $!";
print $fh "alice:{PLAIN}secret\n";
close $fh;

my $AUTH = 'Basic ' . encode_base64('alice:secret', '');

my $ngx = start_nginx(
    workers => 2,
    redis_port => $rport,
    http => "chatport_redis 127.0.0.1:$rport;\n"
          . "chatport_redis_timeout 500ms;\n",
    server => <<"_EOC_");
        chatport_site $site;

        location /chatport/ {
            chatport;
            chatport_poll_timeout 2s;
        }

        location /agent/ {
            chatport_agent;
            auth_basic "ops";
            auth_basic_user_file $tmp/htpasswd;
        }
_EOC_

my $port = $ngx->port;

sub msgs_key  { conv_key($site, $_[0]->vid) . ':msgs' }
sub xlen      { redis_cmd($rport, 'XLEN', $_[0]) }
sub inbox_len { xlen("chatport:{$site}:inbox") }

# the ids of a visitor's stored messages with this text
sub stored_ids {
    my ($v, $text) = @_;
    my $entries = redis_cmd($rport, 'XRANGE', msgs_key($v), '-', '+');
    my @ids;
    for my $e (@$entries) {
        my %f = @{ $e->[1] };
        push @ids, $e->[0] if $f{text} eq $text;
    }
    return @ids;
}

sub is_201 {
    my ($res, $what) = @_;
    is($res->{status}, 201, "$what: 201") or diag explain $res;
    like($res->{json}{id} // '', $ID, "$what: an id");
    return $res->{json}{id};
}

sub is_400_key {
    my ($res, $what) = @_;
    is($res->{status}, 400, "$what: 400") or diag explain $res;
    is($res->{json}{error}, 'invalid_key', "$what: error invalid_key");
    like($res->{json}{message} // '', qr/"key"/, "$what: names the field");
}

sub agent_reply {
    my ($cid, $body) = @_;
    return http_request(port => $port, method => 'POST',
                        path => "/agent/conversations/$cid/messages",
                        headers => { Authorization => $AUTH },
                        body => $body);
}

sub post_form {
    my ($body, %o) = @_;
    return http_request(port => $port, method => 'POST',
                        path => '/chatport/form', body => $body, %o);
}


# ---------------------------------------------------------------------------
my $v = visitor(port => $port);
my $first;

subtest 'a visitor message posted twice with one key is stored once' => sub {
    my $inbox = inbox_len() // 0;

    $first = is_201($v->post('hello', key => 'k-1'), 'first post');
    ok($v->vid, 'the visitor got a cookie');
    is(xlen(msgs_key($v)), 1, 'one stream entry');

    my $res = $v->post('hello', key => 'k-1');
    is(is_201($res, 'the same post again'), $first, 'the first post\'s id');
    is_deeply($res->{set_cookie}, [], 'no new cookie');
    is(xlen(msgs_key($v)), 1, 'still one stream entry');

    # the key decides, whatever the text
    is($v->post('hello, edited', key => 'k-1')->{json}{id}, $first,
       'a different text with the same key: the first id');
    is(xlen(msgs_key($v)), 1, 'still one stream entry');
    is(inbox_len(), $inbox + 1, 'one inbox event for the conversation');

    my $pttl = redis_cmd($rport, 'PTTL', conv_key($site, $v->vid) . ':key:k-1');
    ok($pttl > 23 * 3600 * 1000 && $pttl <= 24 * 3600 * 1000,
       "the key is remembered for the 24 h retry window (PTTL $pttl)");
};


subtest 'different keys, and no key, store every post' => sub {
    my $a = is_201($v->post('hello', key => 'k-2'), 'another key');
    isnt($a, $first, 'a new id');

    my $b = is_201($v->post('hello'), 'no key');
    my $c = is_201($v->post('hello'), 'no key again');
    isnt($b, $c, 'two posts without a key: two ids');

    is(xlen(msgs_key($v)), 4, 'four stream entries');

    # keys of the longest and shortest length, every allowed character
    my $long = join '', ('A' .. 'Z', 'a' .. 'z', 0 .. 9, '_', '-')[0 .. 63];
    my $x = is_201($v->post('long', key => $long), '64-character key');
    is($v->post('long', key => $long)->{json}{id}, $x, '... repeated');
    my $y = is_201($v->post('short', key => 'z'), '1-character key');
    is($v->post('short', key => 'z')->{json}{id}, $y, '... repeated');
    is(xlen(msgs_key($v)), 6, 'six stream entries');

    my $null = is_201($v->post('null key', key => undef), 'a null key');
    is(xlen(msgs_key($v)), 7, 'a null key counts as none');
};


subtest 'copies of one post racing each other store one message' => sub {
    my $before = xlen(msgs_key($v));
    my $batch = open_requests([ map { $v->post_request('race', key => 'race')
                                    } 1 .. 20 ]);
    my $answers = $batch->collect(timeout => 10);
    my %ids = map { ($_->{json}{id} // 'none') => 1 } @$answers;

    is(scalar(grep { $_->{status} == 201 } @$answers), 20, 'twenty 201s');
    is_deeply([ keys %ids ], [ grep { /$ID/ } keys %ids ], 'each with an id');
    is(scalar keys %ids, 1, 'all with the same id');
    is(xlen(msgs_key($v)), $before + 1, 'one stream entry');
};


subtest 'keys belong to one conversation' => sub {
    my $w = visitor(port => $port);
    my $id = is_201($w->post('hello', key => 'k-1'),
                    'another visitor with the first visitor\'s key');
    isnt($id, $first, 'its own message');
    is(xlen(msgs_key($w)), 1, 'stored in its own conversation');
    is(xlen(msgs_key($v)), 8, 'the first conversation unchanged');
};


subtest 'bad keys: 400 invalid_key, nothing stored' => sub {
    my $before = xlen(msgs_key($v));

    for my $case ([ '', 'empty' ], [ 'a' x 65, '65 characters' ],
                  [ 'a b', 'a space' ], [ 'a/b', 'a slash' ],
                  [ 'a.b', 'a dot' ], [ "\x{e4}", 'a non-ASCII letter' ],
                  [ "a\n", 'a line break' ], [ 17, 'a number' ],
                  [ [ 'a' ], 'an array' ], [ { a => 1 }, 'an object' ],
                  [ JSON::PP::true, 'true' ])
    {
        is_400_key($v->post('bad key', key => $case->[0]), "key $case->[1]");
    }

    is(xlen(msgs_key($v)), $before, 'nothing stored');

    my $w = visitor(port => $port);
    my $res = $w->post('bad key of a new visitor', key => '');
    is_400_key($res, 'a new visitor\'s empty key');
    is_deeply($res->{set_cookie}, [], 'no cookie');
};


subtest 'operator replies with a key' => sub {
    my $cid = cid_of($v->vid);
    my $before = xlen(msgs_key($v));
    my $inbox = inbox_len();

    my $id = is_201(agent_reply($cid, { text => 'reply', key => 'op-1' }),
                    'a reply');
    is(is_201(agent_reply($cid, { text => 'reply', key => 'op-1' }),
              'the same reply again'),
       $id, 'the first reply\'s id');
    is(xlen(msgs_key($v)), $before + 1, 'one stream entry');
    is(inbox_len(), $inbox + 1, 'one inbox event');

    my $other = is_201(agent_reply($cid, { text => 'reply', key => 'op-2' }),
                       'another key');
    isnt($other, $id, 'a new id');
    is(xlen(msgs_key($v)), $before + 2, 'two stream entries');

    is_400_key(agent_reply($cid, { text => 'reply', key => 'op 3' }),
               'an operator\'s bad key');
    is_400_key(agent_reply($cid, { text => 'reply', key => 5 }),
               'an operator\'s numeric key');
    is(xlen(msgs_key($v)), $before + 2, 'nothing more stored');

    # the visitor sees each reply once
    my $res = $v->history;
    is(scalar(grep { $_->{text} eq 'reply' } @{ $res->{json}{messages} }), 2,
       'the visitor\'s history has the two replies once each');
};


subtest 'a JSON form retried with the same key is one submission' => sub {
    my $forms = "chatport:{$site}:forms";
    my $rate = "chatport:{$site}:rate:127.0.0.1";
    my %f = (email => 'k@example.com', message => 'call me back');

    my $id = is_201(post_form({ %f, key => 'form-1' }), 'a form');
    is(is_201(post_form({ %f, key => 'form-1' }), 'the same form again'),
       $id, 'the first submission\'s id');
    is(xlen($forms), 1, 'one submission stored');
    is(redis_cmd($rport, 'GET', $rate), '1',
       'the repeat did not count against chatport_form_rate');

    isnt(is_201(post_form({ %f, key => 'form-2' }), 'another key'), $id,
         'a new id');
    is(xlen($forms), 2, 'two submissions stored');

    is_400_key(post_form({ %f, key => 'x' x 65 }), 'a form\'s long key');
    is_400_key(post_form({ %f, key => [] }), 'a form\'s array key');
    is_400_key(post_form({ %f, key => 1 }), 'a form\'s numeric key');
    is(xlen($forms), 2, 'nothing more stored');

    is_201(post_form({ %f, key => undef }), 'a form with a null key');
    is_201(post_form({ %f, key => undef }), '... again');
    is(xlen($forms), 4, 'a null key counts as none');

    # keys count per client address: another address has its own
    my $res = post_form({ %f, key => 'form-1' }, from => '127.0.0.2');
    isnt(is_201($res, 'the same key from another address'), $id,
         'a submission of its own');
    is(xlen($forms), 5, 'five submissions stored');
};


# ---------------------------------------------------------------------------
subtest 'Redis stalls: 503, then the same key stores the message once' => sub {
    my $text = 'posted during the stall';
    my $key = 'stall-' . int(rand(1e9));

    $redis->pause;
    my $res = $v->post($text, key => $key, timeout => 10);
    # longer than chatport_redis_timeout, so nginx gave up on the command
    sleep 1;
    $redis->resume;

    is($res->{status}, 503, 'the post during the stall: 503')
        or diag explain $res;
    is($res->{json}{error}, 'unavailable', '... error unavailable');

    # Redis may still run the command it read before the stall
    my @before;
    wait_until(sub { @before = eval { stored_ids($v, $text) }; !$@ }, 10);
    note(@before ? "the stalled post was stored as $before[0]"
                 : 'the stalled post was not stored');

    # the widget's retry: the same post and key until Redis is back
    my $ok;
    wait_until(sub {
        $ok = $v->post($text, key => $key, timeout => 3);
        $ok->{status} == 201;
    }, 15, 0.2);

    my $id = is_201($ok, 'the same post after SIGCONT');
    my @ids = stored_ids($v, $text);
    is(scalar @ids, 1, 'the stream holds the message exactly once');
    is($ids[0], $id, 'the answer is the stored entry\'s id');
    is($id, $before[0], 'the id of the entry stored during the stall')
        if @before;

    is(is_201($v->post($text, key => $key), 'once more'), $id,
       'a late repeat: the same id');
    is(scalar(stored_ids($v, $text)), 1, 'still once');
};


my $log = $ngx->error_log;
unlike($log, qr/\[alert\]|\[emerg\]|exited on signal/,
       'no alert, emerg or crash in the error log');

ok($ngx->stop, 'nginx stops gracefully');
$redis->stop;

done_testing();
