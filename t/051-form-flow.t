# The contact form with real clients and several requests of state:
# the per-client, per-site rate limit reaches 429 with Retry-After and
# recovers after its window (kept in Redis as chatport:{SITE}:rate:<addr>),
# without touching another site or another client address; submissions are
# read back through the operator API GET A forms exactly as posted (CR/LF
# and <script> JSON-escaped as data, page, referrer, user agent, the
# conversation of a visitor with a cookie), newest last, with a working
# cursor; the honeypot and refused posts store nothing; and while Redis is
# down, paused or reconnecting a post is answered 503, never a success,
# while nothing answered 201 or 303-sent is ever lost, also across a Redis
# restart with persistence.
#
# The outage part uses a private redis-server (never the shared one).

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(time sleep);
use File::Temp ();
use MIME::Base64 qw(encode_base64);
use JSON::PP ();

use lib 't/lib';
use ChatPort::Harness;

require_env();

my $json = JSON::PP->new->utf8->canonical;
my $ID = qr/^(\d+)-\d+$/;
my $URLENCODED = 'application/x-www-form-urlencoded';
my $AUTH = 'Basic ' . encode_base64('alice:secret', '');

# sites of their own, so earlier runs' rate counters never meet ours
my $site_a = "t051a-$$";
my $site_b = "t051b-$$";
my $site_c = "t051c-$$";
my $site_d = "t051d-$$";

my $auth_dir = File::Temp::tempdir('chatport-t051-XXXXXX', TMPDIR => 1,
                                   CLEANUP => 1);
{
    open my $fh, '>', "$auth_dir/htpasswd" or die "$auth_dir: $!";
    print $fh "alice:{PLAIN}secret\n";
    close $fh;
}

sub locations {
    my ($rate) = @_;
    return <<"_EOC_";
        location /chatport/agent/ {
            chatport_agent;
            auth_basic "operators";
            auth_basic_user_file $auth_dir/htpasswd;
        }

        location /chatport/ {
            chatport;
            chatport_form_rate $rate;
        }
_EOC_
}

my $port_b = free_port();
my $port_c = free_port();

my $locations_b = locations('2/2s');
my $locations_c = locations('1000/1m');

my $ngx = start_nginx(
    server => "        chatport_site $site_a;\n" . locations('2/2s'),
    http => <<"_EOC_");
    server {
        listen 127.0.0.1:$port_b;
        server_name localhost;
        chatport_site $site_b;
$locations_b
    }

    server {
        listen 127.0.0.1:$port_c;
        server_name localhost;
        chatport_site $site_c;
$locations_c
    }
_EOC_

my $port_a = $ngx->port;
my $redis_port = shared_redis_port();


# ------------------------------------------------------------------ helpers

