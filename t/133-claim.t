# Claim, assign and release a conversation (POST A conversations/CID/claim
# and .../release): the meta's "claimed" holds the login; an operator
# who holds nothing of it gets 409 {"error": "claimed", "operator"}
# unless it forces; each change is one "claimed" inbox event (stored:
# a console that reconnects hears it), a request that changes nothing is
# none; the bad inputs. The race: in each of 20 conversations, 10 claims
# from alice and 10 from bob at once on two workers: exactly one of them
# gets it, every claim of the other is answered 409 naming the winner,
# and one event is stored.

use strict;
use warnings;

use Test::More;
use List::Util qw(shuffle);
use JSON::PP ();

use lib 't/lib';
use ChatPort::Harness;

require_env();

my $redis = shared_redis_port();
my $SITE = 't133';

sub site_keys {
    my $keys = redis_cmd($redis, 'KEYS', "chatport:{$SITE}:*");
    return ref $keys ? sort @$keys : ();
}

{
    my @keys = site_keys();
    redis_cmd($redis, 'DEL', @keys) if @keys;
}

my ($htpasswd, $auth) = operators(alice => 'a', bob => 'b', carol => 'c');
my %AUTH = %$auth;

# /chatport/agent/ names its operators; /chatport/open/ names none
my $ngx = start_nginx(workers => 2, server => <<"_EOC_");
        chatport_site $SITE;

        location /chatport/ {
            chatport;
            chatport_chat_rate 1000/10m;
        }

        location /chatport/agent/ {
            chatport_agent;
            auth_basic "ops";
            auth_basic_user_file $htpasswd;
            chatport_operator alice "Alice";
            chatport_operator bob "Bob";
            chatport_operator carol "Carol";
        }

        location /chatport/open/ {
            chatport_agent;
            auth_basic "ops";
            auth_basic_user_file $htpasswd;
        }
_EOC_

my $port = $ngx->port;

sub agent_request {
    my ($method, $path, $body, %o) = @_;
    return { port => $port, method => $method,
             path => ($o{prefix} || '/chatport/agent/') . $path,
             headers => { Authorization => $AUTH{ $o{user} || 'alice' },
                          %{ $o{headers} || {} } },
             (defined $body ? (body => $body) : ()) };
}

sub agent {
    return http_request(%{ agent_request(@_) }, timeout => 5);
}

sub conversation {
    my $v = visitor(port => $port);
    my $res = $v->post('Hello ' . rand());
    die "a visitor's post: $res->{status}\n" unless $res->{status} == 201;
    return cid_of($v->vid);
}

sub holder {
    my ($cid) = @_;
    return redis_cmd($redis, 'HGET', "chatport:{$SITE}:conv:$cid", 'claimed');
}

# the claimed events of a conversation stored in the inbox
sub events {
    my ($cid) = @_;
    my $all = redis_cmd($redis, 'XRANGE', "chatport:{$SITE}:inbox", '-', '+');
    my @ev;
    for my $e (@$all) {
        my $j = JSON::PP::decode_json($e->[1][1]);
        push @ev, $j if $j->{type} eq 'claimed' && $j->{conversation} eq $cid;
    }
    return @ev;
}

my $cid = conversation();

