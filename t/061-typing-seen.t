# Typing and seen, both ways, with real clients and the shared Redis.
#
# Typing: a visitor's POST P typing reaches the operators' parked inbox
# poll, an operator's POST A conversations/CID/typing the visitor's
# parked poll and the other operators' inbox poll, as events that leave
# the cursor where it was; stops ({"typing": false}); nothing is stored
# (the site's keys, the streams' lengths and the conversation's hash are
# the same before and after); the bad inputs of both endpoints.
#
# Seen: an operator's read of a conversation stores the last visitor
# message it showed (seen_agent, only forward, also when a short history
# showed an older one) and wakes the visitor's parked poll with a "seen"
# event; the visitor's history and polls carry "seen", and a poll that
# tells an older one answers at once (one that tells none waits, as an
# older widget's must). The visitor's POST P seen is stored, reaches the
# operators' poll and GET A conversations.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(time sleep);
use JSON::PP ();

use lib 't/lib';
use ChatPort::Harness;

require_env();

my $redis = shared_redis_port();
my $SITE = 't061';
my $ID = qr/^\d+-\d+$/;

sub site_keys {
    my $keys = redis_cmd($redis, 'KEYS', "chatport:{$SITE}:*");
    return ref $keys ? sort @$keys : ();
}

# a clean slate for this file's site in the shared Redis
{
    my @keys = site_keys();
    redis_cmd($redis, 'DEL', @keys) if @keys;
}

my ($htpasswd, $auth) = operators(alice => 'secret', bob => 'pw');
my %AUTH = %$auth;

# /chatport/agent2/ shows at most 2 messages in one answer: an operator
# who saw only the older ones
my $ngx = start_nginx(server => <<"_EOC_");
        chatport_site $SITE;

        location /chatport/ {
            chatport;
            chatport_poll_timeout 10s;
        }

        location /chatport/agent/ {
            chatport_agent;
            auth_basic "ops";
            auth_basic_user_file $htpasswd;
            chatport_poll_timeout 10s;
        }

        location /chatport/agent2/ {
            chatport_agent;
            auth_basic "ops";
            auth_basic_user_file $htpasswd;
            chatport_history 2;
        }
_EOC_

my $port = $ngx->port;

# an operator's request: below /chatport/agent/ (prefix => ... for another)
sub agent_request {
    my ($method, $path, $body, %o) = @_;
    my %h = (Authorization => $AUTH{ $o{user} || 'alice' },
             %{ $o{headers} || {} });
    return { port => $port, method => $method,
             path => ($o{prefix} || '/chatport/agent/') . $path,
             headers => \%h, (defined $body ? (body => $body) : ()) };
}

sub agent {
    return http_request(%{ agent_request(@_) }, timeout => 5);
}

# a visitor's POST below /chatport/ with its cookie
sub vpost {
    my ($v, $what, $body, %o) = @_;
    return http_request(port => $port, method => 'POST',
                        path => "/chatport/$what",
                        cookie => exists $o{cookie} ? $o{cookie} : $v->cookie,
                        headers => $o{headers} || {},
                        (defined $body ? (body => $body) : ()),
                        timeout => 5);
}

# the inbox's cursor now (its backlog answers at once)
sub inbox_cursor {
    my $res = agent(GET => 'poll');
    die "inbox poll: $res->{status}" unless $res->{status} == 200;
    return $res->{json}{cursor};
}

# Opens the polls, then sends what $send does every 0.3 s until every
# poll answered (a poll that was not parked yet when one came misses it:
# typing is best effort). Returns the answers.
sub woken {
    my ($polls, $send) = @_;
    my $b = open_requests($polls);
    my $deadline = time + 8;
    my $sent = 0;

    while ($b->pump(0.3) && time < $deadline) {
        $send->();
        $sent++;
    }

    my $answers = $b->collect(timeout => 0.1);
    diag("sent $sent times before every poll answered") if $sent > 3;
    return $answers;
}

