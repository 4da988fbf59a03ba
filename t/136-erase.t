# Data requests against a real Redis: GET A export and POST A erase, by
# conversation and by email. A conversation with messages (one with a
# retry key), a photo, a page history, a form (with its key), mails
# scheduled for it and (written here the way LIST writes it) search-index
# entries is exported, then erased: afterwards no key, no member, no
# field and no stream entry of the Redis anywhere names it, its photo's
# bytes are off the site's counter, another conversation is untouched, a
# parked operator poll hears "erased", and the visitor's cookie finds
# nothing. By email: every conversation and form of that address (any
# case), at most 50 conversations a request ("more" says when some are
# left). Every bad input a JSON error; both logged at notice with the
# operator's login and without the visitor's texts or address.
#
# Uses a private redis-server: the whole keyspace is scanned.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(time sleep);

use lib 't/lib';
use ChatPort::Harness;

require_env();

my $site = 't136';
my $redis = start_redis();
my $rport = $redis->port;
my ($htpasswd, $auth) = operators(alice => 'secret');
my $AUTH = $auth->{alice};
my $SECRET = 'hello, my secret text';

# mails go nowhere (nothing listens there): they stay scheduled or wait
# for a retry, as a shop's would while its mail server is down
my $no_smtp = free_port();

my $ngx = start_nginx(
    redis_port => $rport,
    http => "chatport_redis 127.0.0.1:$rport;\n"
          . "chatport_smtp smtp://127.0.0.1:$no_smtp;\n"
          . "chatport_mail_from chat\@shop.test;\n",
    server => <<"_EOC_");
        chatport_site $site;
        chatport_mail_to owner\@shop.test;
        chatport_mail_delay 1h;
        chatport_chat_rate 1000/1m;
        chatport_form_rate 1000/1m;

        location /chatport/agent/ {
            chatport_agent;
            auth_basic "ops";
            auth_basic_user_file $htpasswd;
            chatport_poll_timeout 10s;
        }

        location /chatport/ {
            chatport;
        }
_EOC_

my $port = $ngx->port;

sub redis { redis_cmd($rport, @_) }

sub agent {
    my ($method, $path, %o) = @_;
    return http_request(port => $port, method => $method,
                        path => "/chatport/agent/$path",
                        headers => { Authorization => $AUTH,
                                     %{ $o{headers} || {} } },
                        (exists $o{body} ? (body => $o{body}) : ()),
                        timeout => 20);
}

sub visitor_post {
    my ($v, $what, $body, %o) = @_;
    return $v->absorb(http_request(port => $port, method => 'POST',
                                   path => "/chatport/$what",
                                   cookie => $v->cookie,
                                   headers => $o{headers} || {},
                                   body => $body, timeout => 10));
}

sub is_error {
    my ($res, $status, $code, $what) = @_;
    is($res->{status}, $status, "$what: $status") or diag explain $res;
    is($res->{json} && $res->{json}{error}, $code, "$what: \"$code\"");
    like($res->{headers}{'content-type'} // '', qr{^application/json},
         "$what: JSON");
}

# a 1x1 GIF
my $GIF = "GIF89a" . pack('vv', 1, 1) . "\x80\x00\x00"
          . "\xff\xff\xff\x00\x00\x00"
          . "\x21\xf9\x04\x01\x00\x00\x00\x00"
          . "\x2c" . pack('vvvv', 0, 0, 1, 1) . "\x00"
          . "\x02\x02\x44\x01\x00" . "\x3b";