subtest 'claim, take over, assign, release' => sub {
    my $c = agent(GET => 'poll', undef, user => 'bob')->{json}{cursor};

    my $r = agent(POST => "conversations/$cid/claim", {});
    is($r->{status}, 204, 'alice claims: 204') or diag explain $r;
    is($r->{body}, '', '... no body');
    is(holder($cid), 'alice', '"claimed": alice');

    my $p = agent(GET => "poll?after=$c", undef, user => 'bob');
    is_deeply([ map { { %$_, id => 'x', ts => 0 } } @{ $p->{json}{events} } ],
              [ { id => 'x', ts => 0, type => 'claimed', conversation => $cid,
                  site => $SITE, operator => 'alice', name => 'Alice',
                  by => 'alice' } ],
              "bob's inbox poll: the claimed event") or diag $p->{body};

    $r = agent(POST => "conversations/$cid/claim", '');
    is($r->{status}, 204, 'alice claims again (an empty body): 204');
    is(scalar(events($cid)), 1, '... no second event');

    $r = agent(POST => "conversations/$cid/claim", {}, user => 'bob');
    is($r->{status}, 409, 'bob claims: 409');
    is($r->{json}{error}, 'claimed', '... claimed');
    is($r->{json}{operator}, 'alice', '... by alice');
    is($r->{json}{name}, 'Alice', '... her name');
    like($r->{json}{message}, qr/force/, '... a message');

    $r = agent(POST => "conversations/$cid/release", {}, user => 'bob');
    is($r->{status}, 409, 'bob releases: 409');
    is($r->{json}{operator}, 'alice', '... alice has it');

    $r = agent(POST => "conversations/$cid/claim",
               { operator => 'carol' }, user => 'bob');
    is($r->{status}, 409, 'bob assigns it to carol: 409');
    is(holder($cid), 'alice', '... alice still has it');

    $r = agent(POST => "conversations/$cid/claim",
               { force => JSON::PP::true }, user => 'bob');
    is($r->{status}, 204, 'bob takes it over ("force": true): 204');
    is(holder($cid), 'bob', '"claimed": bob');

    $r = agent(POST => "conversations/$cid/claim",
               { operator => 'carol' }, user => 'bob');
    is($r->{status}, 204, 'bob assigns it to carol: 204');
    is(holder($cid), 'carol', '"claimed": carol');

    $r = agent(POST => "conversations/$cid/claim",
               { operator => 'bob', force => JSON::PP::false });
    is($r->{status}, 409, 'alice assigns it to bob: 409 (carol has it)');
    is($r->{json}{operator}, 'carol', '... carol');

    $r = agent(POST => "conversations/$cid/claim",
               { operator => 'carol' }, user => 'carol');
    is($r->{status}, 204, 'carol assigns it to herself: 204, unchanged');

    $r = agent(POST => "conversations/$cid/release", {}, user => 'carol');
    is($r->{status}, 204, 'carol releases: 204');
    is(holder($cid), undef, 'no "claimed" any more');

    $r = agent(POST => "conversations/$cid/release", {}, user => 'bob');
    is($r->{status}, 204, 'bob releases it, held by nobody: 204');

    $r = agent(POST => "conversations/$cid/claim", {}, user => 'bob');
    is($r->{status}, 204, 'bob claims it');
    $r = agent(POST => "conversations/$cid/release",
               { force => JSON::PP::true });
    is($r->{status}, 204, 'alice releases it with "force": 204');
    is(holder($cid), undef, '... nobody has it');

    my @ev = map { [ $_->{operator}, $_->{by}, $_->{name} ] } events($cid);
    is_deeply(\@ev, [ [ 'alice', 'alice', 'Alice' ], [ 'bob', 'bob', 'Bob' ],
                      [ 'carol', 'bob', 'Carol' ], [ undef, 'carol', undef ],
                      [ 'bob', 'bob', 'Bob' ], [ undef, 'alice', undef ] ],
              'one stored event per change: operator (null: released), by, '
              . 'name') or diag explain \@ev;
};