# an answer that does not come within $secs (the poll holds)
sub held {
    my ($req, $secs) = @_;
    my $b = open_requests([$req]);
    my $res = $b->collect(timeout => $secs)->[0];
    return $res->{status} == 0 && ($res->{error} // '') eq 'timeout';
}

# the site's stored state: its keys, the streams' lengths, the hashes;
# but the operators' presence, which their inbox polls write
sub stored { site_state($redis, $SITE) }

my $v = visitor(port => $port);
my $res = $v->post('Hello, is anybody typing?');
is($res->{status}, 201, 'a visitor opens a conversation') or diag explain $res;
my $m1 = $res->{json}{id};
my $cid = cid_of($v->vid // '');
my $meta = "chatport:{$SITE}:conv:$cid";

# --------------------------------------------------------------- typing

my $before = stored();

subtest 'visitor types: the operators hear it, the cursor stays' => sub {
    my $c = inbox_cursor();

    my $a = woken([ agent_request(GET => "poll?after=$c"),
                    agent_request(GET => "poll?after=$c", undef,
                                  user => 'bob') ],
                  sub {
                      my $r = vpost($v, 'typing', {});
                      is($r->{status}, 204, 'POST P typing {}: 204')
                          or diag explain $r;
                      is($r->{body}, '', '... no body');
                  });

    for my $i (0, 1) {
        is($a->[$i]{status}, 200, "operator $i: the poll answered");
        cmp_ok($a->[$i]{elapsed} // 99, '<', 9,
               "operator $i: woken, not at the poll timeout");
        is_deeply($a->[$i]{json},
                  { events => [ { type => 'typing', conversation => $cid,
                                  site => $SITE, from => 'visitor',
                                  typing => JSON::PP::true } ],
                    cursor => $c },
                  "operator $i: the typing event, the cursor unchanged")
            or diag $a->[$i]{body};
    }

    # a stop, also with an empty body for a start
    $a = woken([ agent_request(GET => "poll?after=$c") ],
               sub { vpost($v, 'typing', { typing => JSON::PP::false }) });
    is_deeply($a->[0]{json}{events},
              [ { type => 'typing', conversation => $cid, site => $SITE,
                  from => 'visitor', typing => JSON::PP::false } ],
              '{"typing": false}: a stop')
        or diag $a->[0]{body};

    $a = woken([ agent_request(GET => "poll?after=$c") ],
               sub { vpost($v, 'typing', '') });
    is($a->[0]{json}{events}[0]{typing}, JSON::PP::true,
       'an empty body: typing') or diag $a->[0]{body};

    $a = woken([ agent_request(GET => "poll?after=$c") ],
               sub { vpost($v, 'typing', { typing => undef, x => 1 }) });
    is($a->[0]{json}{events}[0]{typing}, JSON::PP::true,
       '"typing": null and other members: typing') or diag $a->[0]{body};

    # the visitor's own poll does not hear its typing
    my $b = open_requests([ $v->poll_request($m1) ]);
    sleep 0.3;
    is(vpost($v, 'typing', {})->{status}, 204, 'typing again');
    my $own = $b->collect(timeout => 1)->[0];
    is($own->{error}, 'timeout', "the visitor's own poll is not woken");
};

subtest 'operator types: the visitor and the other operators hear it' => sub {
    my $c = inbox_cursor();

    my $a = woken([ $v->poll_request($m1),
                    agent_request(GET => "poll?after=$c", undef,
                                  user => 'bob') ],
                  sub {
                      my $r = agent(POST => "conversations/$cid/typing", {});
                      is($r->{status}, 204, 'POST A .../typing: 204')
                          or diag explain $r;
                  });

    is($a->[0]{status}, 200, "the visitor's poll answered");
    cmp_ok($a->[0]{elapsed} // 99, '<', 9, '... woken');
    is_deeply($a->[0]{json},
              { messages => [],
                events => [ { type => 'typing', from => 'agent',
                              agent => 'alice', typing => JSON::PP::true } ],
                cursor => $m1 },
              "the visitor's poll: the event with the operator's name, no "
              . 'message, the cursor unchanged')
        or diag $a->[0]{body};

    is_deeply($a->[1]{json},
              { events => [ { type => 'typing', conversation => $cid,
                              site => $SITE, from => 'agent', agent => 'alice',
                              typing => JSON::PP::true } ],
                cursor => $c },
              "bob's inbox poll: alice types in that conversation")
        or diag $a->[1]{body};

    $a = woken([ $v->poll_request($m1) ],
               sub { agent(POST => "conversations/$cid/typing",
                           { typing => JSON::PP::false }) });
    is_deeply($a->[0]{json}{events},
              [ { type => 'typing', from => 'agent', agent => 'alice',
                  typing => JSON::PP::false } ], 'a stop')
        or diag $a->[0]{body};

    $a = woken([ $v->poll_request($m1) ],
               sub { agent(POST => "conversations/$cid/typing", '') });
    is($a->[0]{json}{events}[0]{typing}, JSON::PP::true, 'an empty body')
        or diag $a->[0]{body};
};

subtest 'typing stays in its conversation' => sub {
    is_deeply(stored(), $before, 'nothing stored by the typing so far')
        or diag explain [ $before, stored() ];

    my $w = visitor(port => $port);
    is($w->post('Another visitor')->{status}, 201,
       'a second visitor opens a conversation');
    my $wcid = cid_of($w->vid // '');
    $before = stored();
    my $c = inbox_cursor();

    my $a = woken([ agent_request(GET => "poll?after=$c") ],
                  sub { vpost($w, 'typing', {}) });
    is($a->[0]{json}{events}[0]{conversation}, $wcid,
       "the second visitor's typing names its own conversation")
        or diag $a->[0]{body};

    # an operator typing in the second conversation: the first visitor's
    # poll does not hear it, the second's does
    my $b = open_requests([ $v->poll_request($m1) ]);
    $a = woken([ $w->poll_request($w->history->{json}{cursor}) ],
               sub { agent(POST => "conversations/$wcid/typing", {}) });
    is($a->[0]{json}{events}[0]{type}, 'typing',
       "the second visitor's poll hears its operator");
    is($b->collect(timeout => 1)->[0]{error}, 'timeout',
       "the first visitor's poll does not");
};

subtest 'typing stores nothing' => sub {
    is_deeply(stored(), $before,
              'the same keys, stream lengths and hashes as before')
        or diag explain [ $before, stored() ];
    is(redis_cmd($redis, 'XLEN', "chatport:{$SITE}:inbox"),
       $before->{"chatport:{$SITE}:inbox"}, 'no inbox event stored');
};

subtest 'typing: bad input' => sub {
    my $r = vpost($v, 'typing', {}, cookie => undef);
    is($r->{status}, 403, 'no cookie: 403');
    is($r->{json}{error}, 'unknown_visitor', '... unknown_visitor');

    $r = vpost($v, 'typing', {}, cookie => 'chatport_vid=' . ('ab' x 16));
    is($r->{status}, 403, 'a cookie without a conversation: 403');
    is($r->{json}{error}, 'unknown_visitor', '... unknown_visitor');

    $r = vpost($v, 'typing', {}, cookie => 'chatport_vid=xyz');
    is($r->{status}, 403, 'a malformed cookie: 403');

    $r = vpost($v, 'typing', {},
               headers => { Origin => 'https://evil.test' });
    is($r->{status}, 403, 'another origin: 403');
    is($r->{json}{error}, 'cross_origin', '... cross_origin');

    $r = vpost($v, 'typing', '{}',
               headers => { 'Content-Type' => 'text/plain' });
    is($r->{status}, 415, 'text/plain: 415');

    $r = vpost($v, 'typing/x', {});
    is($r->{status}, 404, 'POST P typing/x: 404');
    is($r->{json}{error}, 'not_found', '... not_found');

    $r = http_request(port => $port, path => '/chatport/typing',
                      cookie => $v->cookie);
    is($r->{status}, 405, 'GET: 405');
    is($r->{headers}{allow}, 'POST', '... Allow: POST');
    is($r->{json}{error}, 'method_not_allowed', '... as JSON');

    for my $bad ('{"typing": "yes"}', '{"typing": 1}', '{"typing": []}') {
        $r = vpost($v, 'typing', $bad);
        is($r->{status}, 400, "$bad: 400");
        is($r->{json}{error}, 'invalid_typing', '... invalid_typing');
    }

    for my $bad ('{', '[true]', '"typing"', "{\"typing\": true}\x00") {
        $r = vpost($v, 'typing', $bad);
        is($r->{status}, 400, 'not a JSON object: 400');
        is($r->{json}{error}, 'invalid_json', '... invalid_json');
    }

    $r = vpost($v, 'typing', '{"pad": "' . ('x' x 2000) . '"}');
    is($r->{status}, 413, 'a 2 KB body: 413');
    is($r->{json}{error}, 'body_too_large', '... body_too_large');

    # the operator's
    $r = agent(POST => 'conversations/nothex/typing', {});
    is($r->{status}, 403, 'a malformed CID: 403');
    is($r->{json}{error}, 'unknown_conversation', '... unknown_conversation');

    $r = agent(POST => 'conversations/' . ('0' x 32) . '/typing', {});
    is($r->{status}, 403, 'an unknown CID: 403');
    is($r->{json}{error}, 'unknown_conversation', '... unknown_conversation');

    $r = agent(POST => "conversations/$cid/typing/x", {});
    is($r->{status}, 404, 'POST A .../typing/x: 404');

    $r = agent(GET => "conversations/$cid/typing");
    is($r->{status}, 405, 'GET: 405');
    is($r->{headers}{allow}, 'POST', '... Allow: POST');

    $r = agent(POST => "conversations/$cid/typing", {},
               headers => { Origin => 'https://evil.test' });
    is($r->{status}, 403, 'another origin: 403');
    is($r->{json}{error}, 'cross_origin', '... cross_origin');

    $r = agent(POST => "conversations/$cid/typing", 'x',
               headers => { 'Content-Type' => 'text/plain' });
    is($r->{status}, 415, 'text/plain: 415');

    $r = agent(POST => "conversations/$cid/typing", '{"typing": "no"}');
    is($r->{status}, 400, 'a string: 400');
    is($r->{json}{error}, 'invalid_typing', '... invalid_typing');

    $r = agent(POST => "conversations/$cid/typing", '[]');
    is($r->{status}, 400, 'an array: 400 invalid_json');

    $r = agent(POST => "conversations/$cid/typing",
               '{"pad": "' . ('x' x 2000) . '"}');
    is($r->{status}, 413, 'a 2 KB body: 413');

    $r = http_request(port => $port, method => 'POST',
                      path => "/chatport/agent/conversations/$cid/typing",
                      body => {});
    is($r->{status}, 401, 'without a login: 401');

    is_deeply(stored(), $before, 'and still nothing stored');
};

# ----------------------------------------------------------------- seen

subtest "an operator's read: seen by the visitor's poll and history" => sub {
    my $m2 = $v->post('A second question')->{json}{id};
    like($m2, $ID, 'a second message');

    $res = $v->history;
    ok(!exists $res->{json}{seen}, 'history: nothing seen yet')
        or diag $res->{body};
    is_deeply($res->{json}{events}, [], '... no event');

    # the visitor's widget polls, telling what it knows
    my $a = woken([ $v->poll_request("$m2&seen=0-0") ],
                  sub {
                      my $r = agent(GET => "conversations/$cid/messages");
                      is($r->{status}, 200, 'the operator reads');
                      ok(!exists $r->{json}{seen},
                         '... an operator is not told "seen"');
                  });
    is($a->[0]{status}, 200, "the visitor's poll answered");
    # from pub/sub, or (not parked yet) from its read: the same news
    is_deeply({ map { $_ => $a->[0]{json}{$_} } qw(messages events cursor) },
              { messages => [], events => [ { type => 'seen', id => $m2 } ],
                cursor => $m2 },
              'a seen event with the last visitor message, the cursor '
              . 'unchanged') or diag $a->[0]{body};

    is(redis_cmd($redis, 'HGET', $meta, 'seen_agent'), $m2,
       'stored as seen_agent');

    # a reload
    $res = $v->history;
    is($res->{json}{seen}, $m2, 'history: "seen"') or diag $res->{body};
    $res = $v->history($m1);
    is($res->{json}{seen}, $m2, 'history after an id: "seen" too');

    # a poll that knows an older one, or none, answers at once
    for my $known ('0-0', $m1) {
        $res = $v->poll("$m2&seen=$known");
        is_deeply($res->{json},
                  { messages => [], events => [ { type => 'seen', id => $m2 } ],
                    status => 'open', seen => $m2, cursor => $m2 },
                  "a poll that knows $known: at once, with the event")
            or diag $res->{body};
    }

    ok(held($v->poll_request("$m2&seen=$m2"), 1),
       'a poll that knows it: held');
    ok(held($v->poll_request($m2), 1),
       'a poll that tells no seen id (an older widget): held');

    $res = $v->poll("$m2&seen=x");
    is($res->{status}, 400, 'seen=x: 400');
    is($res->{json}{error}, 'invalid_seen', '... invalid_seen');

    # an operator's reply is no visitor message: seen stays
    my $reply = agent(POST => "conversations/$cid/messages",
                      { text => 'Yes, here!' })->{json}{id};
    like($reply, $ID, 'an operator replies');
    agent(GET => "conversations/$cid/messages?after=$m2");
    is(redis_cmd($redis, 'HGET', $meta, 'seen_agent'), $m2,
       'reading only the reply: seen_agent stays');

    # a message delivered to a parked poll: events beside the messages
    my $posted;
    $a = woken([ $v->poll_request("$reply&seen=$m2") ],
               sub { $posted ||= agent(POST => "conversations/$cid/messages",
                                       { text => 'One more' }) });
    is_deeply($a->[0]{json}{events}, [], 'a message answer has "events": []')
        or diag $a->[0]{body};
    is($a->[0]{json}{messages}[0]{text}, 'One more', '... and the message');
};

subtest 'seen by operators only moves forward' => sub {
    my $w = visitor(port => $port);
    my @m = map { $w->post("question $_")->{json}{id} } 1 .. 5;
    is(scalar(grep { defined && /$ID/ } @m), 5, 'five visitor messages');
    my $wcid = cid_of($w->vid // '');
    my $wmeta = "chatport:{$SITE}:conv:$wcid";

    # agent2 shows 2 at a time
    $res = agent(GET => "conversations/$wcid/messages", undef,
                 prefix => '/chatport/agent2/');
    is(scalar @{ $res->{json}{messages} || [] }, 2, 'agent2: 2 messages');
    is(redis_cmd($redis, 'HGET', $wmeta, 'seen_agent'), $m[1],
       'seen up to the last one shown');

    $res = agent(GET => "conversations/$wcid/messages?after=$m[1]", undef,
                 prefix => '/chatport/agent2/');
    is(redis_cmd($redis, 'HGET', $wmeta, 'seen_agent'), $m[3],
       'the next two: seen up to the 4th');

    $res = agent(GET => "conversations/$wcid/messages");
    is(redis_cmd($redis, 'HGET', $wmeta, 'seen_agent'), $m[4],
       'the whole conversation: the 5th');

    # an older page shown again takes nothing back, tells nobody
    my $b = open_requests([ $w->poll_request("$m[4]&seen=$m[4]") ]);
    sleep 0.3;
    $res = agent(GET => "conversations/$wcid/messages", undef,
                 prefix => '/chatport/agent2/');
    is($res->{status}, 200, 'agent2 reads the first two again');
    is(redis_cmd($redis, 'HGET', $wmeta, 'seen_agent'), $m[4],
       'seen_agent stays at the 5th');
    my $p = $b->collect(timeout => 1)->[0];
    is($p->{error}, 'timeout', 'and the parked poll is not woken');
};

subtest "the visitor's seen: stored, told to the operators, listed" => sub {
    my $reply = agent(POST => "conversations/$cid/messages",
                      { text => 'Anything else?' })->{json}{id};
    my $c = inbox_cursor();

    my $b = open_requests([ agent_request(GET => "poll?after=$c") ]);
    sleep 0.3;
    my $r = vpost($v, 'seen', { id => $reply });
    is($r->{status}, 204, 'POST P seen: 204');
    my $a = $b->collect(timeout => 8)->[0];
    my ($ev) = @{ $a->{json}{events} || [] };
    is($ev->{type}, 'seen', 'the inbox poll: a seen event') or diag $a->{body};
    is($ev->{conversation}, $cid, '... of the conversation');
    is($ev->{id}, $reply, '... up to the reply');
    is(redis_cmd($redis, 'HGET', $meta, 'seen_visitor'), $reply,
       'stored as seen_visitor');
    my ($conv) = grep { $_->{id} eq $cid }
                 @{ agent(GET => 'conversations')->{json}{conversations} };
    is($conv->{seen}, $reply, 'GET A conversations: "seen" (a reload)');
};

done_testing();
