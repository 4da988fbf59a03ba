# Operators' display names: chatport_operator LOGIN "Display Name".
#
# At nginx -t: the bad values (a login outside A-Z a-z 0-9 . _ @ + -, or
# longer than 64 bytes; a name empty, blank, longer than 64 characters,
# with a control character or a tab; a login given twice; the http
# level; one argument) stop nginx with a message naming them, and the
# good ones start it (64 Japanese characters, a login that is an email).
#
# At run time: an operator's reply carries "name" beside "agent" in the
# visitor's poll and history and in the operators' history; an operator
# without one has no "name"; a location with its own chatport_operator
# lines does not inherit the server's; the session gives the operator's
# own name and the location's names; the operator's typing reaches the
# visitor's poll and the other operators' inbox poll with the name
# ("X is replying"), and nothing of it is stored; the visitor's mail of
# a reply names the operator by the display name.

use strict;
use warnings;
use utf8;

use Test::More;
use Time::HiRes qw(time sleep);
use Encode qw(encode_utf8);
use JSON::PP ();

use lib 't/lib';
use ChatPort::Harness;
use ChatPort::Mail;

require_env();

my $redis = shared_redis_port();
my $SITE = 't132';

sub site_keys {
    my $keys = redis_cmd($redis, 'KEYS', "chatport:{$SITE}:*");
    return ref $keys ? sort @$keys : ();
}

{
    my @keys = site_keys();
    redis_cmd($redis, 'DEL', @keys) if @keys;
}

my ($htpasswd, $auth) = operators(alice => 'a', bob => 'b', dave => 'd');
my %AUTH = %$auth;

# ------------------------------------------------------------ nginx -t

my $agent_loc = <<"_EOC_";
        location /chatport/ {
            chatport;
        }

        location /chatport/agent/ {
            chatport_agent;
            auth_basic "ops";
            auth_basic_user_file $htpasswd;
%s
        }
_EOC_

sub refused {
    my ($what, $server, $http, $message) = @_;
    my $ngx = eval {
        start_nginx(server => encode_utf8($server), http => $http // '',
                    log_allow => qr/\[emerg\].*(?:chatport_operator|
                                   operator|display\ name)/x)
    };
    ok(!$ngx, "$what: nginx refuses the configuration");
    $ngx->stop if $ngx;
    my $err = $@ // '';
    like($err, $message, "... saying why") or diag $err;
}

my $long = 'あ' x 65;
my %bad = (
    'a login with a space'   => [ '"al ice" "Alice"', qr/invalid operator login "al ice"/ ],
    'a login with a colon'   => [ 'al:ice "Alice"', qr/invalid operator login "al:ice"/ ],
    'a login of 65 bytes'    => [ ('a' x 65) . ' "A"', qr/invalid operator login "a{65}"/ ],
    'an empty login'         => [ '"" "Alice"', qr/invalid operator login ""/ ],
    'an empty name'          => [ 'alice ""', qr/invalid display name "" of operator "alice"/ ],
    'a blank name'           => [ 'alice "   "', qr/invalid display name/ ],
    'a name of 65 characters'=> [ "alice \"$long\"", qr/invalid display name/ ],
    'a control character'    => [ "alice \"Al\x01ice\"", qr/invalid display name/ ],
    'a tab'                  => [ "alice \"Al\tice\"", qr/invalid display name/ ],
    'a line break'           => [ "alice \"Al\nice\"", qr/invalid display name/ ],
    'one argument'           => [ 'alice', qr/invalid number of arguments in "chatport_operator"/ ],
);

for my $what (sort keys %bad) {
    my ($args, $re) = @{ $bad{$what} };
    refused($what, sprintf($agent_loc, "            chatport_operator $args;"),
            undef, $re);
}

