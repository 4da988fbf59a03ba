# HTTP/2 over TLS, as production sites run it (listen 443 ssl http2), with
# a throwaway self-signed certificate: the visitor and the operator flows,
# the chatport_vid cookie's Secure, request bodies (JSON, urlencoded, in
# several DATA frames, without a content-length), injection; parked polls
# ended by a stream reset or by a closed connection while the other
# streams go on, with nothing left behind (the channel is unsubscribed);
# and parked HTTP/2 polls answered on a graceful shutdown and a reload.
#
# Clients: Debian's curl (nghttp2) for plain requests, and t/lib/h2client.py
# (Debian's python3-h2) where streams must be held, reset or multiplexed
# on one connection.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(time sleep);
use File::Temp ();
use IO::Select;
use IPC::Open2 ();
use JSON::PP ();
use MIME::Base64 qw(encode_base64);

use lib 't/lib';
use ChatPort::Harness;

require_env();

my $PY = '/usr/bin/python3';

plan skip_all => 'needs python3-h2 (scripts/deps.sh installs it)'
    unless system($PY, '-c', 'import h2') == 0;
plan skip_all => 'needs curl with HTTP/2'
    unless `curl --version 2>/dev/null` =~ /\bHTTP2\b/;

my $json = JSON::PP->new->utf8->canonical;
my $redis = shared_redis_port();
my $site = 't070';
my $ID = qr/^\d+-\d+$/;

for my $s ($site, "${site}q", "${site}r") {
    my $keys = redis_cmd($redis, 'KEYS', "chatport:{$s}:*");
    redis_cmd($redis, 'DEL', @$keys) if ref $keys && @$keys;
}

my $tmp = File::Temp::tempdir('chatport-070-XXXXXX', TMPDIR => 1,
                              CLEANUP => !$ENV{CHATPORT_KEEP});

ChatPort::Harness::self_signed_cert($tmp);     # cert.pem, key.pem

sub write_file {
    my ($file, $text) = @_;
    open my $fh, '>', $file or die "$file: $!";
    print $fh $text;
    close $fh;
}

write_file("$tmp/htpasswd", "alice:{PLAIN}secret\n");
mkdir "$tmp/site";
write_file("$tmp/site/index.html",
           "<html>\n<body>\n<p>shop</p>\n</BODY>\n</html>\n");

my $AUTH = 'Basic ' . encode_base64('alice:secret', '');
my $TAG = '<script src="/chatport/widget.js" defer data-chatport></script>';

# a server block for site $s, every poll held for $timeout
sub server_conf {
    my ($s, $timeout) = @_;
    return <<"_EOC_";
        ssl_certificate $tmp/cert.pem;
        ssl_certificate_key $tmp/key.pem;
        chatport_site $s;

        location /chatport/ {
            chatport;
            chatport_poll_timeout $timeout;
            add_header X-Worker \$pid always;
        }

        location /chatport/agent/ {
            chatport_agent;
            auth_basic "ops";
            auth_basic_user_file $tmp/htpasswd;
            chatport_poll_timeout $timeout;
        }

        location /site/ {
            alias $tmp/site/;
            chatport_inject on;
        }
_EOC_
}