# POST P form; $body: a hash (sent as JSON) or an urlencoded string
sub post_form {
    my (%o) = @_;
    my $h = { %{ $o{headers} || {} } };
    $h->{'Content-Type'} = $URLENCODED if !ref $o{body};

    my %r = (port => $o{port} || $port_a, method => 'POST',
             path => $o{path} || '/chatport/form', headers => $h,
             body => $o{body}, cookie => $o{cookie}, from => $o{from},
             timeout => $o{timeout} // 5);

    # from: another loopback address, the client the rate limit counts
    return http_request(%r);
}

sub urlencode {
    my (%f) = @_;
    return join '&', map {
        my ($k, $v) = ($_, $f{$_});
        utf8::encode($v) if utf8::is_utf8($v);
        $v =~ s/([^A-Za-z0-9_.~-])/sprintf('%%%02X', ord $1)/ge;
        "$k=$v";
    } sort keys %f;
}

# every submission of a site through GET A forms, following the cursor
sub agent_forms {
    my ($port, $after) = @_;
    my (@forms, @pages);
    my $cursor = $after;

    for (1 .. 50) {
        my $path = '/chatport/agent/forms'
                   . (defined $cursor ? "?after=$cursor" : '');
        my $res = http_request(port => $port, path => $path,
                               headers => { Authorization => $AUTH });
        return { error => $res } unless $res->{status} == 200
                                        && ref $res->{json} eq 'HASH';
        push @pages, $res;
        my $list = $res->{json}{forms} || [];
        push @forms, @$list;
        last unless @$list;
        $cursor = $res->{json}{cursor};
    }

    return { forms => \@forms, pages => \@pages, cursor => $cursor };
}

sub fields_of { map { $_->{fields} } @{ $_[0]{forms} } }

sub is_201 {
    my ($res, $what) = @_;
    is($res->{status}, 201, "$what: 201") or diag explain $res;
    like($res->{json}{id} // '', $ID, "$what: a stream id");
    return $res->{json}{id};
}

sub is_429 {
    my ($res, $what, $max) = @_;
    is($res->{status}, 429, "$what: 429") or diag explain $res;
    is($res->{json}{error}, 'rate_limited', "$what: error rate_limited");
    my $ra = $res->{headers}{'retry-after'} // '';
    like($ra, qr/^\d+$/, "$what: Retry-After in seconds");
    ok($ra =~ /^\d+$/ && $ra >= 1 && $ra <= $max,
       "$what: Retry-After ($ra) between 1 and $max");
    return $ra =~ /^\d+$/ ? $ra : $max;
}

sub rate_key {
    my ($site, $addr) = @_;
    return "chatport:{$site}:rate:$addr";
}


# ---------------------------------------------------------------------------
subtest 'rate limit 2/2s: 429 with Retry-After, then recovery after the window' => sub {
    my @ids;

    push @ids, is_201(post_form(body => { email => 'r@example.com',
                                          message => 'rate one' }),
                      'first submission');
    push @ids, is_201(post_form(body => urlencode(email => 'r@example.com',
                                                  message => 'rate two')),
                      'second submission');

    my $res = post_form(body => { email => 'r@example.com',
                                  message => 'rate three (refused)' });
    my $wait = is_429($res, 'third submission in the window', 2);

    $res = post_form(body => urlencode(email => 'r@example.com',
                                       message => 'rate html (refused)',
                                       page => 'http://localhost/contact'),
                     headers => { Accept => 'text/html' });
    ok($res->{status} == 429
       || ($res->{status} == 303
           && ($res->{headers}{location} // '') =~ /[?&]chatport=error$/),
       'a plain HTML form over the limit: 429 (or 303 chatport=error), '
       . 'never 303 sent')
        or diag explain $res;
    unlike($res->{headers}{location} // '', qr/chatport=sent/,
           '... no Location to chatport=sent');

    # the counter lives in Redis under the site and the client address
    my $key = rate_key($site_a, '127.0.0.1');
    my $pttl = redis_cmd($redis_port, 'PTTL', $key);
    ok($pttl > 0 && $pttl <= 2000,
       "$key expires within the 2 s window (PTTL $pttl)");

    # another site, same client: its own counter
    $res = post_form(port => $port_b,
                     body => { email => 'r@example.com',
                               message => 'other site' });
    is_201($res, 'the same client on another site during the limit');
    is(redis_cmd($redis_port, 'GET', rate_key($site_b, '127.0.0.1')), '1',
       'the other site counted one submission');

    # another client address, same site: its own counter
    $res = post_form(from => '127.0.0.2',
                     body => { email => 'r2@example.com',
                               message => 'other client' });
    my $other_id = is_201($res, 'another client address on the limited site');
    ok(redis_cmd($redis_port, 'EXISTS', rate_key($site_a, '127.0.0.2')),
       'the other client has a counter of its own');

    # the limited client recovers after Retry-After
    sleep $wait + 0.2;

    $res = post_form(body => { email => 'r@example.com',
                               message => 'rate after the window' });
    push @ids, is_201($res, 'after Retry-After seconds');
    push @ids, is_201(post_form(body => { email => 'r@example.com',
                                          message => 'rate after 2' }),
                      'second in the new window');
    is_429(post_form(body => { email => 'r@example.com',
                               message => 'rate after 3 (refused)' }),
           'third in the new window', 2);

    # stored: exactly what was answered 201, in order
    my $list = agent_forms($port_a);
    ok(!$list->{error}, 'GET A forms: 200') or diag explain $list;
    my @listed = map { $_->{id} } @{ $list->{forms} || [] };
    is_deeply(\@listed, [ sort_ids(@ids, $other_id) ],
              'the forms list holds the 201 answers, none of the 429s')
        or diag explain $list->{forms};
    ok(!(grep { ($_->{message} // '') =~ /refused/ } fields_of($list)),
       'no refused submission was stored');
};

sub id_cmp {
    my ($x, $y) = @_;
    my ($am, $as) = split /-/, $x;
    my ($bm, $bs) = split /-/, $y;
    return $am <=> $bm || $as <=> $bs;
}

sub sort_ids { sort { id_cmp($a, $b) } grep { defined } @_ }


# ---------------------------------------------------------------------------
subtest 'submissions through GET A forms: as posted, escaped as data, newest last' => sub {
    # a visitor who chatted first: the form lands in that conversation
    my $chat = visitor(port => $port_c);
    is($chat->post('a chat first')->{status}, 201, 'a conversation');
    my $vid = $chat->vid;
    my $script = '<script>alert("x")</script>';
    my $multi = "line one\r\nline two\n</textarea><script>steal()</script>"
              . "\ttab \\ back \"quote\"";
    my $ja = "\x{304a}\x{554f}\x{3044}\x{5408}\x{308f}\x{305b}";   # お問い合わせ

    my $r1 = post_form(port => $port_c,
                       body => { name => $script, email => 'a@example.com',
                                 message => $multi,
                                 page => 'http://localhost/contact?x=1' },
                       cookie => "chatport_vid=$vid",
                       headers => { Referer => 'http://localhost/products',
                                    'User-Agent' => "Agent <b>1</b>" });
    my $id1 = is_201($r1, 'JSON submission with <script> and CR/LF');

    my $r2 = post_form(port => $port_c,
                       body => urlencode(name => $ja, email => 'b@example.jp',
                                         message => "urlencoded\r\nbody"),
                       headers => { Referer => 'https://elsewhere.example/x' });
    my $id2 = is_201($r2, 'urlencoded submission in Japanese');
    my ($vid2) = map { /^chatport_vid=([0-9a-f]{32})/ ? $1 : () }
                     @{ $r2->{set_cookie} || [] };
    ok($vid2, '... without a cookie it opens a conversation and sets one');

    my $r3 = post_form(port => $port_c,
                       body => urlencode(email => 'c@example.com',
                                         message => 'from a plain form',
                                         page => 'http://localhost/contact'),
                       headers => { Accept => 'text/html' });
    is($r3->{status}, 303, 'plain HTML form: 303') or diag explain $r3;
    is($r3->{headers}{location}, 'http://localhost/contact?chatport=sent',
       '... back to the page with chatport=sent');

    my $log_at = $ngx->log_size;

    my $r4 = post_form(port => $port_c,
                       body => urlencode(email => 'd@example.com',
                                         message => 'HONEYPOT-TEXT',
                                         website => 'http://spam.example'));
    is($r4->{status}, 201, 'honeypot: 201');
    is($r4->{body}, qq({"id":null}\n), 'honeypot: {"id":null}');

    my $r5 = post_form(port => $port_c,
                       body => urlencode(email => 'd@example.com',
                                         message => 'HONEYPOT-HTML',
                                         website => 'x'),
                       headers => { Accept => 'text/html',
                                    Referer => 'http://localhost/c' });
    is($r5->{status}, 303, 'honeypot in a plain form: 303');
    is($r5->{headers}{location}, 'http://localhost/c?chatport=sent',
       '... like a success');

    ok(wait_until(sub { $ngx->log_since($log_at) =~ /form honeypot filled/ },
                  2), 'the honeypot is logged');

    my $r6 = post_form(port => $port_c,
                       body => { email => 'not an address',
                                 message => 'INVALID-TEXT' });
    is($r6->{status}, 400, 'invalid submission: 400');
    is_deeply($r6->{json}{fields}, { email => 'invalid' },
              '... email invalid');

    my $r7 = post_form(port => $port_c,
                       body => urlencode(email => 'e@example.com',
                                         message => 'CROSS-TEXT'),
                       headers => { Origin => 'https://evil.example' });
    is($r7->{status}, 403, 'cross-origin submission: 403');

    my $id4 = is_201(post_form(port => $port_c,
                               body => { email => 'f@example.com',
                                         message => 'last one' }),
                     'a last submission');

    # the raw answer: JSON, the CR/LF escaped, <script> kept as text
    my $res = http_request(port => $port_c, path => '/chatport/agent/forms',
                           headers => { Authorization => $AUTH });
    is($res->{status}, 200, 'GET A forms: 200');
    like($res->{headers}{'content-type'} // '', qr{^application/json},
         'GET A forms is JSON (so a browser never renders <script>)');
    my $body = $res->{body} // '';
    $body =~ s/\n\z//;
    unlike($body, qr/[\x00-\x1f]/, 'no raw control character in the JSON');
    like($body, qr/line one\\r\\nline two\\n/, 'CR/LF JSON-escaped');
    like($body, qr/\\"quote\\"/, 'quotes JSON-escaped');
    ok(index($body, '<script>alert(\"x\")</script>') >= 0,
       '<script> stored as text, JSON-escaped');

    my $forms = $res->{json}{forms} || [];
    is(scalar @$forms, 4, 'four submissions stored (not the honeypot, '
                          . 'not the refused ones)')
        or diag explain $forms;

    is_deeply([ map { $_->{id} } @$forms[0, 1, 3] ], [ $id1, $id2, $id4 ],
              'newest last, with the ids answered');
    ok(id_cmp($forms->[1]{id} // '0-0', $forms->[2]{id} // '0-0') < 0
       && id_cmp($forms->[2]{id} // '0-0', $id4) < 0,
       'the 303 submission between them');
    is($res->{json}{cursor}, $id4, 'the cursor is the last id');

    my ($f1, $f2, $f3) = @$forms;
    is_deeply($f1, { id => $id1, ts => ($id1 =~ $ID)[0], state => 'new',
                     fields => { name => $script, email => 'a@example.com',
                                 message => $multi },
                     page => 'http://localhost/contact?x=1',
                     referrer => 'http://localhost/products',
                     user_agent => 'Agent <b>1</b>',
                     conversation => cid_of($vid), site => $site_c },
              'the JSON submission, exactly as posted, with the '
              . 'conversation of the visitor\'s cookie')
        or diag explain $f1;

    is_deeply($f2, { id => $id2, ts => ($id2 =~ $ID)[0], state => 'new',
                     fields => { name => $ja, email => 'b@example.jp',
                                 message => "urlencoded\r\nbody" },
                     page => '', referrer => 'https://elsewhere.example/x',
                     user_agent => '', conversation => cid_of($vid2 // ''),
                     site => $site_c },
              'the urlencoded submission: decoded UTF-8, no page from '
              . 'another site\'s Referer, the conversation it opened')
        or diag explain $f2;

    is_deeply($f3->{fields}, { email => 'c@example.com',
                               message => 'from a plain form' },
              'the plain HTML form\'s submission is stored')
        or diag explain $f3;
    is($f3->{page}, 'http://localhost/contact', '... with its page');

    my $all = join "\n", map { $json->encode($_) } @$forms;
    unlike($all, qr/HONEYPOT|INVALID-TEXT|CROSS-TEXT/,
           'nothing of the honeypot, the invalid or the cross-origin post');
    my $entries = redis_cmd($redis_port, 'XRANGE',
                            "chatport:{$site_c}:forms", '-', '+');
    my $raw = join "\n", map { $_->[1][1] // '' } @{ $entries || [] };
    like($raw, qr/last one/, 'the Redis stream holds the JSON entries');
    unlike($raw, qr/HONEYPOT|INVALID-TEXT|CROSS-TEXT/,
           'nor in the Redis stream');
    is(redis_cmd($redis_port, 'XLEN', "chatport:{$site_c}:forms"), 4,
       'the Redis stream has the four submissions');
    ok(redis_cmd($redis_port, 'PTTL', "chatport:{$site_c}:forms") > 0,
       'the forms stream expires (retention)');

    # the cursor: after the first, the rest; after the last, nothing
    my $rest = agent_forms($port_c, $id1);
    is_deeply([ map { $_->{id} } @{ $rest->{forms} || [] } ],
              [ map { $_->{id} } @$forms[1 .. 3] ],
              'forms?after=<first id>: the three after it');
    $res = http_request(port => $port_c,
                        path => "/chatport/agent/forms?after=$id4",
                        headers => { Authorization => $AUTH });
    is_deeply($res->{json}, { forms => [], cursor => $id4, new => 4 },
              'forms?after=<last id>: empty, the cursor unchanged');

    # the operator API wants the operator
    $res = http_request(port => $port_c, path => '/chatport/agent/forms');
    is($res->{status}, 401, 'GET A forms without credentials: 401');
    unlike($res->{body} // '', qr/line one/, '... and nothing of a form');

    $res = http_request(port => $port_c, path => '/chatport/agent/forms',
                        headers => { Authorization => 'Basic '
                                     . encode_base64('alice:wrong', '') });
    is($res->{status}, 401, 'GET A forms with a wrong password: 401');

    # other sites do not see them
    my $other = agent_forms($port_b);
    unlike(join("\n", map { $json->encode($_) } @{ $other->{forms} || [] }),
           qr/line one|from a plain form/, 'another site does not list them');
};


# ---------------------------------------------------------------------------
subtest 'a User-Agent that is not UTF-8 is stored up to its first bad byte' => sub {
    my $before = agent_forms($port_c);
    my $res = post_form(port => $port_c,
                        body => { email => 'ua@example.com',
                                  message => 'odd agent' },
                        headers => { 'User-Agent' => "Good/1.0 \xff\xfe"
                                                     . "Bad \xed\xa0\x80" });
    is_201($res, 'the form with a broken User-Agent');

    my $after = agent_forms($port_c, $before->{cursor});
    my ($form) = grep { ($_->{fields}{message} // '') eq 'odd agent' }
                 @{ $after->{forms} || [] };
    ok($form, 'listed in GET A forms') or return diag explain $after;
    is($form->{user_agent}, 'Good/1.0 ', 'the valid prefix only');

    $res = post_form(port => $port_c,
                     body => { email => 'ua2@example.com',
                               message => 'surrogate agent' },
                     headers => { 'User-Agent' => "Sur \xed\xa0\x80 x" });
    is_201($res, 'a User-Agent with an encoded UTF-16 surrogate');
    $after = agent_forms($port_c, $after->{cursor});
    ($form) = grep { ($_->{fields}{message} // '') eq 'surrogate agent' }
              @{ $after->{forms} || [] };
    is($form && $form->{user_agent}, 'Sur ', 'cut before the surrogate');
};

# ---------------------------------------------------------------------------
subtest 'Redis down, paused, reconnecting: 503, never a lost success' => sub {
    my $redis = start_redis(appendonly => 1);
    my $rport = $redis->port;

    my $ngx2 = start_nginx(
        workers => 2,
        redis_port => $rport,
        http => "chatport_redis 127.0.0.1:$rport;\n"
              . "chatport_redis_timeout 500ms;\n",
        server => "        chatport_site $site_d;\n"
                . locations('100000/1m'));
    my $p = $ngx2->port;

    my (%ok_ids, %ok_texts, @bad);
    my $n = 0;

    # alternately JSON (201 {"id"}) and a plain HTML form (303 sent)
    my $send = sub {
        my ($timeout) = @_;
        my $i = ++$n;
        my $text = sprintf 'outage-%04d', $i;
        my $res;

        if ($i % 2) {
            $res = post_form(port => $p, timeout => $timeout // 5,
                             body => { email => 'o@example.com',
                                       message => $text });
            if ($res->{status} == 201 && ($res->{json}{id} // '') =~ $ID) {
                $ok_ids{ $res->{json}{id} } = $text;
                $ok_texts{$text} = 1;
                return $res;
            }

        } else {
            $res = post_form(port => $p, timeout => $timeout // 5,
                             headers => { Accept => 'text/html' },
                             body => urlencode(email => 'o@example.com',
                                               message => $text,
                                               page => 'http://localhost/c'));
            if ($res->{status} == 303
                && ($res->{headers}{location} // '') =~ /chatport=sent$/)
            {
                $ok_texts{$text} = 1;
                return $res;
            }
        }

        push @bad, { text => $text, res => $res }
            unless $res->{status} == 503;
        return $res;
    };

    my $is_503 = sub {
        my ($res, $what) = @_;
        is($res->{status}, 503, "$what: 503") or diag explain $res;
        is($res->{json}{error}, 'unavailable', "$what: unavailable");
        like($res->{headers}{'retry-after'} // '', qr/^\d+$/,
             "$what: Retry-After");
        ok(($res->{headers}{location} // '') !~ /sent/,
           "$what: no Location ...chatport=sent");
    };

    $send->() for 1 .. 4;
    is(scalar keys %ok_texts, 4, 'four submissions with Redis up');

    # Redis stopped
    $redis->stop;
    my $t0 = time;
    my $res = $send->(5);
    $is_503->($res, 'JSON with Redis down');
    $res = $send->(5);
    $is_503->($res, 'plain HTML form with Redis down');
    cmp_ok(time - $t0, '<', 3, 'answered fast');

    # posts while Redis comes back and the workers reconnect
    $redis->start;
    my $deadline = time + 8;
    my $first_ok;
    while (time < $deadline) {
        my $r = $send->(3);
        $first_ok //= time if $r->{status} == 201 || $r->{status} == 303;
        last if $first_ok && time - $first_ok > 1;
        sleep 0.02;
    }
    ok($first_ok, 'successes again after Redis came back');

    # Redis paused: the command times out (chatport_redis_timeout 500ms)
    $redis->pause;
    $t0 = time;
    $res = $send->(5);
    $is_503->($res, 'with Redis paused');
    cmp_ok(time - $t0, '<', 3, 'answered within the Redis timeout');
    $redis->resume;

    $deadline = time + 8;
    undef $first_ok;
    while (time < $deadline) {
        my $r = $send->(3);
        $first_ok //= time if $r->{status} == 201 || $r->{status} == 303;
        last if $first_ok && time - $first_ok > 0.5;
        sleep 0.02;
    }
    ok($first_ok, 'successes again after Redis resumed');

    # concurrent posts across a Redis restart
    my @reqs = map {
        my $text = sprintf 'burst-%04d', $_;
        { port => $p, method => 'POST', path => '/chatport/form',
          body => { email => 'o@example.com', message => $text },
          text => $text }
    } 1 .. 20;

    my $b1 = open_requests([ @reqs[0 .. 9] ]);
    $redis->stop;
    $redis->start;
    my $b2 = open_requests([ @reqs[10 .. 19] ]);
    my @answers = (@{ $b1->collect(timeout => 5) },
                   @{ $b2->collect(timeout => 5) });

    for my $i (0 .. $#answers) {
        my $a = $answers[$i];
        if ($a->{status} == 201 && ($a->{json}{id} // '') =~ $ID) {
            $ok_ids{ $a->{json}{id} } = $reqs[$i]{text};
            $ok_texts{ $reqs[$i]{text} } = 1;
        } elsif ($a->{status} != 503) {
            push @bad, { text => $reqs[$i]{text}, res => $a };
        }
    }

    my %count;
    $count{ $_->{status} }++ for @answers;
    note 'burst across a Redis restart: '
         . join(', ', map { "$_: $count{$_}" } sort keys %count);

    is_deeply(\@bad, [], 'every answer was a success or 503 (no 5xx else, '
                         . 'no hang, no other status)');

    # and once more a Redis restart: the append-only file keeps them
    $redis->stop;
    $redis->start;

    my $list;
    wait_until(sub {
        $list = agent_forms($p);
        !$list->{error};
    }, 8, 0.1);
    ok(!$list->{error}, 'GET A forms after the restarts: 200')
        or diag explain $list;

    my %stored;
    for my $f (@{ $list->{forms} || [] }) {
        $stored{ $f->{fields}{message} // '' } = $f->{id};
    }

    my @lost = grep { !exists $stored{$_} } sort keys %ok_texts;
    is_deeply(\@lost, [], 'nothing answered 201 or 303 sent is lost ('
                          . scalar(keys %ok_texts) . ' successes)');

    my @id_lost = grep { ($stored{ $ok_ids{$_} } // '') ne $_ }
                  keys %ok_ids;
    is_deeply(\@id_lost, [], 'each 201 id is stored with its own text');

    my @ids = map { $_->{id} } @{ $list->{forms} || [] };
    is_deeply(\@ids, [ sort_ids(@ids) ], 'the list is in id order');

    my @bad_log = grep { /\[(alert|crit|emerg)\]/ }
                  split /\n/, $ngx2->error_log;
    ok(!@bad_log, 'no alert in the error log') or diag join "\n", @bad_log;
    ok($ngx2->alive, 'nginx is still running');
    is(scalar $ngx2->workers, 2, 'both workers alive');

    $ngx2->stop;
    $redis->stop;
};


my @bad = grep { /\[(alert|crit|emerg)\]/ } split /\n/, $ngx->error_log;
ok(!@bad, 'no alert in the error log') or diag join "\n", @bad;

$ngx->stop;

done_testing();
