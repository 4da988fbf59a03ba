# One conversation, wherever the people are: POST P contact (the address
# the widget asks for inside the chat) with its bad inputs, each a JSON
# error; the address and name on the conversation (GET A conversations)
# and in the operators' inbox (a "contact" event); a repeated key stored
# once; a contact-form post with the visitor's cookie lands in that
# conversation (and is still listed in forms), one without a cookie opens a
# conversation and sets the cookie (JSON and the plain HTML form's 303);
# a direct visit records no referrer; an operator's close wakes the
# visitor's poll with the status; chatport_reply_wait in config.

use strict;
use warnings;

use Test::More;
use File::Temp ();
use MIME::Base64 qw(encode_base64);
use JSON::PP ();

use lib 't/lib';
use ChatPort::Harness;

require_env();

my $json = JSON::PP->new->utf8->canonical;
my $AUTH = 'Basic ' . encode_base64('alice:secret', '');
my $site = "t052-$$";
my $redis = shared_redis_port();

my $auth_dir = File::Temp::tempdir('chatport-t052-XXXXXX', TMPDIR => 1,
                                   CLEANUP => 1);
{
    open my $fh, '>', "$auth_dir/htpasswd" or die "$auth_dir: $!";
    print $fh "alice:{PLAIN}secret\n";
    close $fh;
}

my $ngx = start_nginx(server => <<"_EOC_");
        chatport_site $site;

        location /chatport/agent/ {
            chatport_agent;
            auth_basic "operators";
            auth_basic_user_file $auth_dir/htpasswd;
        }

        location /chatport/ {
            chatport;
            chatport_poll_timeout 3s;
            chatport_reply_wait 45s;
            chatport_form_rate 100/1m;
        }

        location /other/ {
            chatport;
        }
_EOC_

my $port = $ngx->port;

sub contact {
    my (%o) = @_;
    return http_request(port => $port, method => 'POST',
                        path => '/chatport/contact',
                        headers => $o{headers} || {}, cookie => $o{cookie},
                        body => $o{body});
}

sub agent {
    my ($path) = @_;
    return http_request(port => $port, path => "/chatport/agent/$path",
                        headers => { Authorization => $AUTH });
}

