# Canned replies per site: GET A canned, POST A canned {"title", "text"}
# (201 {"id"}; with "id": an edit, 200), DELETE A canned/ID (204). Kept
# in chatport:{site}:canned without expiry, oldest first; a change wakes
# the operators' parked inbox polls with {"type": "canned"}, stored
# nowhere; the site's most (200), the title's (100 characters) and the
# text's (chatport_max_message) limits; every bad input answered with a
# JSON error; another site sees none of them.

use strict;
use warnings;
use utf8;

use Test::More;
use Time::HiRes qw(time);
use JSON::PP ();

use lib 't/lib';
use ChatPort::Harness;

require_env();

my $redis = shared_redis_port();
my $SITE = 't134';
my $HASH = "chatport:{$SITE}:canned";

sub site_keys {
    my ($site) = @_;
    my $keys = redis_cmd($redis, 'KEYS', "chatport:{$site}:*");
    return ref $keys ? sort @$keys : ();
}

for my $site ($SITE, "$SITE-b") {
    my @keys = site_keys($site);
    redis_cmd($redis, 'DEL', @keys) if @keys;
}

my ($htpasswd, $auth) = operators(alice => 'a', bob => 'b');
my %AUTH = %$auth;

# a second server is another site, on its own port
my $other = free_port();
my $ngx = start_nginx(server => <<"_EOC_", http => <<"_EOH_");
        chatport_site $SITE;

        location /chatport/agent/ {
            chatport_agent;
            auth_basic "ops";
            auth_basic_user_file $htpasswd;
            chatport_max_message 300;
        }
_EOC_
    server {
        listen 127.0.0.1:$other;
        chatport_site $SITE-b;

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
    return { port => $o{port} || $port, method => $method,
             path => '/chatport/agent/' . $path,
             headers => { Authorization => $AUTH{ $o{user} || 'alice' },
                          %{ $o{headers} || {} } },
             (defined $body ? (body => $body) : ()) };
}

sub agent {
    return http_request(%{ agent_request(@_) }, timeout => 5);
}

sub list {
    my $r = agent(GET => 'canned', undef, @_);
    die "GET canned: $r->{status} $r->{body}\n" unless $r->{status} == 200;
    return $r->{json}{canned};
}

subtest 'create, list, edit, delete' => sub {
    my $r = agent(GET => 'canned');
    is($r->{status}, 200, 'GET A canned: 200');
    is_deeply($r->{json}, { canned => [] }, '... none yet');

    $r = agent(POST => 'canned', { title => 'Shipping',
                                   text => "We ship within 2 days.\nThanks!" });
    is($r->{status}, 201, 'POST A canned: 201') or diag explain $r;
    my $id1 = $r->{json}{id};
    like($id1, qr/^\d+$/, '... {"id"}');

    $r = agent(POST => 'canned', { title => '配送について',
                                   text => '2営業日以内に発送いたします。' },
               user => 'bob');
    is($r->{status}, 201, 'bob creates a Japanese one: 201');
    my $id2 = $r->{json}{id};
    cmp_ok($id2, '>', $id1, '... a later id');

    my $l = list();
    is(scalar @$l, 2, 'two canned replies');
    is_deeply([ map { [ $_->{id}, $_->{title}, $_->{text}, $_->{by} ] } @$l ],
              [ [ $id1, 'Shipping', "We ship within 2 days.\nThanks!", 'alice' ],
                [ $id2, '配送について', '2営業日以内に発送いたします。', 'bob' ] ],
              '... oldest first: id, title, text, by') or diag explain $l;
    cmp_ok($l->[0]{updated}, '>', 1.7e12, '... "updated" in ms');

    is(redis_cmd($redis, 'HLEN', $HASH), 2, "in the site's hash $HASH");
    is(redis_cmd($redis, 'TTL', $HASH), -1, '... without expiry');

    $r = agent(POST => 'canned', { id => $id1, title => 'Shipping times',
                                   text => 'Two days.' }, user => 'bob');
    is($r->{status}, 200, 'bob edits the first: 200') or diag explain $r;
    is_deeply($r->{json}, { id => $id1 }, '... {"id"} the same');
    $l = list();
    is_deeply([ @{ $l->[0] }{qw(id title text by)} ],
              [ $id1, 'Shipping times', 'Two days.', 'bob' ], '... edited');
    is(scalar @$l, 2, '... still two');

    $r = agent(DELETE => "canned/$id1");
    is($r->{status}, 204, 'DELETE A canned/ID: 204');
    is($r->{body}, '', '... no body');
    is_deeply([ map { $_->{id} } @{ list() } ], [ $id2 ], '... gone');

    $r = agent(DELETE => "canned/$id1");
    is($r->{status}, 404, 'again: 404');
    is($r->{json}{error}, 'unknown_canned', '... unknown_canned');

    $r = agent(POST => 'canned', { id => $id1, title => 'x', text => 'y' });
    is($r->{status}, 404, 'editing a deleted one: 404');
    is($r->{json}{error}, 'unknown_canned', '... unknown_canned');
    is(scalar @{ list() }, 1, '... not created');

    is_deeply(list(port => $other), [], 'the other site has none');
    ok(!grep(/canned/, site_keys("$SITE-b")), '... and no key');
};

