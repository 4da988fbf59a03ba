# The page the visitor is on: POST P page {"url", "title"} against a real
# Redis. Refused (403) before the visitor's first message, with or
# without a cookie, storing nothing; the history starts with the page the
# first message recorded, which a report of that page completes with its
# title instead of repeating; later loads (a reload too) are entries of
# their own, in order; the history keeps the last 50; the current page in
# GET A conversations; GET A conversations/CID/pages and its bad ids; a
# "page" event wakes a parked operator poll; a repeated key is stored
# once; every bad input a JSON error that stores nothing; the history
# expires with the conversation and a later message extends both; a
# conversation opened by the contact form starts its history with the
# form's page; 503 while Redis is away.

use strict;
use warnings;

use Test::More;
use File::Temp ();
use MIME::Base64 qw(encode_base64);
use Time::HiRes qw(time sleep);

use lib 't/lib';
use ChatPort::Harness;

require_env();

my $AUTH = 'Basic ' . encode_base64('alice:secret', '');
my $site = "t063-$$";
my $redis = shared_redis_port();

my $auth_dir = File::Temp::tempdir('chatport-t063-XXXXXX', TMPDIR => 1,
                                   CLEANUP => 1);
{
    open my $fh, '>', "$auth_dir/htpasswd" or die "$auth_dir: $!";
    print $fh "alice:{PLAIN}secret\n";
    close $fh;
}

# /short/: the same site, conversations kept 3 s after their last message
my $ngx = start_nginx(server => <<"_EOC_");
        chatport_site $site;

        location /chatport/agent/ {
            chatport_agent;
            auth_basic "operators";
            auth_basic_user_file $auth_dir/htpasswd;
            chatport_poll_timeout 5s;
        }

        location /chatport/ {
            chatport;
            chatport_form_rate 100/1m;
        }

        location /short/ {
            chatport;
            chatport_retention 3s;
        }
_EOC_

my $port = $ngx->port;
my $here = 'http://localhost';     # the Harness sends "Host: localhost"

sub report {
    my (%o) = @_;
    return http_request(port => $port, method => $o{method} || 'POST',
                        path => ($o{prefix} || '/chatport/') . 'page',
                        headers => $o{headers} || {}, cookie => $o{cookie},
                        body => $o{body});
}

sub agent {
    my ($path, %o) = @_;
    return http_request(port => $port, path => "/chatport/agent/$path",
                        method => $o{method} || 'GET',
                        headers => { Authorization => $AUTH });
}

sub pages {
    my ($cid) = @_;
    my $res = agent("conversations/$cid/pages");
    is($res->{status}, 200, "GET A conversations/CID/pages: 200")
        or diag explain $res;
    return $res->{json}{pages} || [];
}

sub conversation {
    my ($cid) = @_;
    my ($c) = grep { $_->{id} eq $cid }
                   @{ agent('conversations')->{json}{conversations} || [] };
    return $c || {};
}

sub cursor {
    return agent('poll?after=0-0')->{json}{cursor};
}