# every key of the Redis, each with everything it holds as text
sub dump_all {
    my %all;
    my $cursor = 0;
    do {
        my $r = redis('SCAN', $cursor, 'MATCH', '*', 'COUNT', 1000);
        $cursor = $r->[0];
        for my $k (@{ $r->[1] }) {
            my $type = redis('TYPE', $k);
            my @v;
            if ($type eq 'string') {
                @v = (redis('GET', $k));
            } elsif ($type eq 'hash') {
                @v = @{ redis('HGETALL', $k) };
            } elsif ($type eq 'set') {
                @v = @{ redis('SMEMBERS', $k) };
            } elsif ($type eq 'zset') {
                @v = @{ redis('ZRANGE', $k, 0, -1) };
            } elsif ($type eq 'list') {
                @v = @{ redis('LRANGE', $k, 0, -1) };
            } elsif ($type eq 'stream') {
                @v = map { ($_->[0], @{ $_->[1] }) }
                     @{ redis('XRANGE', $k, '-', '+') };
            }
            $all{$k} = join "\n", map { $_ // '' } @v;
        }
    } while ($cursor ne '0');
    return \%all;
}

# the keys whose name or content has one of the strings
sub mentioning {
    my ($all, @what) = @_;
    my @found;
    for my $k (sort keys %$all) {
        for my $w (@what) {
            push @found, $k
                if index($k, $w) >= 0 || index($all->{$k}, $w) >= 0;
        }
    }
    return @found;
}

# a conversation opened by a message, with the visitor
sub open_conversation {
    my ($text, %o) = @_;
    my $v = visitor(port => $port);
    my $res = $v->post($text, key => $o{key});
    is($res->{status}, 201, "conversation opened: \"$text\"")
        or diag explain $res;
    return ($v, cid_of($v->vid));
}

sub send_form {
    my ($v, $email, $text, %o) = @_;
    my $res = visitor_post($v, 'form',
                           { name => 'Eve', email => $email,
                             message => $text,
                             page => 'http://localhost/contact',
                             (defined $o{key} ? (key => $o{key}) : ()) });
    is($res->{status}, 201, "form of $email sent") or diag explain $res;
    return $res->{json}{id};
}

# ------------------------------------------------------- the conversations

# A: everything a conversation can have
my ($va, $A) = open_conversation($SECRET, key => 'retry-key-of-a');

my $res = http_request(port => $port, method => 'POST',
                       path => '/chatport/images', cookie => $va->cookie,
                       headers => { 'Content-Type' => 'image/gif' },
                       body => $GIF, timeout => 10);
is($res->{status}, 201, 'A: a photo') or diag explain $res;
my $photo = $res->{json}{id};

$res = visitor_post($va, 'page', { url => 'http://localhost/second',
                                   title => 'Second page',
                                   key => 'page-key-of-a' });
is($res->{status}, 204, 'A: a page') or diag explain $res;

my $form_a = send_form($va, 'Eve@Example.com', 'the form text of A',
                       key => 'form-key-of-a');

# the search index, laid out as LIST writes it: A under two terms, B
# under one of them
my ($vb, $B) = open_conversation('B is someone else');
redis('ZADD', "chatport:{$site}:idx:hello", 1, $A, 2, $B);
redis('ZADD', "chatport:{$site}:idx:secret", 1, $A);
redis('SADD', "chatport:{$site}:conv:$A:terms", 'hello', 'secret');
redis('SADD', "chatport:{$site}:conv:$B:terms", 'hello');

# C: another visitor who gave the same address through the form
my ($vc, $C) = open_conversation('C asks too');
my $form_c = send_form($vc, 'eve@example.com', 'the form text of C');

ok(redis('GET', "chatport:{$site}:upload-bytes") > 0,
   'the photo counts in the site\'s bytes');
ok(scalar(mentioning(dump_all(), $A)) >= 8,
   'A is in many keys before: ' . join(', ', mentioning(dump_all(), $A)));
ok(redis('EXISTS', "chatport:{$site}:conv:$A:key:retry-key-of-a"),
   'A has a retry key');
ok((grep { /\Q$A\E|form:\Q$form_a\E/ }
    @{ redis('ZRANGE', "chatport:{$site}:mail-due", 0, -1) },
    @{ redis('HKEYS', "chatport:{$site}:mail-pending") },
    map { @{ $_->[1] } }
        @{ redis('XRANGE', "chatport:{$site}:outbox", '-', '+') }),
   'A has mails scheduled');

# ------------------------------------------------------------------ export

subtest 'export by conversation' => sub {
    my $res = agent(GET => "export?conversation=$A");
    is($res->{status}, 200, '200') or diag explain $res;
    like($res->{headers}{'content-disposition'} // '', qr/^attachment/,
         'an attachment');
    my $j = $res->{json} || {};
    is($j->{conversation}, $A, 'says what it is about');
    is(scalar @{ $j->{conversations} || [] }, 1, 'one conversation');
    my $c = $j->{conversations}[0] || {};
    is($c->{id}, $A, 'A');
    is($c->{meta}{email}, 'Eve@Example.com', 'its meta');
    my @texts = map { $_->{text} } @{ $c->{messages} || [] };
    ok((grep { $_ eq $SECRET } @texts), 'its messages');
    my ($img) = grep { $_->{image} } @{ $c->{messages} || [] };
    is($img && $img->{image}{url},
       "/chatport/agent/conversations/$A/images/$photo",
       'its photo, as the operators\' URL');
    $res = agent(GET => "conversations/$A/images/$photo");
    is($res->{body}, $GIF, 'which serves the photo');
    ok((grep { $_->{url} eq 'http://localhost/second'
               && $_->{title} eq 'Second page' } @{ $c->{pages} || [] }),
       'its pages');
    is(scalar @{ $j->{forms} || [] }, 1, 'its form');
    is($j->{forms}[0]{id}, $form_a, 'the form of A');
    is($j->{forms}[0]{state}, 'new', 'with its state');
    is($j->{forms}[0]{fields}{message}, 'the form text of A', 'and fields');
    ok(!$j->{more}, 'nothing more');
};

subtest 'export by email' => sub {
    my $res = agent(GET => 'export?email=EVE%40example.COM');
    is($res->{status}, 200, '200') or diag explain $res;
    my $j = $res->{json} || {};
    is($j->{email}, 'eve@example.com', 'the address, in lower case');
    is_deeply([ sort map { $_->{id} } @{ $j->{conversations} || [] } ],
              [ sort $A, $C ], 'both conversations of the address, not B');
    is_deeply([ sort map { $_->{id} } @{ $j->{forms} || [] } ],
              [ sort $form_a, $form_c ], 'both forms');
};

# ------------------------------------------------------- erase one of them

subtest 'erase a conversation' => sub {
    my $before = redis('GET', "chatport:{$site}:upload-bytes") // 0;
    my $photo_bytes = redis('HSTRLEN', "chatport:{$site}:conv:$A:images",
                            $photo);
    my $last = redis('XREVRANGE', "chatport:{$site}:inbox", '+', '-',
                     'COUNT', 1)->[0][0];
    my $poll = open_requests([ { port => $port, method => 'GET',
                                 path => "/chatport/agent/poll?after=$last",
                                 headers => { Authorization => $AUTH } } ]);
    sleep 0.5;

    my $log = $ngx->log_size;
    my $res = agent(POST => 'erase', body => { conversation => $A });
    is($res->{status}, 204, 'erased: 204') or diag explain $res;

    my $got = $poll->collect(timeout => 10)->[0];
    is($got->{status}, 200, 'the parked poll answers');
    ok((grep { $_->{type} eq 'erased' && $_->{conversation} eq $A }
        @{ $got->{json}{events} || [] }), 'with "erased"')
        or diag explain $got;

    my $all = dump_all();
    is_deeply([ mentioning($all, $A, $form_a) ], [],
              'no key, member, field or entry names A or its form');
    ok(!exists $all->{"chatport:{$site}:idx:secret"},
       'an index key left empty is gone');
    is_deeply(redis('ZRANGE', "chatport:{$site}:idx:hello", 0, -1), [$B],
              'another conversation stays in the index');
    is(redis('GET', "chatport:{$site}:upload-bytes") // 0,
       $before - $photo_bytes, 'the photo\'s bytes are off the counter');
    ok(redis('EXISTS', "chatport:{$site}:conv:$B",
             "chatport:{$site}:conv:$C") == 2, 'B and C are kept');
    ok(mentioning($all, $C) >= 3, 'with their keys');
    ok((grep { $_ eq 'form-key-of-a' } map { /:([^:]+)$/ ? $1 : () }
        keys %$all) == 0, 'the form\'s retry key is gone');

    my $list = agent(GET => 'conversations');
    ok(!(grep { $_->{id} eq $A } @{ $list->{json}{conversations} || [] }),
       'the list has it no more');
    is_error(agent(GET => "export?conversation=$A"), 404,
             'unknown_conversation', 'exported again');
    is_error(agent(POST => 'erase', body => { conversation => $A }), 404,
             'unknown_conversation', 'erased again');
    is($va->history->{status}, 403, 'the visitor\'s cookie finds nothing');

    my $lines = $ngx->log_since($log);
    like($lines, qr/\[notice\].*operator "alice" erased conversation $A/,
         'logged at notice with the operator');
    unlike($lines, qr/\Q$SECRET\E|example\.com/i,
           'without texts or addresses');
};

# ------------------------------------------------------------ erase by email

subtest 'erase by email' => sub {
    my (undef, $D) = open_conversation('D gives the address later');
    my $v = visitor(port => $port);
    my $res = $v->post('E writes');
    my $E = cid_of($v->vid);
    $res = visitor_post($v, 'contact', { email => 'EVE@example.com' });
    is($res->{status}, 204, 'E gives the address in the chat')
        or diag explain $res;

    my $log = $ngx->log_size;
    $res = agent(POST => 'erase', body => { email => 'eve@EXAMPLE.com' });
    is($res->{status}, 204, 'erased by email: 204') or diag explain $res;

    my $all = dump_all();
    is_deeply([ mentioning($all, $C, $E, $form_c, 'eve@', 'EVE@') ], [],
              'nothing names C, E, the form or the address');
    ok(redis('EXISTS', "chatport:{$site}:conv:$B",
             "chatport:{$site}:conv:$D") == 2, 'B and D are kept');
    my $lines = $ngx->log_since($log);
    like($lines, qr/operator "alice" erased conversation $C \(by email\)/,
         'each conversation logged');
    like($lines, qr/operator "alice" erased conversation $E/, 'E too');
    unlike($lines, qr/example\.com/i, 'the address is not');
    is_error(agent(POST => 'erase', body => { email => 'eve@example.com' }),
             404, 'unknown_email', 'erased again');
    is_error(agent(GET => 'export?email=eve@example.com'), 404,
             'unknown_email', 'exported again');
};

# --------------------------------------------------------------- the limit

subtest '50 conversations a request by email' => sub {
    my @many = map { sprintf '%032x', 0xabc000 + $_ } 1 .. 51;
    for my $cid (@many) {
        redis('HSET', "chatport:{$site}:conv:$cid", 'cid', $cid,
              'email', 'many@example.com', 'status', 'open');
        redis('ZADD', "chatport:{$site}:convs", 1, $cid);
    }

    my $res = agent(GET => 'export?email=many@example.com');
    is($res->{status}, 200, 'export: 200');
    is(scalar @{ $res->{json}{conversations} || [] }, 50,
       'export: 50 conversations');
    ok($res->{json}{more}, 'export: "more"');

    $res = agent(POST => 'erase', body => { email => 'many@example.com' });
    is($res->{status}, 200, 'erase: 200 while some are left')
        or diag explain $res;
    is($res->{json}{erased}, 50, 'erase: "erased": 50');
    ok($res->{json}{more}, 'erase: "more"');
    is(scalar(mentioning(dump_all(), 'many@')), 1, 'one is left');

    $res = agent(POST => 'erase', body => { email => 'many@example.com' });
    is($res->{status}, 204, 'erase again: 204 with the last one');
    is_deeply([ mentioning(dump_all(), 'many@', @many) ], [], 'all gone');
};

# -------------------------------------------------------------- bad inputs

subtest 'bad inputs' => sub {
    my $cid = $B;
    is_error(agent(POST => 'erase', body => {}), 400, 'missing_subject',
             'erase: neither');
    is_error(agent(POST => 'erase',
                   body => { conversation => $cid, email => 'a@b.co' }),
             400, 'ambiguous_subject', 'erase: both');
    is_error(agent(POST => 'erase', body => { email => 'not an address' }),
             400, 'invalid_email', 'erase: a bad email');
    is_error(agent(POST => 'erase', body => { email => 12 }),
             400, 'invalid_email', 'erase: a number for an email');
    is_error(agent(POST => 'erase', body => { conversation => 'ABC' }),
             400, 'invalid_conversation', 'erase: a bad conversation id');
    is_error(agent(POST => 'erase', body => { conversation => '0' x 32 }),
             404, 'unknown_conversation', 'erase: an unknown conversation');
    is_error(agent(POST => 'erase', body => { email => 'nobody@b.co' }),
             404, 'unknown_email', 'erase: an unknown email');
    is_error(agent(POST => 'erase', body => '{"conversation":'), 400,
             'invalid_json', 'erase: not JSON');
    is_error(agent(POST => 'erase', body => 'conversation=x',
                   headers => { 'Content-Type' => 'text/plain' }),
             415, 'unsupported_media_type', 'erase: not JSON\'s type');
    is_error(agent(GET => 'erase'), 405, 'method_not_allowed',
             'erase: GET');
    is_error(agent(GET => 'export'), 400, 'missing_subject',
             'export: neither');
    is_error(agent(GET => "export?conversation=$cid&email=a\@b.co"), 400,
             'ambiguous_subject', 'export: both');
    is_error(agent(GET => 'export?email=nope'), 400, 'invalid_email',
             'export: a bad email');
    is_error(agent(GET => 'export?email='), 400, 'invalid_email',
             'export: an empty email');
    is_error(agent(GET => 'export?conversation=' . ('g' x 32)), 400,
             'invalid_conversation', 'export: a bad conversation id');
    is_error(agent(GET => 'export?conversation=' . ('0' x 32)), 404,
             'unknown_conversation', 'export: an unknown conversation');
    is_error(agent(POST => 'export', body => {}), 405,
             'method_not_allowed', 'export: POST');
    is(http_request(port => $port, method => 'POST',
                    path => '/chatport/agent/erase',
                    body => { conversation => $cid })->{status},
       401, 'erase: no login');
    ok(redis('EXISTS', "chatport:{$site}:conv:$cid"),
       'B was never touched');
};

done_testing();
