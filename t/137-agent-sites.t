# chatport_agent_sites: three sites (three servers, one nginx, one Redis)
# and an operator location for two of them. Its list holds both listed
# sites' conversations, each labelled, never the third's; replies reach
# the right visitor; "site" naming the third site is refused, and so is a
# conversation of the third site under a listed site's name; the inbox of
# each listed site is heard, its events labelled; forms merge; presence is
# per site (a visitor of the site the operator is present on sees online,
# a visitor of the other does not).

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(time sleep);

use lib 't/lib';
use ChatPort::Harness;

require_env();

my $redis = shared_redis_port();
my ($A, $B, $C) = ('t137a', 't137b', 't137c');

for my $site ($A, $B, $C) {
    my $keys = redis_cmd($redis, 'KEYS', "chatport:{$site}:*");
    redis_cmd($redis, 'DEL', @$keys) if ref $keys && @$keys;
}

my ($htpasswd, $auth) = operators(alice => 'secret');
my $AUTH = $auth->{alice};

my $port = free_port();

# site A is the operator location's own server; B and C are other
# servers (other Host names) on the same port
my $ngx = start_nginx(port => $port, workers => 2, server => <<"_EOC_",
        chatport_site $A;
        chatport_presence_grace 60s;

        location /chatport/ {
            chatport;
        }

        location /chatport/agent/ {
            chatport_agent;
            chatport_agent_sites $A $B;
            chatport_poll_timeout 30s;
            auth_basic "ops";
            auth_basic_user_file $htpasswd;
        }
_EOC_
    http => <<"_EOC_");
    server {
        listen 127.0.0.1:$port;
        server_name b.test;
        chatport_site $B;
        chatport_presence_grace 60s;

        location /chatport/ {
            chatport;
        }
    }

    server {
        listen 127.0.0.1:$port;
        server_name c.test;
        chatport_site $C;

        location /chatport/ {
            chatport;
        }

        location /chatport/agent/ {
            chatport_agent;
            auth_basic "ops";
            auth_basic_user_file $htpasswd;
        }
    }
_EOC_

my %HOST = ($A => 'localhost', $B => 'b.test', $C => 'c.test');

sub agent_request {
    my ($method, $path, $body, %o) = @_;
    return { port => $port, method => $method,
             path => "/chatport/agent/$path",
             headers => { Authorization => $AUTH,
                          Host => $o{host} || 'localhost' },
             (defined $body ? (body => $body) : ()) };
}

sub agent {
    my ($method, $path, $body, %o) = @_;
    return http_request(%{ agent_request($method, $path, $body, %o) },
                        timeout => 10);
}