subtest 'assigning' => sub {
    my $r = agent(POST => "conversations/$cid/claim", { operator => 'zed' });
    is($r->{status}, 400, 'to a login the location does not name: 400');
    is($r->{json}{error}, 'unknown_operator', '... unknown_operator');

    $r = agent(POST => "conversations/$cid/claim", { operator => 'zed' },
               prefix => '/chatport/open/');
    is($r->{status}, 204, 'where no operator is named, any login: 204');
    is(holder($cid), 'zed', '"claimed": zed');
    my ($ev) = grep { ($_->{operator} // '') eq 'zed' } events($cid);
    ok($ev && !exists $ev->{name}, '... its event has no name');

    $r = agent(POST => "conversations/$cid/claim", {}, user => 'bob',
               prefix => '/chatport/open/');
    is($r->{status}, 409, 'bob claims it: 409');
    ok(!exists $r->{json}{name}, '... no name for zed');
    is(agent(POST => "conversations/$cid/release",
             { force => JSON::PP::true })->{status}, 204, 'released');
};

subtest 'bad input' => sub {
    my $before = redis_cmd($redis, 'XLEN', "chatport:{$SITE}:inbox");

    for my $case ([ '{"operator": 12}', 'a number' ],
                  [ '{"operator": ""}', 'empty' ],
                  [ '{"operator": "al ice"}', 'a space' ],
                  [ '{"operator": "' . ('a' x 65) . '"}', '65 bytes' ],
                  [ '{"operator": ["bob"]}', 'an array' ]) {
        my $r = agent(POST => "conversations/$cid/claim", $case->[1] && $case->[0]);
        is($r->{status}, 400, "\"operator\" $case->[1]: 400");
        is($r->{json}{error}, 'invalid_operator', '... invalid_operator');
    }

    for my $bad ('{"force": "yes"}', '{"force": 1}') {
        my $r = agent(POST => "conversations/$cid/claim", $bad);
        is($r->{status}, 400, "$bad: 400");
        is($r->{json}{error}, 'invalid_force', '... invalid_force');
        $r = agent(POST => "conversations/$cid/release", $bad);
        is($r->{status}, 400, "release $bad: 400");
    }

    for my $bad ('{', '[]', '"x"') {
        my $r = agent(POST => "conversations/$cid/claim", $bad);
        is($r->{status}, 400, "$bad: 400");
        is($r->{json}{error}, 'invalid_json', '... invalid_json');
    }

    my $r = agent(POST => "conversations/$cid/claim",
                  '{"pad": "' . ('x' x 2000) . '"}');
    is($r->{status}, 413, 'a 2 KB body: 413');
    is($r->{json}{error}, 'body_too_large', '... body_too_large');

    $r = agent(POST => "conversations/$cid/claim", '{}',
               headers => { 'Content-Type' => 'text/plain' });
    is($r->{status}, 415, 'text/plain: 415');
    is($r->{json}{error}, 'unsupported_media_type', '... as JSON');

    $r = agent(POST => "conversations/$cid/claim", {},
               headers => { Origin => 'https://evil.test' });
    is($r->{status}, 403, 'another origin: 403');
    is($r->{json}{error}, 'cross_origin', '... cross_origin');

    for my $what ('claim', 'release') {
        $r = agent(GET => "conversations/$cid/$what");
        is($r->{status}, 405, "GET .../$what: 405");
        is($r->{headers}{allow}, 'POST', '... Allow: POST');
        is($r->{json}{error}, 'method_not_allowed', '... as JSON');

        $r = agent(POST => "conversations/nothex/$what", {});
        is($r->{status}, 403, "a malformed CID ($what): 403");
        is($r->{json}{error}, 'unknown_conversation', '...');

        $r = agent(POST => 'conversations/' . ('0' x 32) . "/$what", {});
        is($r->{status}, 403, "an unknown CID ($what): 403");
        is($r->{json}{error}, 'unknown_conversation', '...');
    }

    $r = http_request(port => $port, method => 'POST',
                      path => "/chatport/agent/conversations/$cid/claim",
                      body => {});
    is($r->{status}, 401, 'without a login: 401');

    is(redis_cmd($redis, 'XLEN', "chatport:{$SITE}:inbox"), $before,
       'no event from any of them');
    is(holder($cid), undef, 'nobody has it');
    ok(!grep(/:(?:canned|claim)/, site_keys()), 'no other key');
};

subtest 'the race: two operators claim at once, one wins' => sub {
    my %won;
    for my $round (1 .. 20) {
        my $cid = conversation();
        # in a random order, so that either may come first
        my @who = shuffle((qw(alice bob)) x 10);
        my @reqs = map { agent_request(POST => "conversations/$cid/claim",
                                       {}, user => $_) } @who;
        my $res = open_requests(\@reqs)->collect(timeout => 10);
        my (%ok, %conflict, @other);
        for my $i (0 .. $#reqs) {
            my $who = $who[$i];
            if ($res->[$i]{status} == 204) {
                $ok{$who}++;
            } elsif ($res->[$i]{status} == 409) {
                $conflict{$who}{ $res->[$i]{json}{operator} }++;
            } else {
                push @other, $res->[$i]{status};
            }
        }
        my @winners = keys %ok;
        my $w = $winners[0] // '';
        my $l = $w eq 'alice' ? 'bob' : 'alice';
        my $fine = @winners == 1 && !@other && $ok{$w} == 10
                   && ($conflict{$l}{$w} // 0) == 10
                   && (holder($cid) // '') eq $w
                   && scalar(events($cid)) == 1;
        ok($fine, "round $round: $w won, each of its 10 claims 204, each "
                  . "of ${l}'s 409 naming $w, one event")
            or diag explain { ok => \%ok, conflict => \%conflict,
                              other => \@other, holder => holder($cid),
                              events => [ events($cid) ] };
        $won{$w}++;
    }
    diag('wins: ' . join(', ', map { "$_ $won{$_}" } sort keys %won));
};

done_testing();