subtest 'a change wakes the consoles, nothing stored' => sub {
    my $inbox = "chatport:{$SITE}:inbox";
    my $len = redis_cmd($redis, 'XLEN', $inbox);
    # the site has no conversation: its inbox is empty
    my $c = '0-0';
    my $b = open_requests([ agent_request(GET => "poll?after=$c", undef,
                                          user => 'bob') ]);
    my $deadline = time + 8;
    my $id;
    # a poll not parked yet misses it: again until it answers
    while ($b->pump(0.3) && time < $deadline) {
        my $r = agent(POST => 'canned', { title => 'Hello', text => 'Hi!' });
        $id //= $r->{json}{id};
    }
    my $p = $b->collect(timeout => 0.1)->[0];
    is($p->{status}, 200, "bob's poll answered") or diag explain $p;
    is_deeply($p->{json}, { events => [ { type => 'canned', site => $SITE } ],
                            cursor => $c },
              '... {"type": "canned", "site"}, the cursor unchanged')
        or diag $p->{body};
    is(redis_cmd($redis, 'XLEN', $inbox) // 0, $len // 0,
       'no inbox event stored');
    # the extra ones of the loop
    for my $x (@{ list() }) {
        agent(DELETE => "canned/$x->{id}") if $x->{title} eq 'Hello';
    }
};