sub events_of {
    my ($type, $cid, $after) = @_;
    my $res = agent('poll?after=' . ($after // '0-0'));
    return grep { ($_->{type} // '') eq $type
                  && ($_->{conversation} // '') eq $cid }
                @{ $res->{json}{events} || [] };
}

sub is_error {
    my ($res, $status, $code, $name) = @_;
    ok($res->{status} == $status && ref $res->{json} eq 'HASH'
       && ($res->{json}{error} // '') eq $code
       && defined $res->{json}{message},
       "$name: $status {\"error\": \"$code\"}")
        or diag explain $res;
}

# url and title of each entry
sub trail {
    return join ' | ', map { "$_->{url} $_->{title}" } @{ $_[0] };
}

sub redis { redis_cmd($redis, @_) }

# the time to live (ms) of a conversation's meta and of its page history,
# read at the same instant
sub ttls {
    my ($k) = @_;
    return @{ redis('EVAL', "return {redis.call('PTTL', KEYS[1]), "
                            . "redis.call('PTTL', KEYS[2])}",
                    2, $k, "$k:pages") };
}


# ---------------------------------------------------------------------------
subtest 'nothing before the first message' => sub {
    my $before = cursor() // '0-0';

    is_error(report(body => { url => "$here/a", title => 'A' }),
             403, 'unknown_visitor', 'no cookie');

    my $vid = 'ab' x 16;
    is_error(report(body => { url => "$here/a", title => 'A' },
                    cookie => "chatport_vid=$vid"),
             403, 'unknown_visitor', 'the cookie of no conversation');
    is_error(report(body => { url => "$here/a" },
                    cookie => 'chatport_vid=nothex'),
             403, 'unknown_visitor', 'a malformed cookie');

    my $key = conv_key($site, $vid);
    is(redis('EXISTS', $key, "$key:pages"), 0,
       'no conversation and no history made');
    is(scalar(events_of('page', cid_of($vid), $before)), 0,
       'no event for the operators');
};


# ---------------------------------------------------------------------------
my $v = visitor(port => $port);
my ($cid, $key);

subtest 'the history, in order, from the first message on' => sub {
    my $res = $v->post('hello', page => "$here/a");
    is($res->{status}, 201, 'the first message on page a');
    $cid = cid_of($v->vid);
    $key = conv_key($site, $v->vid);
    my $created = conversation($cid)->{created};

    my $p = pages($cid);
    is(trail($p), "$here/a ", 'before any report: the first message\'s '
                              . 'page, without a title');
    is($p->[0]{ts}, $created, '... at the time the conversation opened');

    # the widget reports the page it wrote from once the conversation is
    # there: the same entry, now with its title
    is(report(body => { url => "$here/a", title => 'Page A' },
              cookie => $v->cookie)->{status}, 204, 'report of page a: 204');
    $p = pages($cid);
    is(trail($p), "$here/a Page A", 'still one entry, now with its title');
    is($p->[0]{ts}, $created, '... and its time');

    my $t0 = time * 1000;
    is(report(body => { url => "$here/b?x=1#top", title => "\x{30da}B" },
              cookie => $v->cookie,
              headers => { Origin => $here })->{status},
       204, 'page b, with the same-site Origin: 204');
    is(report(body => { url => "$here/b?x=1#top", title => "\x{30da}B" },
              cookie => $v->cookie)->{status},
       204, 'page b reloaded: 204');
    is(report(body => { url => "$here/" }, cookie => $v->cookie)->{status},
       204, 'the home page without a title: 204');

    $p = pages($cid);
    is(trail($p), "$here/a Page A | $here/b?x=1#top \x{30da}B | "
                  . "$here/b?x=1#top \x{30da}B | $here/ ",
       'a, b, b again (a reload is a page load), the home page');
    ok($p->[1]{ts} >= $t0 - 1000 && $p->[1]{ts} <= $p->[2]{ts}
       && $p->[2]{ts} <= $p->[3]{ts}, 'times in order, from now')
        or diag explain $p;

    my $c = conversation($cid);
    is($c->{page}, "$here/", 'the list\'s current page is the last one');
    is($c->{first_page}, "$here/a", '... and the first page stays');
    is($c->{updated}, $created, 'a page load is no activity: "updated" '
                                . 'stays the first message\'s');

    # a repeated key (the widget's one retry) is stored once
    for (1 .. 2) {
        is(report(body => { url => "$here/c", title => 'C', key => 'k-1' },
                  cookie => $v->cookie)->{status}, 204, "key k-1, post $_");
    }
    $p = pages($cid);
    is(scalar(grep { $_->{url} eq "$here/c" } @$p), 1, 'stored once');
};


# ---------------------------------------------------------------------------
subtest 'an operator poll wakes with the page event' => sub {
    my $after = cursor();
    my $b = open_requests([{ port => $port, method => 'GET',
                             path => "/chatport/agent/poll?after=$after",
                             headers => { Authorization => $AUTH } }]);
    sleep 0.5;
    ok(!$b->done->[0], 'the poll is parked');

    my $t = time;
    is(report(body => { url => "$here/d", title => 'Dee' },
              cookie => $v->cookie)->{status}, 204, 'page d: 204');

    my $res = $b->collect(timeout => 5)->[0];
    is($res->{status}, 200, 'the poll answers') or diag explain $res;
    ok(time - $t < 4, 'before its timeout (5 s)');
    my @ev = @{ $res->{json}{events} || [] };
    is(scalar @ev, 1, 'one event');
    my $ev = $ev[0] || {};
    is_deeply([ @$ev{qw(type conversation url title)} ],
              [ 'page', $cid, "$here/d", 'Dee' ],
              '{"type": "page", "conversation", "url", "title"}');
    like($ev->{id} // '', qr/^\d+-\d+$/, 'with its id');
    like($ev->{ts} // '', qr/^\d{13}$/, 'and time');
    is(conversation($cid)->{page}, "$here/d", 'the current page');
};


# ---------------------------------------------------------------------------
subtest 'the history keeps the last 50' => sub {
    for my $i (1 .. 55) {
        my $res = report(body => { url => "$here/p$i", title => "P$i" },
                         cookie => $v->cookie);
        next if $res->{status} == 204;
        fail("page p$i: $res->{status}");
        return;
    }
    my $p = pages($cid);
    is(scalar @$p, 50, '50 entries');
    is(join(',', map { $_->{title} } @$p),
       join(',', map { "P$_" } 6 .. 55), 'the last 50, oldest first');
    is(redis('LLEN', "$key:pages"), 50, 'and no more in Redis');
};


# ---------------------------------------------------------------------------
subtest 'bad inputs: a JSON error each, nothing stored' => sub {
    my $last = pages($cid)->[-1];
    my $after = cursor();
    my $c = $v->cookie;

    my %bad = (
        'a javascript: url'         => { url => 'javascript:alert(1)' },
        'an ftp url'                => { url => 'ftp://localhost/a' },
        'a relative url'            => { url => '/a' },
        'another site\'s url'       => { url => 'https://evil.example/a' },
        'a url whose host only '
        . 'starts like this one'    => { url => 'http://localhost.evil/a' },
        'a url with userinfo'       => { url => 'http://localhost@evil/a' },
        'a url of another port'     => { url => 'http://localhost:8080/a' },
        'a url of 2049 bytes'       => { url => "$here/" . 'x' x 2032 },
        'a url with a line break'   => { url => "$here/a\nb" },
        'no url'                    => { title => 'A' },
        'an empty url'              => { url => '' },
        'a url not a string'        => { url => [ "$here/a" ] },
    );
    is(length("$here/" . 'x' x 2032), 2049, '(the long url is 2049 bytes)');
    for my $name (sort keys %bad) {
        is_error(report(body => $bad{$name}, cookie => $c),
                 400, 'invalid_url', $name);
    }

    my %titles = (
        '301 characters'       => "\x{3042}" x 301,
        'a control character'  => "a\x{1}b",
        'a line break'         => "a\nb",
        'a number'             => 5,
        'an object'            => { text => 'A' },
    );
    for my $name (sort keys %titles) {
        is_error(report(body => { url => "$here/a", title => $titles{$name} },
                        cookie => $c),
                 400, 'invalid_title', "a title of $name");
    }
    is(report(body => { url => "$here/ok", title => "\x{3042}" x 300 },
              cookie => $c)->{status},
       204, 'a title of 300 characters (900 bytes) is fine');

    is_error(report(body => '{"url": ', cookie => $c),
             400, 'invalid_json', 'broken JSON');
    is_error(report(body => '["http://localhost/a"]', cookie => $c),
             400, 'invalid_json', 'not an object');
    is_error(report(body => { url => "$here/a", key => 'no key!' },
                    cookie => $c),
             400, 'invalid_key', 'a bad key');
    is_error(report(body => { url => "$here/a", title => 'x' x 9000 },
                    cookie => $c),
             413, 'body_too_large', 'a body over 8 KB');
    is_error(report(body => "url=$here/a", cookie => $c,
                    headers => { 'Content-Type'
                                 => 'application/x-www-form-urlencoded' }),
             415, 'unsupported_media_type', 'not JSON');
    is_error(report(body => { url => "$here/a" }, cookie => $c,
                    headers => { Origin => 'http://evil.example' }),
             403, 'cross_origin', 'another site\'s Origin');
    is_error(report(body => { url => "$here/a" }, cookie => $c,
                    headers => { 'Sec-Fetch-Site' => 'cross-site' }),
             403, 'cross_origin', 'Sec-Fetch-Site: cross-site');

    my $res = report(method => 'GET', cookie => $c);
    is_error($res, 405, 'method_not_allowed', 'GET');
    is($res->{headers}{allow}, 'POST', '... Allow: POST');

    my $p = pages($cid);
    is(trail([ @$p[-2, -1] ]),
       "$last->{url} $last->{title} | $here/ok " . "\x{3042}" x 300,
       'nothing stored but the good one');
    my @ev = events_of('page', $cid, $after);
    is(scalar @ev, 1, 'one event, the good one\'s');
    is($ev[0]{url}, "$here/ok", '...');
};


# ---------------------------------------------------------------------------
subtest 'GET A conversations/CID/pages: bad ids and methods' => sub {
    is_error(agent('conversations/' . ('0' x 32) . '/pages'),
             403, 'unknown_conversation', 'a conversation that is not');
    is_error(agent('conversations/' . ('A' x 32) . '/pages'),
             403, 'unknown_conversation', 'upper-case hex');
    is_error(agent('conversations/abc/pages'),
             403, 'unknown_conversation', 'too short');
    my $res = agent("conversations/$cid/pages", method => 'POST');
    is_error($res, 405, 'method_not_allowed', 'POST');
    is($res->{headers}{allow}, 'GET', '... Allow: GET');
    $res = http_request(port => $port,
                        path => "/chatport/agent/conversations/$cid/pages");
    is($res->{status}, 401, 'no login: 401');
};


# ---------------------------------------------------------------------------
subtest 'the history expires with the conversation' => sub {
    my $s = visitor(port => $port, prefix => '/short/');
    is($s->post('short', page => "$here/s1")->{status}, 201,
       'a conversation kept 3 s');
    my $k = conv_key($site, $s->vid);
    is(report(prefix => '/short/', body => { url => "$here/s2" },
              cookie => $s->cookie)->{status}, 204, 'a page');

    my ($pm, $pp) = ttls($k);
    ok($pp > 0 && $pp <= $pm && $pm - $pp < 100,
       "the history expires when the meta does ($pp <= $pm ms)");

    sleep 1;
    is(report(prefix => '/short/', body => { url => "$here/s3" },
              cookie => $s->cookie)->{status}, 204, 'another page, 1 s on');
    my ($pm2, $pp2) = ttls($k);
    ok($pm2 < $pm && $pp2 <= $pm2 && $pm2 - $pp2 < 100,
       "a page load does not extend the conversation ($pp2 <= $pm2 ms)");

    is($s->post('again', page => "$here/s3")->{status}, 201,
       'a message extends the conversation');
    my ($pm3, $pp3) = ttls($k);
    ok($pm3 > $pm2 && $pp3 > $pp2 && abs($pm3 - $pp3) < 100,
       "... and its history with it ($pp3, $pm3 ms)");

    ok(wait_until(sub { !redis('EXISTS', $k, "$k:pages") }, 10),
       'then both expire');
    is_error(report(prefix => '/short/', body => { url => "$here/s4" },
                    cookie => $s->cookie),
             403, 'unknown_visitor', 'and a report is refused again');
    is(redis('EXISTS', "$k:pages"), 0, 'without making a history');
};


# ---------------------------------------------------------------------------
subtest 'a conversation opened by the contact form' => sub {
    my $res = http_request(port => $port, method => 'POST',
                           path => '/chatport/form',
                           body => { name => 'Ann', email => 'ann@example.jp',
                                     message => 'Do you ship?',
                                     page => "$here/contact",
                                     referrer => '' });
    is($res->{status}, 201, 'a form post opens a conversation')
        or diag explain $res;
    my ($vid) = map { /^chatport_vid=([0-9a-f]{32})/ ? $1 : () }
                @{ $res->{set_cookie} || [] };
    ok($vid, 'with its cookie') or return;
    my $f = cid_of($vid);
    is(trail(pages($f)), "$here/contact ", 'the history starts with the '
                                           . 'form\'s page');
    is(report(body => { url => "$here/thanks", title => 'Thanks' },
              cookie => "chatport_vid=$vid")->{status}, 204, 'a page');
    is(trail(pages($f)), "$here/contact  | $here/thanks Thanks",
       'the form\'s page, then the next one');
    my ($pm, $pp) = ttls(conv_key($site, $vid));
    ok($pp > 0 && $pp <= $pm && $pm - $pp < 100,
       "expiring with the conversation ($pp <= $pm ms)");
};


# ---------------------------------------------------------------------------
subtest 'Redis unavailable: 503 with Retry-After, then recorded again' => sub {
    my $r = start_redis(appendonly => 1);
    my $n = start_nginx(redis_port => $r->port,
                        http => "chatport_redis 127.0.0.1:@{[ $r->port ]};\n"
                                . "chatport_redis_timeout 1s;\n",
                        server => <<"_EOC_");
        chatport_site $site-outage;
        location /chatport/ {
            chatport;
        }
_EOC_
    my $o = visitor(port => $n->port);
    is($o->post('hi', page => "$here/o1")->{status}, 201, 'a conversation');
    ok($r->stop, 'its Redis stopped');

    my $res = http_request(port => $n->port, method => 'POST',
                           path => '/chatport/page', cookie => $o->cookie,
                           body => { url => "$here/o2" });
    is_error($res, 503, 'unavailable', 'a report');
    is($res->{headers}{'retry-after'}, 2, '... Retry-After: 2');

    ok($r->start, 'Redis back');
    ok(wait_until(sub {
        http_request(port => $n->port, method => 'POST',
                     path => '/chatport/page', cookie => $o->cookie,
                     body => { url => "$here/o3", key => 'o3' })->{status}
        == 204
    }, 15, 0.5), 'a report is recorded again (tried with one key)');
    my $h = redis_cmd($r->port, 'LRANGE',
                      conv_key("$site-outage", $o->vid) . ':pages', 0, -1);
    is(join(' ', map { m{"url":"[^"]*?(o\d)"} ? $1 : '?' } @$h), 'o1 o3',
       'the history: the first page and the one after the outage');
    ok($n->stop, 'nginx stops');
    ok($r->stop, 'Redis stops');
};

done_testing();