sub inbox_events {
    my $res = agent('poll?after=0-0');
    return grep { ($_->{type} // '') eq $_[0] } @{ $res->{json}{events} || [] };
}

sub conversation {
    my ($cid) = @_;
    my ($c) = grep { $_->{id} eq $cid }
                   @{ agent('conversations')->{json}{conversations} || [] };
    return $c || {};
}

sub is_error {
    my ($res, $status, $code, $name) = @_;
    ok($res->{status} == $status && ref $res->{json} eq 'HASH'
       && ($res->{json}{error} // '') eq $code
       && defined $res->{json}{message},
       "$name: $status {\"error\": \"$code\"}")
        or diag explain $res;
}


# ---------------------------------------------------------------------------
subtest 'config tells the widget chatport_reply_wait in seconds' => sub {
    my $res = http_request(port => $port, path => '/chatport/config');
    is($res->{json}{reply_wait}, 45, 'chatport_reply_wait 45s: 45');
    $res = http_request(port => $port, path => '/other/config');
    is($res->{json}{reply_wait}, 120, 'default: 2m, 120');
};


# ---------------------------------------------------------------------------
subtest 'contact: bad inputs, each a JSON error, nothing stored' => sub {
    my $v = visitor(port => $port);
    is($v->post('hello')->{status}, 201, 'a conversation');
    my $cookie = $v->cookie;
    my $key = conv_key($site, $v->vid);

    is_error(contact(body => { email => 'a@b.co' }), 403, 'unknown_visitor',
             'no cookie');
    is_error(contact(body => { email => 'a@b.co' },
                     cookie => 'chatport_vid=' . ('ab' x 16)),
             403, 'unknown_visitor', 'a cookie without a conversation');
    is_error(contact(body => { email => 'a@b.co' },
                     cookie => 'chatport_vid=nothex'),
             403, 'unknown_visitor', 'a malformed cookie');
    is_error(contact(body => { email => 'a@b.co' }, cookie => $cookie,
                     headers => { Origin => 'http://evil.example' }),
             403, 'cross_origin', 'another site\'s Origin');
    is_error(contact(body => 'email=a%40b.co', cookie => $cookie,
                     headers => { 'Content-Type'
                                  => 'application/x-www-form-urlencoded' }),
             415, 'unsupported_media_type', 'not JSON');
    is_error(contact(body => '{"email":', cookie => $cookie),
             400, 'invalid_json', 'broken JSON');
    is_error(contact(body => { email => 'a@b.co', key => 'bad key!' },
                     cookie => $cookie),
             400, 'invalid_key', 'a bad key');

    my %fields = (
        'a bad email'            => [{ email => 'not-an-address' },
                                     { email => 'invalid' }],
        'no email'               => [{ name => 'Ann' },
                                     { email => 'required' }],
        'an empty email'         => [{ email => '' },
                                     { email => 'required' }],
        'an email too long'      => [{ email => ('a' x 60) . '@'
                                              . ('b' x 200) . '.example' },
                                     { email => 'too_long' }],
        'an email not a string'  => [{ email => 5 }, { email => 'invalid' }],
        'a name too long'        => [{ email => 'a@b.co', name => 'x' x 201 },
                                     { name => 'too_long' }],
        'a name with a control'  => [{ email => 'a@b.co', name => "a\x01" },
                                     { name => 'invalid' }],
        'both wrong'             => [{ email => 'x@', name => [] },
                                     { email => 'invalid',
                                       name => 'invalid' }],
    );

    for my $name (sort keys %fields) {
        my ($body, $want) = @{ $fields{$name} };
        my $res = contact(body => $body, cookie => $cookie);
        is_error($res, 400, 'invalid_fields', $name);
        is_deeply($res->{json}{fields}, $want, "$name: the field errors")
            or diag explain $res->{json};
    }

    my $res = contact(body => { email => 'a@b.co', name => 'x' x 200 },
                      cookie => $cookie, headers => { Origin => 'http://localhost' });
    is($res->{status}, 204, 'a name of 200 bytes, a same-site Origin: 204');

    my %h = @{ redis_cmd($redis, 'HGETALL', $key) || [] };
    is($h{email}, 'a@b.co', 'the only address stored is the good one');
};


# ---------------------------------------------------------------------------
subtest 'contact: stored on the conversation, shown to operators' => sub {
    my $v = visitor(port => $port);
    is($v->post('anyone there?')->{status}, 201, 'a conversation');
    my $cid = cid_of($v->vid);
    my $name = "\x{5c71}\x{7530} \x{82b1}\x{5b50}";    # Yamada Hanako
    my $before = () = inbox_events('contact');

    my $res = contact(body => { email => 'hanako@example.jp', name => $name,
                                key => 'k1' },
                      cookie => $v->cookie);
    is($res->{status}, 204, 'the address: 204');
    is($res->{body}, '', 'no body');

    $res = contact(body => { email => 'hanako@example.jp', name => $name,
                             key => 'k1' },
                   cookie => $v->cookie);
    is($res->{status}, 204, 'the same key again: 204');

    my @ev = grep { $_->{conversation} eq $cid } inbox_events('contact');
    is(scalar @ev, 1, 'one "contact" event in the inbox for the two posts');
    is($ev[0]{email}, 'hanako@example.jp', '... with the address');
    is($ev[0]{name}, $name, '... and the name (UTF-8)');

    my $c = conversation($cid);
    is($c->{email}, 'hanako@example.jp', 'GET A conversations: email');
    is($c->{name}, $name, 'GET A conversations: name');

    $res = contact(body => { email => 'h2@example.jp' }, cookie => $v->cookie);
    is($res->{status}, 204, 'a new address without a name: 204');
    $c = conversation($cid);
    is($c->{email}, 'h2@example.jp', 'the address is replaced');
    is($c->{name}, $name, 'the name is kept');

    my $other = visitor(port => $port);
    is($other->post('me too')->{status}, 201, 'another conversation');
    is(conversation(cid_of($other->vid))->{email}, '',
       'a conversation without an address: ""');
};


# ---------------------------------------------------------------------------
subtest 'a form post with the cookie lands in that conversation' => sub {
    my $v = visitor(port => $port);
    my $res = $v->post('first in the chat');
    is($res->{status}, 201, 'a conversation');
    my $vid = $v->vid;
    my $cid = cid_of($vid);

    $res = http_request(port => $port, method => 'POST',
                        path => '/chatport/form', cookie => $v->cookie,
                        body => { name => 'Ann', email => 'ann@example.com',
                                  message => "Call me\nplease",
                                  page => 'http://localhost/contact' });
    is($res->{status}, 201, 'form: 201');
    is_deeply($res->{set_cookie}, [], 'no new cookie');
    my $form_id = $res->{json}{id};

    my $h = $v->history;
    my @msgs = @{ $h->{json}{messages} || [] };
    is(scalar @msgs, 2, 'the conversation holds the chat and the form');
    is($msgs[1]{from}, 'visitor', 'the form is the visitor\'s message');
    is($msgs[1]{text}, "name: Ann\nemail: ann\@example.com\n\nCall me\nplease",
       '... with its fields as text');
    is($h->{json}{status}, 'open', 'the visitor\'s history tells the status');

    my $c = conversation($cid);
    is($c->{email}, 'ann@example.com', 'the form\'s address on the conversation');
    is($c->{name}, 'Ann', '... and its name');
    is($c->{last}{id}, $msgs[1]{id}, 'the form is the conversation\'s last message');

    my ($f) = grep { $_->{id} eq $form_id }
                   @{ agent('forms')->{json}{forms} || [] };
    ok($f, 'still listed in GET A forms');
    is($f->{conversation}, $cid, '... with the conversation');

    my ($ev) = grep { ($_->{form}{id} // '') eq $form_id } inbox_events('form');
    is($ev->{conversation}, $cid, 'the inbox event names the conversation');
    is($ev->{message}{id}, $msgs[1]{id}, '... and carries the message');
    ok(!$ev->{new}, '... of a conversation that existed');
};


# ---------------------------------------------------------------------------
subtest 'a form post without a cookie opens a conversation, sets the cookie' => sub {
    my $res = http_request(port => $port, method => 'POST',
                           path => '/chatport/form',
                           body => { email => 'bo@example.com',
                                     message => 'from the form' });
    is($res->{status}, 201, 'JSON form: 201');
    my ($cookie) = grep { /^chatport_vid=/ } @{ $res->{set_cookie} };
    like($cookie // '', qr/^chatport_vid=[0-9a-f]{32}; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Lax$/,
         'the visitor\'s cookie is set');
    my $v = visitor(port => $port);
    $v->absorb($res);
    my $h = $v->history;
    is($h->{status}, 200, 'the cookie opens the history');
    is_deeply([ map { $_->{text} } @{ $h->{json}{messages} || [] } ],
              ["email: bo\@example.com\n\nfrom the form"],
              'the form is the conversation\'s first message');
    my ($f) = grep { $_->{id} eq $res->{json}{id} }
                   @{ agent('forms')->{json}{forms} || [] };
    is($f->{conversation}, cid_of($v->vid), 'GET A forms: its conversation');

    is($v->post('and now in the chat')->{status}, 201,
       'the visitor writes on in the chat');
    is(scalar @{ $v->history->{json}{messages} }, 2, 'one conversation, two messages');

    # a well-formed cookie of a conversation that is gone: a new one
    my $ghost = 'cd' x 16;
    $res = http_request(port => $port, method => 'POST',
                        path => '/chatport/form',
                        cookie => "chatport_vid=$ghost",
                        body => { email => 'c@example.com', message => 'x' });
    is($res->{status}, 201, 'a form with an unknown cookie: 201');
    my ($new) = map { /^chatport_vid=([0-9a-f]{32})/ ? $1 : () }
                    @{ $res->{set_cookie} };
    ok($new && $new ne $ghost, 'a new visitor id, never the one sent');
    ok(!@{ redis_cmd($redis, 'HGETALL', conv_key($site, $ghost)) || [] },
       'nothing stored under the id the client made up');
};


# ---------------------------------------------------------------------------
subtest 'the plain HTML form (no JavaScript) keeps its 303, and sets the cookie' => sub {
    my $res = http_request(
        port => $port, method => 'POST', path => '/chatport/form',
        headers => { 'Content-Type' => 'application/x-www-form-urlencoded',
                     Accept => 'text/html',
                     Referer => 'http://localhost/contact' },
        body => 'email=d%40example.com&message=plain');
    is($res->{status}, 303, 'answered 303');
    is($res->{headers}{location}, 'http://localhost/contact?chatport=sent',
       'back to the page');
    my ($vid) = map { /^chatport_vid=([0-9a-f]{32})/ ? $1 : () }
                    @{ $res->{set_cookie} };
    ok($vid, 'the cookie is set');
    my %h = @{ redis_cmd($redis, 'HGETALL', conv_key($site, $vid // '')) || [] };
    is($h{email}, 'd@example.com', 'the conversation has the address');
    is($h{referrer}, '', 'the form\'s own page as Referer is no referrer');
};


# ---------------------------------------------------------------------------
subtest 'a direct visit records no referrer, never the page itself' => sub {
    my $v = visitor(port => $port);
    my $page = 'http://localhost/shop';
    my $res = http_request(port => $port, method => 'POST',
                           path => '/chatport/messages',
                           headers => { Referer => $page },
                           body => { text => 'hi', page => $page,
                                     referrer => '' });
    $v->absorb($res);
    is($res->{status}, 201, 'the widget\'s first message: 201');
    my %h = @{ redis_cmd($redis, 'HGETALL', conv_key($site, $v->vid)) || [] };
    is($h{referrer}, '', 'referrer "" (document.referrer): none');
    is(conversation(cid_of($v->vid))->{referrer}, '',
       'GET A conversations: ""');

    $v = visitor(port => $port);
    $res = http_request(port => $port, method => 'POST',
                        path => '/chatport/messages',
                        headers => { Referer => $page },
                        body => { text => 'hi', page => $page });
    $v->absorb($res);
    %h = @{ redis_cmd($redis, 'HGETALL', conv_key($site, $v->vid)) || [] };
    is($h{referrer}, '', 'no "referrer", Referer is the page: none');

    $v = visitor(port => $port);
    $res = http_request(port => $port, method => 'POST',
                        path => '/chatport/messages',
                        headers => { Referer => 'https://search.test/?q=x' },
                        body => { text => 'hi', page => $page });
    $v->absorb($res);
    %h = @{ redis_cmd($redis, 'HGETALL', conv_key($site, $v->vid)) || [] };
    is($h{referrer}, 'https://search.test/?q=x',
       'a plain client\'s Referer of another page is kept');
};


# ---------------------------------------------------------------------------
subtest 'closing wakes the visitor\'s poll with the status' => sub {
    my $v = visitor(port => $port);
    my $res = $v->post('bye soon');
    my $cursor = $res->{json}{id};
    my $cid = cid_of($v->vid);

    my $b = open_requests([ $v->poll_request($cursor) ]);
    # the poll subscribes before it reads: give it time to park
    $b->pump(0.5);
    $res = http_request(port => $port, method => 'POST',
                        path => "/chatport/agent/conversations/$cid/close",
                        headers => { Authorization => $AUTH }, body => {});
    is($res->{status}, 204, 'the operator closes it');
    my $got = $b->collect(timeout => 10)->[0];
    is($got->{status}, 200, 'the parked poll answers');
    is($got->{json}{status}, 'closed', '... with "status": "closed"');
    is_deeply($got->{json}{messages}, [], '... and no message');
    is($got->{json}{cursor}, $cursor, '... the cursor unchanged');

    $res = http_request(%{ $v->get_request('poll', $cursor) },
                        path => "/chatport/poll?after=$cursor&status=closed",
                        timeout => 10);
    is($res->{status}, 200, 'a poll that knows it is closed waits');
    ok(!exists $res->{json}{status} || !@{ $res->{json}{messages} },
       '... and ends empty at the poll timeout');

    is($v->post('again')->{status}, 201, 'writing again');
    is($v->history->{json}{status}, 'open', 'reopens it');
};

done_testing();