# invalid UTF-8: bytes, not characters
{
    my $server = encode_utf8(sprintf($agent_loc, '%s'));
    $server =~ s/%s/            chatport_operator alice "Al\xff\xfeice";/;
    my $ngx = eval {
        start_nginx(server => $server,
                    log_allow => qr/\[emerg\].*display name/)
    };
    ok(!$ngx, 'invalid UTF-8 in a name: nginx refuses it');
    $ngx->stop if $ngx;
    like($@ // '', qr/invalid display name/, '... saying why');
}

refused('a login given twice',
        sprintf($agent_loc, qq{            chatport_operator alice "Alice";\n}
                            . qq{            chatport_operator alice "Al";}),
        undef, qr/duplicate operator "alice"/);

refused('the http level', sprintf($agent_loc, ''),
        'chatport_operator alice "Alice";',
        qr/"chatport_operator" directive is not allowed here/);

# the good ones start
{
    my $ngx = eval {
        start_nginx(server => encode_utf8(sprintf($agent_loc,
            '            chatport_operator alice "' . ('あ' x 64) . "\";\n"
            . '            chatport_operator ops.team+1@shop-example.jp '
            . '"Support";')))
    };
    ok($ngx, '64 Japanese characters, a login that is an email address: '
             . 'nginx starts') or diag $@;
    $ngx->stop if $ngx;
}

# ------------------------------------------------------------ run time

# alice and bob have names at the server level, which /chatport/agent/
# inherits; /chatport/night/ has its own list (alice only)
# and a server without chatport_operator, on a port of its own; mails
# to a local SMTP server
my $plain = free_port();
my $smtp = start_smtpd();
my $ngx = start_nginx(server => encode_utf8(<<"_EOC_"), http => <<"_EOH_");
        chatport_site $SITE;
        chatport_operator alice "Alice Smith";
        chatport_operator bob "山田 ボブ";
        chatport_title "Tea Shop";
        chatport_mail_to owner\@shop.test;
        chatport_mail_delay 1s;

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

        location /chatport/night/ {
            chatport_agent;
            auth_basic "ops";
            auth_basic_user_file $htpasswd;
            chatport_operator alice "Alice (night)";
        }
_EOC_
    chatport_smtp smtp://127.0.0.1:@{[ $smtp->port ]};
    chatport_mail_from chat\@shop.test;

    server {
        listen 127.0.0.1:$plain;
        chatport_site $SITE;

        location /chatport/agent/ {
            chatport_agent;
            auth_basic "ops";
            auth_basic_user_file $htpasswd;
        }
    }
_EOH_

my $port = $ngx->port;

sub agent_request {
    my ($method, $path, $body, %o) = @_;
    return { port => $port, method => $method,
             path => ($o{prefix} || '/chatport/agent/') . $path,
             headers => { Authorization => $AUTH{ $o{user} || 'alice' } },
             (defined $body ? (body => $body) : ()) };
}

sub agent {
    return http_request(%{ agent_request(@_) }, timeout => 5);
}

my $v = visitor(port => $port);
my $res = $v->post('Where is my order?');
is($res->{status}, 201, 'a visitor opens a conversation') or diag explain $res;
my $m1 = $res->{json}{id};
my $cid = cid_of($v->vid // '');

subtest 'replies carry the display name the location gives' => sub {
    my $b = open_requests([ $v->poll_request($m1) ]);
    sleep 0.3;
    my $r = agent(POST => "conversations/$cid/messages",
                  { text => 'It ships today.' });
    is($r->{status}, 201, "alice replies") or diag explain $r;
    my $p = $b->collect(timeout => 8)->[0];
    is($p->{status}, 200, "the visitor's poll answers");
    my ($m) = @{ $p->{json}{messages} || [] };
    is($m->{agent}, 'alice', '... the login in "agent"');
    is($m->{name}, 'Alice Smith', '... the display name in "name"');

    $r = agent(POST => "conversations/$cid/messages",
               { text => 'ボブです。' }, user => 'bob');
    is($r->{status}, 201, 'bob replies');
    $r = agent(POST => "conversations/$cid/messages",
               { text => 'Dave here.' }, user => 'dave');
    is($r->{status}, 201, 'dave (no display name) replies');
    $r = agent(POST => "conversations/$cid/messages",
               { text => 'Night shift.' }, prefix => '/chatport/night/');
    is($r->{status}, 201, 'alice replies from /chatport/night/');
    $r = agent(POST => "conversations/$cid/messages",
               { text => 'Bob at night.' }, prefix => '/chatport/night/',
               user => 'bob');
    is($r->{status}, 201, 'bob replies from /chatport/night/');

    my @want = ([ 'alice', 'Alice Smith' ], [ 'bob', '山田 ボブ' ],
                [ 'dave', undef ], [ 'alice', 'Alice (night)' ],
                [ 'bob', undef ]);

    for my $h ([ 'history', $v->history ],
               [ "the operators' history",
                 agent(GET => "conversations/$cid/messages") ])
    {
        my @got = map { [ $_->{agent}, $_->{name} ] }
                  grep { $_->{from} eq 'agent' } @{ $h->[1]{json}{messages} };
        is_deeply(\@got, \@want, "$h->[0]: agent and name of each reply")
            or diag explain \@got;
        ok(!grep({ $_->{from} eq 'agent' && !defined $_->{name}
                   && exists $_->{name} } @{ $h->[1]{json}{messages} }),
           "$h->[0]: no \"name\" at all without one");
    }
};

subtest 'the session gives the operator its name and the names' => sub {
    my $s = agent(GET => 'session');
    is($s->{status}, 200, 'GET A session');
    is($s->{json}{operator}, 'alice', '... operator');
    is($s->{json}{name}, 'Alice Smith', '... name');
    is_deeply($s->{json}{names}, { alice => 'Alice Smith', bob => '山田 ボブ' },
              '... names') or diag explain $s->{json};

    $s = agent(GET => 'session', undef, user => 'dave');
    ok(exists $s->{json}{name} && !defined $s->{json}{name},
       'dave: "name": null');

    $s = http_request(%{ agent_request(GET => 'session') }, port => $plain);
    ok(!exists $s->{json}{name} && !exists $s->{json}{names},
       'a location without chatport_operator: no "name", no "names"')
        or diag $s->{body};

    $s = agent(GET => 'session', undef, prefix => '/chatport/night/');
    is_deeply($s->{json}{names}, { alice => 'Alice (night)' },
              '/chatport/night/: its own names only');
};

# the site's stored state but the presence the inbox polls write
sub stored { site_state($redis, $SITE) }

# opens the polls, then sends every 0.3 s until every one answered
# (typing is best effort: a poll not yet parked misses one)
sub woken {
    my ($polls, $send) = @_;
    my $b = open_requests($polls);
    my $deadline = time + 8;
    while ($b->pump(0.3) && time < $deadline) {
        $send->();
    }
    return $b->collect(timeout => 0.1);
}

subtest '"X is replying": the name reaches the visitor and bob, '
        . 'nothing stored' => sub {
    my $before = stored();
    my $c = agent(GET => 'poll', undef, user => 'bob')->{json}{cursor};
    my $last = $v->history->{json}{cursor};

    my $a = woken([ $v->poll_request($last),
                    agent_request(GET => "poll?after=$c", undef,
                                  user => 'bob') ],
                  sub {
                      my $r = agent(POST => "conversations/$cid/typing", {});
                      is($r->{status}, 204, 'alice types: 204');
                  });

    is_deeply($a->[0]{json}{events},
              [ { type => 'typing', from => 'agent', agent => 'alice',
                  name => 'Alice Smith', typing => JSON::PP::true } ],
              "the visitor's poll: alice's display name")
        or diag $a->[0]{body};
    is_deeply($a->[1]{json},
              { events => [ { type => 'typing', conversation => $cid,
                              site => $SITE, from => 'agent',
                              agent => 'alice', name => 'Alice Smith',
                              typing => JSON::PP::true } ],
                cursor => $c },
              "bob's inbox poll: alice is replying there, the cursor stays")
        or diag $a->[1]{body};

    $a = woken([ agent_request(GET => "poll?after=$c", undef,
                               user => 'bob') ],
               sub { agent(POST => "conversations/$cid/typing",
                           { typing => JSON::PP::false }) });
    is($a->[0]{json}{events}[0]{typing}, JSON::PP::false,
       'a stop reaches bob too') or diag $a->[0]{body};

    $a = woken([ agent_request(GET => "poll?after=$c") ],
               sub { agent(POST => "conversations/$cid/typing", {},
                           user => 'dave') });
    is_deeply($a->[0]{json}{events},
              [ { type => 'typing', conversation => $cid, site => $SITE,
                  from => 'agent', agent => 'dave',
                  typing => JSON::PP::true } ],
              'dave, without a display name: no "name"')
        or diag $a->[0]{body};

    is_deeply(stored(), $before, 'nothing stored: the same keys, lengths, '
                                 . 'hashes') or diag explain [ $before, stored() ];
    my $b = open_requests([ agent_request(GET => "poll?after=$c", undef,
                                          user => 'bob') ]);
    is($b->collect(timeout => 1)->[0]{error}, 'timeout',
       'a poll from the same cursor finds no stored event: it waits');
};

subtest "the visitor's mail names the operator by the display name" => sub {
    my $w = visitor(port => $port);
    is($w->post('Please mail me the answer')->{status}, 201,
       'a visitor writes');
    my $r = http_request(port => $port, method => 'POST',
                         path => '/chatport/contact', cookie => $w->cookie,
                         body => { email => 'taro@example.jp' });
    is($r->{status}, 204, '... and leaves an address');
    $r = agent(POST => 'conversations/' . cid_of($w->vid) . '/messages',
               { text => 'Here is the answer.' });
    is($r->{status}, 201, 'alice replies');
    my $mail;
    wait_until(sub {
        ($mail) = grep { "@{ $_->{envelope}{to} || [] }" eq 'taro@example.jp' }
                  $smtp->mails;
        $mail;
    }, 15);
    ok($mail, 'the reply is mailed to the visitor') or return;
    is($mail->{subject}, '[Tea Shop] Reply from Alice Smith',
       'Subject: her display name');
    like($mail->{body} // '', qr/Alice Smith/, 'body: her display name');
    unlike($mail->{body} // '', qr/\balice\b/, 'body: not her login');
};

done_testing();