sub alerts {
    my ($ngx, $offset) = @_;
    return grep { /\[(alert|crit|emerg)\]|exited on signal/ }
           split /\n/, $ngx->log_since($offset // 0);
}

sub numsub {
    my ($channel) = @_;
    my $r = redis_cmd($redis, 'PUBSUB', 'NUMSUB', $channel);
    return ref $r ? $r->[1] : undef;
}

sub conv_channel  { "chatport:{$_[0]}:conv:" . cid_of($_[1]) }
sub inbox_channel { "chatport:{$_[0]}:inbox" }


# ---------------------------------------------------------------- curl

# h2(port, METHOD, path, body, headers => {...}, cookie => '...'):
# one request with curl --http2; { version, status, headers (lower case,
# repeated ones joined with ", "), set_cookie => [...], body, json }
sub h2 {
    my ($port, $method, $path, $body, %o) = @_;
    my @cmd = ('curl', '-sk', '--http2', '--max-time', $o{timeout} // 10,
               '--resolve', "localhost:$port:127.0.0.1",
               '-X', $method, '-D', "$tmp/head", '-o', "$tmp/body",
               '-w', '%{http_version}');
    my %h = %{ $o{headers} || {} };
    push @cmd, '-H', "$_: $h{$_}" for sort keys %h;
    push @cmd, '-H', "Cookie: $o{cookie}" if $o{cookie};

    if (defined $body) {
        $body = $json->encode($body) if ref $body;
        write_file("$tmp/req", $body);
        push @cmd, '-H', 'Content-Type: application/json'
            unless grep { lc $_ eq 'content-type' } keys %h;
        push @cmd, '--data-binary', "\@$tmp/req";
    }

    unlink "$tmp/head", "$tmp/body";
    open my $fh, '-|', @cmd, "https://localhost:$port$path" or die "curl: $!";
    my $version = do { local $/; <$fh> };
    close $fh;

    my $res = { version => $version, status => 0, headers => {},
                set_cookie => [] };
    my $head = ChatPort::Harness::slurp("$tmp/head");

    for my $line (split /\r\n/, $head) {
        if ($line =~ m{^HTTP/\S+ (\d{3})}) {
            $res->{status} = $1 + 0;
            next;
        }
        my ($k, $v) = $line =~ /^([^:]+):\s*(.*)$/ or next;
        $k = lc $k;
        push @{ $res->{set_cookie} }, $v if $k eq 'set-cookie';
        $res->{headers}{$k} = exists $res->{headers}{$k}
                              ? "$res->{headers}{$k}, $v" : $v;
    }

    $res->{body} = ChatPort::Harness::slurp("$tmp/body");
    $res->{json} = eval { $json->decode($res->{body}) }
        if ($res->{headers}{'content-type'} // '') =~ /json/;

    return $res;
}


# ------------------------------------------------------ t/lib/h2client.py

# one HTTP/2 connection held open: ->request(ID, path, %o), ->cancel(ID)
# (RST_STREAM), ->hangup (closes it), ->answers(\@ids, $timeout) (the
# answers that came, by ID), ->got(ID), ->seen(EVENT) (goaway, closed),
# ->done
package H2;

use Time::HiRes qw(time);

sub new {
    my ($class, $port) = @_;
    my $pid = IPC::Open2::open2(my $out, my $in, $PY, 't/lib/h2client.py',
                                $port);
    my $self = bless { pid => $pid, out => $out, in => $in, buf => '',
                       got => {}, events => {} }, $class;
    $self->read_lines(5, sub { $self->{events}{ready} });
    die "h2client did not connect\n" unless $self->{events}{ready};
    return $self;
}

sub cmd {
    my ($self, $cmd) = @_;
    my $fh = $self->{in};
    print $fh $json->encode($cmd) . "\n";
    $fh->flush;
}

sub request {
    my ($self, $id, $path, %o) = @_;
    $self->cmd({ op => 'request', id => $id, path => $path,
                  method => $o{method} || 'GET', headers => $o{headers} || {},
                  (defined $o{body} ? (body => $o{body}) : ()),
                  ($o{pieces} ? (pieces => $o{pieces}) : ()),
                  ($o{no_length} ? (no_length => JSON::PP::true) : ()) });
}

sub cancel { $_[0]->cmd({ op => "reset", id => $_[1] }) }
sub hangup { $_[0]->cmd({ op => 'close' }) }

# reads what the client says until $until->() or $timeout seconds
sub read_lines {
    my ($self, $timeout, $until) = @_;
    my $deadline = time + $timeout;
    my $sel = IO::Select->new($self->{out});

    until ($until->()) {
        my $left = $deadline - time;
        last if $left <= 0 || !$sel->can_read($left);
        my $n = sysread $self->{out}, $self->{buf}, 65536,
                        length $self->{buf};
        last unless $n;

        while ($self->{buf} =~ s/^([^\n]*)\n//) {
            my $m = eval { $json->decode($1) } or next;

            if (defined $m->{event}) {
                $self->{events}{ $m->{event} } = $m;
                next;
            }

            $m->{json} = eval { $json->decode($m->{body}) }
                if ($m->{headers}{'content-type'} // '') =~ /json/;
            $self->{got}{ $m->{id} } = $m;
        }
    }
}

sub answers {
    my ($self, $ids, $timeout) = @_;
    $self->read_lines($timeout,
                      sub { !grep { !$self->{got}{$_} } @$ids });
    return { map { $_ => $self->{got}{$_} } grep { $self->{got}{$_} } @$ids };
}

# what came so far without waiting
sub got {
    my ($self, $id) = @_;
    $self->read_lines(0, sub { 0 });
    return $self->{got}{$id};
}

sub seen {
    my ($self, $event, $timeout) = @_;
    $self->read_lines($timeout // 0, sub { $self->{events}{$event} });
    return $self->{events}{$event};
}

sub done {
    my ($self) = @_;
    return unless $self->{pid};
    close $self->{in};
    close $self->{out};
    unless (ChatPort::Harness::reap($self->{pid}, 5)) {
        kill 'KILL', $self->{pid};
        ChatPort::Harness::reap($self->{pid}, 5);
    }
    delete $self->{pid};
}

sub DESTROY { $_[0]->done }

package main;


# ------------------------------------------------------------- the flows

my $ngx = start_nginx(listen => 'ssl http2', server => server_conf($site, '30s'));
my $port = $ngx->port;
my $ORIGIN = "https://localhost:$port";

my ($vid, $cid, $m1, $m2);

subtest 'visitor over HTTP/2: config, messages, history, poll; a Secure cookie' => sub {
    my $log = $ngx->log_size;

    my $res = h2($port, GET => '/chatport/config');
    is($res->{version}, '2', 'curl speaks HTTP/2 to the server');
    is($res->{status}, 200, 'config: 200');
    is($res->{json}{site}, $site, 'config: the site');

    $res = h2($port, POST => '/chatport/messages',
              { text => 'Hello over h2', page => 'https://shop.test/p/1' },
              headers => { Origin => $ORIGIN, 'User-Agent' => 'H2UA/1' });
    is($res->{status}, 201, 'first message: 201') or diag explain $res;
    $m1 = $res->{json}{id} // '';
    like($m1, $ID, 'a message id');

    my ($cookie) = grep { /^chatport_vid=/ } @{ $res->{set_cookie} };
    ($vid) = ($cookie // '') =~ /^chatport_vid=([0-9a-f]{32});/;
    ok($vid, 'a chatport_vid cookie') or diag explain $res->{set_cookie};
    like($cookie // '', qr/;\s*Secure(;|$)/, 'the cookie is Secure on https');
    like($cookie // '', qr/;\s*HttpOnly(;|$)/, '... HttpOnly');
    like($cookie // '', qr/;\s*SameSite=Lax(;|$)/, '... SameSite=Lax');
    $cid = cid_of($vid // '');

    $res = h2($port, POST => '/chatport/messages',
              { text => 'Second, 日本語も', page => 'https://shop.test/p/2' },
              headers => { Origin => $ORIGIN }, cookie => "chatport_vid=$vid");
    is($res->{status}, 201, 'second message: 201');
    $m2 = $res->{json}{id} // '';
    is_deeply($res->{set_cookie}, [], 'no new cookie');

    $res = h2($port, POST => '/chatport/messages', { text => 'x' },
              headers => { Origin => 'https://evil.test' },
              cookie => "chatport_vid=$vid");
    is($res->{status}, 403, 'another site\'s Origin: 403');
    is($res->{json}{error}, 'cross_origin', '... cross_origin');

    $res = h2($port, GET => '/chatport/messages', undef,
              cookie => "chatport_vid=$vid");
    is($res->{status}, 200, 'history: 200');
    is_deeply([ map { $_->{text} } @{ $res->{json}{messages} || [] } ],
              [ 'Hello over h2', 'Second, 日本語も' ],
              'history: both messages, in order') or diag $res->{body};
    is($res->{json}{cursor}, $m2, 'history: the cursor');

    $res = h2($port, GET => "/chatport/poll?after=$m1", undef,
              cookie => "chatport_vid=$vid");
    is($res->{status}, 200, 'a poll with something newer: 200 at once');
    is_deeply([ map { $_->{id} } @{ $res->{json}{messages} || [] } ], [ $m2 ],
              '... the newer message');

    $res = h2($port, GET => "/chatport/poll?after=$m1", undef,
              cookie => 'chatport_vid=' . ('0' x 32));
    is($res->{status}, 403, 'a poll with an unknown cookie: 403');

    my @a = alerts($ngx, $log);
    ok(!@a, 'no alert in the error log') or diag join "\n", @a;
};


subtest 'operator over HTTP/2: list, reply to a parked poll, inbox poll, close' => sub {
    plan skip_all => 'no conversation' unless $vid;
    my $log = $ngx->log_size;
    my %A = (Authorization => $AUTH);

    my $res = h2($port, GET => '/chatport/agent/conversations');
    is($res->{status}, 401, 'without credentials: 401');

    $res = h2($port, GET => '/chatport/agent/conversations', undef,
              headers => \%A);
    is($res->{status}, 200, 'conversations: 200');
    my ($c) = grep { $_->{id} eq $cid } @{ $res->{json}{conversations} || [] };
    ok($c, 'the conversation is listed') or diag $res->{body};
    is($c->{page}, 'https://shop.test/p/2', '... with its page');
    is($c->{user_agent}, 'H2UA/1', '... and user agent');
    is($c->{unread}, 2, '... 2 unread');

    # the visitor's poll and the operator's inbox poll, parked on one
    # HTTP/2 connection
    my $h = H2->new($port);
    $h->request(v => "/chatport/poll?after=$m2",
                headers => { cookie => "chatport_vid=$vid" });
    $res = h2($port, GET => '/chatport/agent/poll', undef, headers => \%A);
    my $inbox = $res->{json}{cursor} // '';
    like($inbox, $ID, 'inbox: a cursor');
    $h->request(op => "/chatport/agent/poll?after=$inbox",
                headers => { authorization => $AUTH });

    ok(wait_until(sub { numsub(conv_channel($site, $vid))
                        && numsub(inbox_channel($site)) }, 5),
       'both polls are parked (their channels are subscribed)');
    ok(!$h->got('v') && !$h->got('op'), 'neither is answered yet');

    $res = h2($port, POST => "/chatport/agent/conversations/$cid/messages",
              { text => 'Reply over h2' },
              headers => { %A, Origin => $ORIGIN });
    is($res->{status}, 201, 'reply: 201') or diag explain $res;
    my $r1 = $res->{json}{id} // '';

    my $got = $h->answers(['v'], 5);
    is($got->{v}{status}, 200, 'the parked visitor poll: 200');
    is_deeply([ map { [ $_->{id}, $_->{from}, $_->{agent}, $_->{text} ] }
                @{ $got->{v}{json}{messages} || [] } ],
              [ [ $r1, 'agent', 'alice', 'Reply over h2' ] ],
              '... the reply, from alice') or diag explain $got->{v};

    $got = $h->answers(['op'], 5);
    is($got->{op}{status}, 200, 'the parked inbox poll: 200');
    is_deeply([ map { [ $_->{type}, $_->{conversation} ] }
                @{ $got->{op}{json}{events} || [] } ],
              [ [ 'message', $cid ] ], '... the message event')
        or diag explain $got->{op};

    $res = h2($port, POST => "/chatport/agent/conversations/$cid/messages",
              { text => 'x' }, headers => { %A, Origin => 'https://evil.test' });
    is($res->{status}, 403, 'an operator post from another site: 403');

    $res = h2($port, GET => "/chatport/agent/conversations/$cid/messages",
              undef, headers => \%A);
    is_deeply([ map { $_->{text} } @{ $res->{json}{messages} || [] } ],
              [ 'Hello over h2', 'Second, 日本語も', 'Reply over h2' ],
              'the operator reads the conversation');

    $res = h2($port, POST => "/chatport/agent/conversations/$cid/close",
              {}, headers => { %A, Origin => $ORIGIN,
                                  'Sec-Fetch-Site' => 'same-origin' });
    is($res->{status}, 204, 'close: 204') or diag explain $res;

    $res = h2($port, GET => '/chatport/agent/conversations', undef,
              headers => \%A);
    ($c) = grep { $_->{id} eq $cid } @{ $res->{json}{conversations} || [] };
    is($c->{status}, 'closed', 'the conversation is closed');

    $h->done;
    my @a = alerts($ngx, $log);
    ok(!@a, 'no alert in the error log') or diag join "\n", @a;
};


subtest 'request bodies over HTTP/2: JSON and urlencoded, in pieces, without a length' => sub {
    my $log = $ngx->log_size;
    my $h = H2->new($port);
    my $msg = '{"text":"in three DATA frames","page":"https://shop.test/b"}';

    $h->request(split => '/chatport/messages', method => 'POST',
                headers => { 'content-type' => 'application/json',
                             origin => $ORIGIN },
                pieces => [ substr($msg, 0, 10), substr($msg, 10, 20),
                            substr($msg, 30) ]);
    $h->request(nolen => '/chatport/messages', method => 'POST',
                headers => { 'content-type' => 'application/json' },
                body => '{"text":"no content-length"}', no_length => 1);
    $h->request(big => '/chatport/messages', method => 'POST',
                headers => { 'content-type' => 'application/json' },
                body => $json->encode({ text => 'y' x 3000 }));

    my $got = $h->answers([qw(split nolen big)], 10);
    is($got->{split}{status}, 201, 'a JSON body in three DATA frames: 201')
        or diag explain $got->{split};
    is($got->{nolen}{status}, 201, 'a JSON body without content-length: 201')
        or diag explain $got->{nolen};
    is($got->{big}{status}, 413, 'a text over chatport_max_message: 413');
    is($got->{big}{json}{error}, 'text_too_large', '... text_too_large');

    my ($cookie) = ($got->{split}{headers}{'set-cookie'} // '')
                   =~ /(chatport_vid=[0-9a-f]{32})/;
    my $res = h2($port, GET => '/chatport/messages', undef, cookie => $cookie);
    is_deeply([ map { $_->{text} } @{ $res->{json}{messages} || [] } ],
              [ 'in three DATA frames' ], 'the split body was stored whole');

    # the contact form: urlencoded as a plain HTML form, and in pieces
    my $form = 'email=h2%40example.com&message=form+over+h2'
             . '&page=https%3A%2F%2Flocalhost%3A' . $port . '%2Fcontact';
    $res = h2($port, POST => '/chatport/form', $form,
              headers => { 'Content-Type' => 'application/x-www-form-urlencoded',
                           Accept => 'text/html', Origin => $ORIGIN });
    is($res->{status}, 303, 'a plain HTML form: 303') or diag explain $res;
    is($res->{headers}{location}, "https://localhost:$port/contact?chatport=sent",
       '... back to the page, sent');

    $h->request(form => '/chatport/form', method => 'POST',
                headers => { 'content-type'
                                 => 'application/x-www-form-urlencoded' },
                pieces => [ 'email=p%40exam', 'ple.com&message=in+pie',
                            'ces+%E3%81%8A' ]);
    $got = $h->answers(['form'], 10);
    is($got->{form}{status}, 201, 'an urlencoded form in pieces: 201')
        or diag explain $got->{form};

    $res = h2($port, GET => '/chatport/agent/forms', undef,
              headers => { Authorization => $AUTH });
    is_deeply([ map { $_->{fields}{message} } @{ $res->{json}{forms} || [] } ],
              [ 'form over h2', "in pieces \x{304a}" ],
              'both submissions are stored, decoded') or diag $res->{body};

    $h->done;
    my @a = alerts($ngx, $log);
    ok(!@a, 'no alert in the error log') or diag join "\n", @a;
};


subtest 'injection over HTTP/2' => sub {
    my $res = h2($port, GET => '/site/');
    is($res->{version}, '2', 'HTTP/2');
    is($res->{status}, 200, 'the page: 200');
    is($res->{body}, "<html>\n<body>\n<p>shop</p>\n$TAG</BODY>\n</html>\n",
       'the tag before </BODY>');
    ok(!defined $res->{headers}{'content-length'}
       || $res->{headers}{'content-length'} == length $res->{body},
       'no content-length, or an exact one');
};


subtest 'a stream reset ends its parked poll; the other streams go on' => sub {
    my $log = $ngx->log_size;

    # visitors A (alone on its channel) and B (two polls)
    my (%vid, %id);
    for my $n (qw(A B)) {
        my $res = h2($port, POST => '/chatport/messages',
                     { text => "visitor $n" });
        ($vid{$n}) = ($res->{set_cookie}[0] // '') =~ /^chatport_vid=(\w+)/;
        $id{$n} = $res->{json}{id};
    }
    my $chA = conv_channel($site, $vid{A});
    my $chB = conv_channel($site, $vid{B});

    my $h = H2->new($port);
    $h->request(a => "/chatport/poll?after=$id{A}",
                headers => { cookie => "chatport_vid=$vid{A}" });
    $h->request("b$_" => "/chatport/poll?after=$id{B}",
                headers => { cookie => "chatport_vid=$vid{B}" }) for 1, 2;

    ok(wait_until(sub { numsub($chA) && numsub($chB) }, 5),
       'three polls parked on one connection');

    $h->cancel('a');
    ok(wait_until(sub { numsub($chA) == 0 }, 5),
       'after the reset the poll is gone: its channel is unsubscribed');
    like($ngx->log_since($log), qr/client canceled stream/,
         'nginx saw the reset');
    is(numsub($chB), 1, 'the other channel is still subscribed');
    ok(!$h->got('b1') && !$h->got('b2'), 'the other polls are still parked');

    # the same connection still serves
    $h->request(cfg => '/chatport/config');
    is($h->answers(['cfg'], 5)->{cfg}{status}, 200,
       'a new stream on the same connection: 200');

    my $res = h2($port, POST => '/chatport/messages', { text => 'to A' },
                 cookie => "chatport_vid=$vid{A}");
    is($res->{status}, 201, 'a message to the reset poll\'s visitor: 201');
    $res = h2($port, POST => '/chatport/messages', { text => 'to B' },
              cookie => "chatport_vid=$vid{B}");
    is($res->{status}, 201, 'a message to B: 201');

    my $got = $h->answers([qw(b1 b2)], 5);
    is_deeply([ map { ($got->{$_}{json}{messages} || [])->[0]{text} }
                qw(b1 b2) ], [ 'to B', 'to B' ],
              'both of B\'s polls on the connection get the message');
    ok(!$h->got('a'), 'nothing came on the reset stream');

    $h->request(a2 => "/chatport/poll?after=$id{A}",
                headers => { cookie => "chatport_vid=$vid{A}" });
    $got = $h->answers(['a2'], 5);
    is(($got->{a2}{json}{messages} || [])->[0]{text}, 'to A',
       'a new poll of A from the old cursor gets what came meanwhile');

    ok(wait_until(sub { !numsub($chA) && !numsub($chB) }, 5),
       'no channel left subscribed');

    $h->done;
    my @a = alerts($ngx, $log);
    ok(!@a, 'no alert in the error log') or diag join "\n", @a;
};


subtest 'a closed HTTP/2 connection ends its parked polls' => sub {
    my $log = $ngx->log_size;

    # visitor C: a poll on HTTP/1.1 (through curl: plain text is refused
    # on the TLS port) and one on HTTP/2; visitor D: two on HTTP/2
    my (%vid, %id);
    for my $n (qw(C D)) {
        my $res = h2($port, POST => '/chatport/messages', { text => $n });
        ($vid{$n}) = ($res->{set_cookie}[0] // '') =~ /^chatport_vid=(\w+)/;
        $id{$n} = $res->{json}{id};
    }
    my $chC = conv_channel($site, $vid{C});
    my $chD = conv_channel($site, $vid{D});

    my $h1 = "$tmp/h1.out";
    my $pid = background(sub {
        exec 'curl', '-sk', '--http1.1', '--max-time', '20', '-o', $h1,
             '--resolve', "localhost:$port:127.0.0.1",
             '-H', "Cookie: chatport_vid=$vid{C}",
             "https://localhost:$port/chatport/poll?after=$id{C}";
    });
    ok(wait_until(sub { numsub($chC) }, 5), 'the HTTP/1.1 poll is parked');

    my $res = h2($port, GET => '/chatport/agent/poll', undef,
                 headers => { Authorization => $AUTH });
    my $inbox = $res->{json}{cursor} // '0-0';

    my $h = H2->new($port);
    $h->request(c => "/chatport/poll?after=$id{C}",
                headers => { cookie => "chatport_vid=$vid{C}" });
    $h->request("d$_" => "/chatport/poll?after=$id{D}",
                headers => { cookie => "chatport_vid=$vid{D}" }) for 1, 2;
    $h->request(op => "/chatport/agent/poll?after=$inbox",
                headers => { authorization => $AUTH });

    ok(wait_until(sub { numsub($chD) && numsub(inbox_channel($site)) }, 5),
       'the HTTP/2 polls are parked');
    sleep 0.5;

    $h->hangup;
    $h->done;

    ok(wait_until(sub { !numsub($chD) && !numsub(inbox_channel($site)) }, 5),
       'the polls are gone with the connection: their channels are '
       . 'unsubscribed');
    like($ngx->log_since($log), qr/client prematurely closed connection/,
         'nginx saw the close');
    is(numsub($chC), 1, 'the HTTP/1.1 poll still holds its channel');

    $res = h2($port, POST => '/chatport/messages', { text => 'after close' },
              cookie => "chatport_vid=$vid{C}");
    is($res->{status}, 201, 'a message to C: 201');

    ok(reap($pid, 10), 'the HTTP/1.1 poll returned');
    like(ChatPort::Harness::slurp($h1), qr/"after close"/,
         '... with the message');
    ok(wait_until(sub { !numsub($chC) }, 5), 'no channel left subscribed');

    my @a = alerts($ngx, $log);
    ok(!@a, 'no alert in the error log') or diag join "\n", @a;
};

ok($ngx->stop(10), 'nginx stops gracefully');


# ------------------------------------------------- shutdown and reload

# parks $n visitor polls and an inbox poll on each of two connections;
# returns the clients, the ids and the cursors
sub park {
    my ($ngx, $s, $n) = @_;
    my $p = $ngx->port;
    my (@clients, %cursor);

    my $res = h2($p, POST => '/chatport/messages', { text => 'park' });
    my ($v) = ($res->{set_cookie}[0] // '') =~ /^chatport_vid=(\w+)/;
    my $id = $res->{json}{id} // '0-0';
    $res = h2($p, GET => '/chatport/agent/poll', undef,
              headers => { Authorization => $AUTH });
    my $inbox = $res->{json}{cursor} // '0-0';

    for my $c (1, 2) {
        my $h = H2->new($p);
        for (1 .. $n) {
            $h->request("v$_" => "/chatport/poll?after=$id",
                        headers => { cookie => "chatport_vid=$v" });
            $cursor{"v$_"} = $id;
        }
        $h->request(op => "/chatport/agent/poll?after=$inbox",
                    headers => { authorization => $AUTH });
        $cursor{op} = $inbox;
        push @clients, $h;
    }

    ok(wait_until(sub { numsub(conv_channel($s, $v))
                        && numsub(inbox_channel($s)) }, 5),
       'the polls are parked');
    sleep 0.5;
    ok(!(grep { my $h = $_; grep { $h->got($_) } keys %cursor } @clients),
       'none is answered yet');

    return (\@clients, \%cursor);
}

# every poll got its normal empty answer, with its cursor
sub check_answers {
    my ($clients, $cursor, $what) = @_;
    my @bad;

    for my $h (@$clients) {
        my $got = $h->answers([ keys %$cursor ], 20);
        for my $id (sort keys %$cursor) {
            my $r = $got->{$id};
            my $list = $r && $r->{json}
                       && $r->{json}{$id eq 'op' ? 'events' : 'messages'};
            push @bad, "$id: " . ($r ? "$r->{status} $r->{body}" : 'none')
                unless $r && $r->{status} == 200 && $list && !@$list
                       && $r->{json}{cursor} eq $cursor->{$id};
        }
    }

    is(scalar @bad, 0, "$what: every parked HTTP/2 poll answered 200, "
                       . 'empty, cursor unchanged') or diag join "\n", @bad;
    is(scalar(grep { $_->seen('goaway', 5) } @$clients), scalar @$clients,
       "$what: each connection got a GOAWAY");
}

subtest 'SIGQUIT answers parked HTTP/2 polls, nginx exits' => sub {
    my $s = "${site}q";
    # at debug level: nginx's timer debug line reads the exit watch's
    # ev->data as a connection (it once was NULL)
    my $ngx = start_nginx(workers => 2, listen => 'ssl http2',
                          log_level => 'debug',
                          server => server_conf($s, '60s'));
    my ($clients, $cursor) = park($ngx, $s, 3);

    my $t = time;
    $ngx->signal('QUIT');
    check_answers($clients, $cursor, 'SIGQUIT');

    ok($ngx->wait_exit(30), 'nginx exited');
    my $took = time - $t;
    note sprintf 'nginx exited %.2f s after SIGQUIT', $took;
    cmp_ok($took, '<', 20, 'well before the 60 s poll timeout');

    $_->done for @$clients;
    my @a = alerts($ngx);
    ok(!@a, 'no alert in the error log') or diag join "\n", @a;
    unlike($ngx->error_log, qr/open socket/, 'no open socket left');
    $ngx->stop;
};

subtest 'SIGHUP answers parked HTTP/2 polls, the old workers exit' => sub {
    my $s = "${site}r";
    my $ngx = start_nginx(workers => 2, listen => 'ssl http2',
                          server => server_conf($s, '60s'));
    my @old = $ngx->workers;
    is(scalar @old, 2, 'two workers');

    my ($clients, $cursor) = park($ngx, $s, 3);

    my $t = time;
    $ngx->signal('HUP');
    check_answers($clients, $cursor, 'SIGHUP');

    ok(wait_until(sub { !grep { pid_alive($_) } @old }, 30, 0.1),
       'the old workers exited')
        or diag 'still alive: ' . join ' ', grep { pid_alive($_) } @old;
    my $took = time - $t;
    note sprintf 'old workers gone %.2f s after SIGHUP', $took;
    cmp_ok($took, '<', 20, 'well before the 60 s poll timeout');
    ok($ngx->alive, 'the master is still up');
    $_->done for @$clients;

    # the new workers serve HTTP/2 polls
    my @new;
    wait_until(sub { @new = $ngx->workers; @new == 2 }, 5);
    my $p = $ngx->port;
    my $res = h2($p, POST => '/chatport/messages', { text => 'after HUP' });
    is($res->{status}, 201, 'a message after the reload: 201');
    my ($v) = ($res->{set_cookie}[0] // '') =~ /^chatport_vid=(\w+)/;

    my $h = H2->new($p);
    $h->request(p => "/chatport/poll?after=$res->{json}{id}",
                headers => { cookie => "chatport_vid=$v" });
    ok(wait_until(sub { numsub(conv_channel($s, $v)) }, 5), 'a new poll parks');
    h2($p, POST => '/chatport/messages', { text => 'wake' },
       cookie => "chatport_vid=$v");
    my $got = $h->answers(['p'], 5)->{p};
    is(($got->{json}{messages} || [])->[0]{text}, 'wake',
       'it is woken by the next message');
    my $w = $got->{headers}{'x-worker'} // '';
    ok((grep { $_ eq $w } @new), '... by a new worker');
    $h->done;

    ok($ngx->stop(20), 'nginx stops gracefully');
    my @a = alerts($ngx);
    ok(!@a, 'no alert in the error log') or diag join "\n", @a;
    unlike($ngx->error_log, qr/open socket/, 'no open socket left');
};


done_testing;