subtest 'bad input' => sub {
    my $before = redis_cmd($redis, 'HGETALL', $HASH);
    my @cases = (
        [ { text => 'x' }, 400, 'missing_title', 'no title' ],
        [ { title => undef, text => 'x' }, 400, 'missing_title', 'a null title' ],
        [ { title => 12, text => 'x' }, 400, 'invalid_title', 'a number' ],
        [ { title => '', text => 'x' }, 400, 'invalid_title', 'an empty title' ],
        [ { title => " \x{3000} ", text => 'x' }, 400, 'invalid_title', 'a blank title' ],
        [ { title => "a\nb", text => 'x' }, 400, 'invalid_title', 'a title of two lines' ],
        [ { title => "a\x01", text => 'x' }, 400, 'invalid_title', 'a control character' ],
        [ { title => 'あ' x 101, text => 'x' }, 400, 'invalid_title', '101 characters' ],
        [ { title => 't' }, 400, 'missing_text', 'no text' ],
        [ { title => 't', text => [] }, 400, 'invalid_text', 'an array' ],
        [ { title => 't', text => " \n " }, 400, 'empty_text', 'a blank text' ],
        [ { title => 't', text => "a\x01b" }, 400, 'invalid_text', 'a control character' ],
        [ { title => 't', text => 'x' x 301 }, 413, 'text_too_large',
          '301 bytes (chatport_max_message 300)' ],
        [ { title => 't', text => 'あ' x 101 }, 413, 'text_too_large',
          '101 Japanese characters, 303 bytes' ],
        [ { id => 'abc', title => 't', text => 'x' }, 400, 'invalid_id', 'an id of letters' ],
        [ { id => 12, title => 't', text => 'x' }, 400, 'invalid_id', 'a number id' ],
        [ { id => '', title => 't', text => 'x' }, 400, 'invalid_id', 'an empty id' ],
        [ { id => '1' x 21, title => 't', text => 'x' }, 400, 'invalid_id', '21 digits' ],
        [ { id => '12345', title => 't', text => 'x' }, 404, 'unknown_canned', 'an unknown id' ],
    );
    for my $case (@cases) {
        my ($body, $status, $code, $what) = @$case;
        my $r = agent(POST => 'canned', $body);
        is($r->{status}, $status, "$what: $status");
        is($r->{json}{error}, $code, "... $code") or diag $r->{body};
        ok(length($r->{json}{message} // ''), '... with a message');
    }

    my $r = agent(POST => 'canned', { title => 'あ' x 100, text => 'x' x 300 });
    is($r->{status}, 201, '100 characters, 300 bytes: 201');
    agent(DELETE => "canned/$r->{json}{id}");
    $before = redis_cmd($redis, 'HGETALL', $HASH);

    for my $bad ('{', '[]', '"x"', 'null') {
        $r = agent(POST => 'canned', $bad);
        is($r->{status}, 400, "$bad: 400");
        is($r->{json}{error}, 'invalid_json', '... invalid_json');
    }

    $r = agent(POST => 'canned', '{"title": "t", "text": "' . ('x' x 10000) . '"}');
    is($r->{status}, 413, 'a body over 2 x max_message + 8 KB: 413');
    is($r->{json}{error}, 'body_too_large', '... body_too_large');

    $r = agent(POST => 'canned', '{"title": "t", "text": "x"}',
               headers => { 'Content-Type' => 'text/plain' });
    is($r->{status}, 415, 'text/plain: 415');
    is($r->{json}{error}, 'unsupported_media_type', '... as JSON');

    $r = agent(POST => 'canned', { title => 't', text => 'x' },
               headers => { Origin => 'https://evil.test' });
    is($r->{status}, 403, 'POST from another origin: 403');
    is($r->{json}{error}, 'cross_origin', '... cross_origin');

    my ($id) = map { $_->{id} } @{ list() };
    $r = agent(DELETE => "canned/$id", undef,
               headers => { Origin => 'https://evil.test' });
    is($r->{status}, 403, 'DELETE from another origin: 403');
    is($r->{json}{error}, 'cross_origin', '... cross_origin');

    for my $bad ('abc', '1' x 21, '-1') {
        $r = agent(DELETE => "canned/$bad");
        is($r->{status}, 404, "DELETE canned/$bad: 404");
        is($r->{json}{error}, 'unknown_canned', '... unknown_canned');
    }

    for my $m ([ PUT => 'canned', 'GET, POST' ], [ DELETE => 'canned', 'GET, POST' ],
               [ GET => "canned/$id", 'DELETE' ], [ POST => "canned/$id", 'DELETE' ]) {
        $r = agent($m->[0], $m->[1], $m->[0] eq 'PUT' || $m->[0] eq 'POST' ? {} : undef);
        is($r->{status}, 405, "$m->[0] $m->[1]: 405");
        is($r->{headers}{allow}, $m->[2], "... Allow: $m->[2]");
        is($r->{json}{error}, 'method_not_allowed', '... as JSON');
    }

    $r = agent(GET => "canned/$id/x");
    is($r->{status}, 404, 'GET canned/ID/x: 404');

    $r = http_request(port => $port, path => '/chatport/agent/canned');
    is($r->{status}, 401, 'without a login: 401');

    is_deeply(redis_cmd($redis, 'HGETALL', $HASH), $before,
              'nothing changed by any of them');
};

subtest 'the most per site: 200' => sub {
    my $n = redis_cmd($redis, 'HLEN', $HASH);
    my @reqs = map { agent_request(POST => 'canned',
                                   { title => "T$_", text => "text $_" }) }
               1 .. 200 - $n;
    my @res;
    while (my @batch = splice @reqs, 0, 20) {
        push @res, @{ open_requests(\@batch)->collect(timeout => 10) };
    }
    is(scalar(grep { $_->{status} == 201 } @res), 200 - $n,
       'created up to 200: each 201');
    is(redis_cmd($redis, 'HLEN', $HASH), 200, '200 stored');
    my %ids = map { $_->{json}{id} => 1 } @res;
    is(scalar keys %ids, 200 - $n, '... each with its own id');

    my $r = agent(POST => 'canned', { title => 'one more', text => 'x' });
    is($r->{status}, 409, 'the 201st: 409');
    is($r->{json}{error}, 'too_many_canned', '... too_many_canned');
    is(redis_cmd($redis, 'HLEN', $HASH), 200, '... still 200');

    my $l = list();
    is(scalar @$l, 200, 'GET lists 200');
    $r = agent(POST => 'canned', { id => $l->[0]{id}, title => 'edited',
                                   text => 'x' });
    is($r->{status}, 200, 'an edit at 200: 200');
    is(agent(DELETE => "canned/$l->[1]{id}")->{status}, 204, 'one deleted');
    $r = agent(POST => 'canned', { title => 'one more', text => 'x' });
    is($r->{status}, 201, 'then one more: 201');
    redis_cmd($redis, 'DEL', $HASH);
};

done_testing();