sub error_of {
    my ($res) = @_;
    return "$res->{status} " . (($res->{json} || {})->{error} // '(not JSON)');
}

my %v = map { $_ => visitor(port => $port) } ($A, $B, $C);
my %cid;

for my $site ($A, $B, $C) {
    my $res = $v{$site}->post("hello from $site",
                              headers => { Host => $HOST{$site} });
    is($res->{status}, 201, "visitor of $site: 201");
    $cid{$site} = cid_of($v{$site}->vid);
}

subtest 'the list: both listed sites, labelled, never the third' => sub {
    my $res = agent(GET => 'conversations');
    is($res->{status}, 200, 'GET A conversations: 200');

    my %got = map { $_->{id} => $_->{site} }
              @{ ($res->{json} || {})->{conversations} || [] };
    is(scalar keys %got, 2, 'two conversations');
    is($got{ $cid{$A} }, $A, "site ${A}'s, labelled $A");
    is($got{ $cid{$B} }, $B, "site ${B}'s, labelled $B");
    ok(!exists $got{ $cid{$C} }, "never site ${C}'s");

    # written in the same millisecond, the higher id comes first
    my @list = @{ $res->{json}{conversations} };
    ok($list[0]{updated} > $list[1]{updated}
       || ($list[0]{updated} == $list[1]{updated}
           && $list[0]{id} gt $list[1]{id}),
       'newest activity first');
    my %last = map { $_->{site} => $_->{last}{text} } @list;
    is_deeply(\%last, { $A => "hello from $A", $B => "hello from $B" },
              'each with its last message');

    $res = agent(GET => "conversations?site=$B");
    is($res->{status}, 200, "?site=$B: 200");
    is_deeply([ map { "$_->{id} $_->{site}" }
                @{ $res->{json}{conversations} } ],
              [ "$cid{$B} $B" ], '... only its conversation');

    $res = agent(GET => 'conversations?limit=1');
    is(scalar @{ $res->{json}{conversations} }, 1, 'limit=1: one');
    is($res->{json}{conversations}[0]{id}, $list[0]{id}, '... the newest');

    is(error_of(agent(GET => "conversations?site=$C")), '400 invalid_site',
       "?site=$C: 400 invalid_site");
    is(error_of(agent(GET => 'conversations?site=')), '400 invalid_site',
       '?site= empty: 400 invalid_site');
    is(error_of(agent(GET => 'conversations?limit=0')), '400 invalid_limit',
       'limit=0: 400 invalid_limit');
};

subtest 'one conversation: named by its site, never another site' => sub {
    my $res = agent(GET => "conversations/$cid{$A}/messages?site=$A");
    is($res->{status}, 200, "${A}'s messages with site=$A: 200");
    is($res->{json}{messages}[0]{text}, "hello from $A", '... its text');

    is(error_of(agent(GET => "conversations/$cid{$A}/messages")),
       '400 invalid_site', 'without site: 400 invalid_site');
    is(error_of(agent(GET => "conversations/$cid{$C}/messages?site=$C")),
       '400 invalid_site', "site=$C (not listed): 400 invalid_site");
    is(error_of(agent(GET => "conversations/$cid{$C}/messages?site=$A")),
       '403 unknown_conversation',
       "a conversation of $C with site=$A: 403 unknown_conversation");
    is(error_of(agent(GET => "conversations/$cid{$B}/messages?site=$A")),
       '403 unknown_conversation',
       "${B}'s conversation with site=$A: 403");
    is(error_of(agent(POST => "conversations/$cid{$C}/messages?site=$B",
                      { text => 'leak' })),
       '403 unknown_conversation', "a reply to ${C}'s under $B: 403");
    is(error_of(agent(GET => "conversations/$cid{$C}/pages?site=$A")),
       '403 unknown_conversation', "${C}'s pages under $A: 403");
    is(error_of(agent(POST => "conversations/$cid{$C}/typing?site=$A",
                      { typing => \1 })),
       '403 unknown_conversation', "typing in ${C}'s under $A: 403");
    is(error_of(agent(GET => "operators")), '400 invalid_site',
       'operators without site: 400 invalid_site');

    # the third site's own console still works by itself, and is only its
    $res = agent(GET => 'conversations', undef, host => 'c.test');
    is_deeply([ map { $_->{id} } @{ $res->{json}{conversations} } ],
              [ $cid{$C} ], "${C}'s own console: its conversation");
    is(error_of(agent(GET => "conversations?site=$A", undef,
                      host => 'c.test')),
       '400 invalid_site', "${C}'s console with site=$A: 400");
    is(agent(GET => "conversations?site=$C", undef, host => 'c.test')
           ->{status}, 200, "${C}'s console with site=$C: 200");
};

subtest 'replies reach the right visitor' => sub {
    my $res = agent(POST => "conversations/$cid{$B}/messages?site=$B",
                    { text => "reply to $B" });
    is($res->{status}, 201, "reply in ${B}'s conversation: 201");

    $res = agent(POST => "conversations/$cid{$A}/messages?site=$A",
                 { text => "reply to $A" });
    is($res->{status}, 201, "reply in ${A}'s conversation: 201");

    my %texts;
    for my $site ($A, $B, $C) {
        my $h = $v{$site}->history(undef, headers => { Host => $HOST{$site} });
        is($h->{status}, 200, "${site}'s visitor reads the history");
        $texts{$site} = join '|', map { $_->{text} }
                                  @{ $h->{json}{messages} || [] };
    }

    is($texts{$A}, "hello from $A|reply to $A", "${A}'s visitor: its reply");
    is($texts{$B}, "hello from $B|reply to $B", "${B}'s visitor: its reply");
    is($texts{$C}, "hello from $C", "${C}'s visitor: nothing");
};

subtest 'the inbox of each listed site, events labelled' => sub {
    my %cursor;

    for my $site ($A, $B) {
        my $res = agent(GET => "poll?site=$site");
        is($res->{status}, 200, "poll?site=$site: the backlog");
        my @ev = @{ $res->{json}{events} || [] };
        ok(@ev >= 2, '... its events');
        is_deeply([ grep { ($_->{site} // '') ne $site } @ev ], [],
                  "... each labelled $site");
        ok(!grep({ ($_->{conversation} // '') eq $cid{$C} } @ev),
           "... none of ${C}'s");
        $cursor{$site} = $res->{json}{cursor};
    }

    is(error_of(agent(GET => 'poll')), '400 invalid_site',
       'poll without site: 400 invalid_site');
    is(error_of(agent(GET => "poll?site=$C")), '400 invalid_site',
       "poll?site=$C: 400 invalid_site");

    # two consoles' polls parked, one per site: each hears its own site
    my $polls = open_requests([
        map { agent_request(GET => "poll?site=$_&after=$cursor{$_}") }
            ($A, $B) ]);
    sleep 0.5;

    $v{$C}->post("more from $C", headers => { Host => $HOST{$C} });
    $v{$B}->post("more from $B", headers => { Host => $HOST{$B} });
    $v{$A}->post("more from $A", headers => { Host => $HOST{$A} });

    my $got = $polls->collect(timeout => 10);

    for my $i (0, 1) {
        my $site = ($A, $B)[$i];
        my @ev = @{ ($got->[$i]{json} || {})->{events} || [] };
        is($got->[$i]{status}, 200, "the parked poll of $site answered");
        ok((grep { ($_->{message} || {})->{text}
                   && $_->{message}{text} eq "more from $site" } @ev),
           "... with its visitor's message");
        is_deeply([ grep { ($_->{site} // '') ne $site } @ev ], [],
                  "... labelled $site") or diag($got->[$i]{body});
    }

    # a typing event carries its site too; it is not stored, only a
    # parked poll hears it: typing again until the poll has parked
    my $poll = open_requests([ agent_request(GET =>
        "poll?site=$B&after=" . $got->[1]{json}{cursor}) ]);
    for (1 .. 20) {
        http_request(port => $port, method => 'POST',
                     path => '/chatport/typing',
                     headers => { Host => $HOST{$B} },
                     cookie => $v{$B}->cookie, body => { typing => \1 });
        last if $poll->pump(0.5) == 0;
    }
    my $ev = ($poll->collect(timeout => 1)->[0]{json} || {})->{events};
    is(($ev->[0] || {})->{type}, 'typing', 'a typing event');
    is(($ev->[0] || {})->{site}, $B, "... labelled $B");
};

subtest 'claims and canned replies: of the named site only' => sub {
    is(agent(POST => "conversations/$cid{$B}/claim?site=$B", {})->{status},
       204, "claim ${B}'s conversation under $B: 204");
    is(redis_cmd($redis, 'HGET', "chatport:{$B}:conv:$cid{$B}", 'claimed'),
       'alice', '... claimed in site ' . $B);
    is(error_of(agent(POST => "conversations/$cid{$C}/claim?site=$A", {})),
       '403 unknown_conversation', "claim ${C}'s under $A: 403");
    is(error_of(agent(POST => "conversations/$cid{$B}/claim", {})),
       '400 invalid_site', 'a claim without site: 400 invalid_site');

    my $res = agent(POST => "canned?site=$A", { title => 'hi',
                                                 text => "hello from $A" });
    is($res->{status}, 201, "a canned reply of $A: 201");
    is_deeply([ map { $_->{text} } @{ (agent(GET => "canned?site=$A")
                                           ->{json} || {})->{canned} || [] } ],
              [ "hello from $A" ], "$A has it");
    is_deeply((agent(GET => "canned?site=$B")->{json} || {})->{canned}, [],
              "$B has none");
    is(error_of(agent(GET => 'canned')), '400 invalid_site',
       'canned without site: 400 invalid_site');
    is(error_of(agent(GET => "canned?site=$C")), '400 invalid_site',
       "canned of $C: 400 invalid_site");
    is(agent(DELETE => "canned/$res->{json}{id}?site=$A")->{status}, 204,
       "deleted from $A: 204");
};

subtest 'forms: merged across the listed sites, each labelled' => sub {
    for my $site ($A, $B, $C) {
        my $res = http_request(port => $port, method => 'POST',
                               path => '/chatport/form',
                               headers => { Host => $HOST{$site} },
                               body => { email => "x\@$site.test",
                                         message => "form of $site" });
        is($res->{status}, 201, "a form on $site: 201");
    }

    my $res = agent(GET => 'forms');
    is($res->{status}, 200, 'GET A forms: 200');
    my @forms = @{ $res->{json}{forms} || [] };
    is_deeply([ map { "$_->{site} $_->{fields}{message}" } @forms ],
              [ "$A form of $A", "$B form of $B" ],
              'both listed sites\' forms, oldest first, labelled');

    $res = agent(GET => "forms?site=$B");
    is_deeply([ map { "$_->{site} $_->{fields}{message}" }
                @{ $res->{json}{forms} || [] } ],
              [ "$B form of $B" ], "?site=$B: its form");
    ok($res->{json}{cursor}, '... with its cursor');

    is(error_of(agent(GET => 'forms?after=0-0')), '400 invalid_site',
       'after without site: 400 invalid_site');
    is(error_of(agent(GET => "forms?site=$C")), '400 invalid_site',
       "forms?site=$C: 400");
};

subtest 'presence per site' => sub {
    sub config_online {
        my ($site) = @_;
        my $res = http_request(port => $port, path => '/chatport/config',
                               headers => { Host => $HOST{$site} });
        return ($res->{json} || {})->{online} ? 1 : 0;
    }

    # every worker answers the same
    sub online_everywhere {
        my ($site, $want) = @_;
        for (1 .. 6) {
            return 0 if config_online($site) != $want;
        }
        return 1;
    }

    my $s = agent(GET => 'session')->{json} || {};
    is_deeply($s->{sites}, [ $A, $B ], 'session: the listed sites');
    is($s->{site}, $A, '... about the first without "site"');

    is(agent(POST => 'presence', { status => 'online', site => $A })
           ->{status}, 204, "online on $A (in the body): 204");
    is(agent(POST => "presence?site=$B", { status => 'away' })->{status},
       204, "away on $B (in the query): 204");
    is(error_of(agent(POST => 'presence', { status => 'online' })),
       '400 invalid_site', 'without a site: 400 invalid_site');
    is(error_of(agent(POST => 'presence', { status => 'online',
                                             site => $C })),
       '400 invalid_site', "site $C: 400 invalid_site");
    is(error_of(agent(POST => 'presence', { status => 'online',
                                             site => 7 })),
       '400 invalid_site', 'a site that is no string: 400 invalid_site');

    is((agent(GET => "session?site=$A")->{json} || {})->{status}, 'online',
       "session?site=$A: online");
    is((agent(GET => "session?site=$B")->{json} || {})->{status}, 'away',
       "session?site=$B: away");

    # the console holds a poll per site (after the backlog): present where
    # online
    my %cursor = map { $_ => agent(GET => "poll?site=$_")->{json}{cursor} }
                     ($A, $B);
    my $polls = open_requests([ map { agent_request(GET =>
                                          "poll?site=$_&after=$cursor{$_}") }
                                    ($A, $B) ]);

    ok(wait_until(sub { online_everywhere($A, 1) }, 15),
       "a visitor of $A sees online");
    ok(online_everywhere($B, 0), "a visitor of $B does not");
    ok(online_everywhere($C, 0), "nor one of $C");

    is(agent(POST => 'presence', { status => 'online', site => $B })
           ->{status}, 204, "online on $B too");
    ok(wait_until(sub { online_everywhere($B, 1) }, 15),
       "now a visitor of $B sees online");
    ok(online_everywhere($C, 0), "never one of $C");

    $polls->abandon;
};

done_testing();
