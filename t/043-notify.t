# chatport_notify is fire-and-forget: the notification subrequest never
# holds the visitor's request, whatever the webhook answers (a body, an
# error page). "Connection: close" is honoured, the next keep-alive request
# on the connection is read, connections are released (more posts than
# worker_connections), and a graceful stop does not wait. The console link
# in the event comes from the server's name and port or from
# chatport_console_url, never from the Host header.

use strict;
use warnings;

use Test::More;
use IO::Socket::INET;
use IO::Select;
use JSON::PP;
use Time::HiRes qw(time sleep);

use lib 't/lib';
use ChatPort::Harness;

require_env();

my $tmp = File::Temp::tempdir('chatport-t043-XXXXXX', TMPDIR => 1,
                              CLEANUP => 1);
open my $pw, '>', "$tmp/htpasswd" or die $!;
print $pw "op:{PLAIN}pw\n";
close $pw;

my $port = free_port();
my $port_b = free_port();

my $hook = <<"_EOC_";
        location = /hook {
            internal;
            log_subrequest on;
            access_log $tmp/events.log event;
            proxy_pass http://127.0.0.1:$port/backend;
        }

        location = /backend {
            return 200 "accepted, and a body the visitor never sees\\n";
        }

        location = /hook500 {
            internal;
            return 500;
        }

        location /chatport/agent/ {
            auth_basic "operators";
            auth_basic_user_file $tmp/htpasswd;
            chatport_agent;
        }
_EOC_

my $ngx = start_nginx(port => $port, worker_connections => 64,
                      http => <<"_EOC_", server => <<"_EOC_");
    log_format event escape=none '\$request_body';

    server {
        listen 127.0.0.1:$port_b;
        server_name b.test;
        chatport_site t043b;
        chatport_console_url https://ops.example/chatport/agent/;

        location /chatport/ {
            chatport;
            chatport_notify /hook;
        }

$hook
    }
_EOC_
        chatport_site t043;

        location /chatport/ {
            chatport;
            chatport_notify /hook;
            chatport_form_rate 1000/1m;
        }

        location /err/ {
            chatport;
            chatport_notify /hook500;
            chatport_form_rate 1000/1m;
        }

$hook
_EOC_

my $form = 'name=Yuki&email=yuki%40example.com&message=hello';

sub raw_request {
    my ($method, $path, $body, %o) = @_;
    my $host = $o{host} // 'localhost';
    my $conn = $o{close} ? 'close' : 'keep-alive';
    my $type = $o{type} // 'application/json';
    my $text = "$method $path HTTP/1.1\r\nHost: $host\r\n"
             . "Connection: $conn\r\nOrigin: http://$host\r\n";
    $text .= "Cookie: $o{cookie}\r\n" if $o{cookie};
    $text .= "Content-Type: $type\r\nContent-Length: " . length($body)
             . "\r\n" if defined $body;
    return $text . "\r\n" . ($body // '');
}

# reads one response; with $eof, then waits for the server to close
sub read_response {
    my ($sock, $eof, $limit) = @_;
    my $sel = IO::Select->new($sock);
    my $buf = '';
    my $deadline = time + ($limit // 10);
    my ($status, $len, $end, $closed);

    while (time < $deadline) {
        if (!defined $end && ($end = index $buf, "\r\n\r\n") < 0) {
            undef $end;
        }
        if (defined $end) {
            ($status) = $buf =~ /^HTTP\/1\.1 (\d+)/;
            ($len) = substr($buf, 0, $end) =~ /^Content-Length:\s*(\d+)/mi;
            last if !$eof && length($buf) >= $end + 4 + ($len // 0);
        }
        last unless $sel->can_read($deadline - time);
        my $n = sysread $sock, $buf, 65536, length $buf;
        if (!$n) {
            $closed = 1;
            last;
        }
    }

    my $body = defined $end ? substr($buf, $end + 4, $len // 0) : '';
    return { status => $status // 0, body => $body, closed => $closed,
             head => defined $end ? substr($buf, 0, $end) : $buf };
}

sub connect_to {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $_[0] // $port, Proto => 'tcp')
        or die "connect: $!";
    return $s;
}

sub events {
    open my $fh, '<', "$tmp/events.log" or return ();
    my @e = map { eval { decode_json($_) } // () } <$fh>;
    return @e;
}


subtest '"Connection: close" closes the connection after the 201' => sub {
    for my $case (['/chatport/messages', '{"text":"first"}', undef],
                  ['/chatport/form', $form,
                   'application/x-www-form-urlencoded'],
                  ['/err/form', $form, 'application/x-www-form-urlencoded'])
    {
        my ($path, $body, $type) = @$case;
        my $s = connect_to();
        syswrite $s, raw_request('POST', $path, $body, close => 1,
                                 type => $type);
        my $res = read_response($s, 1, 10);
        is($res->{status}, 201, "$path: 201");
        ok($res->{closed}, "$path: the server closed the connection");
        close $s;
    }
};

subtest 'the next keep-alive request on the connection is read' => sub {
    for my $case (['/chatport/messages', '{"text":"keep"}', undef],
                  ['/err/form', $form, 'application/x-www-form-urlencoded'])
    {
        my ($path, $body, $type) = @$case;
        my $s = connect_to();
        syswrite $s, raw_request('POST', $path, $body, type => $type);
        my $res = read_response($s, 0, 10);
        is($res->{status}, 201, "$path: 201 on a keep-alive connection");

        syswrite $s, raw_request('GET', '/chatport/config', undef,
                                 close => 1);
        $res = read_response($s, 1, 10);
        is($res->{status}, 200, "$path: the next request answered 200");
        like($res->{body}, qr/^\{"site":"t043"/, 'with the config');
        close $s;
    }
};

subtest 'more notifying posts than worker_connections, clients gone' => sub {
    my $created = 0;

    for my $i (1 .. 150) {
        my $s = connect_to();
        syswrite $s, raw_request('POST', $i % 2 ? '/chatport/form'
                                                : '/err/form',
                                 $form, close => 1,
                                 type => 'application/x-www-form-urlencoded');
        my $res = read_response($s, 0, 10);
        $created++ if $res->{status} == 201;
        close $s;
    }

    is($created, 150, '150 form posts with notifications: 201');

    my $res = http_request(port => $port, path => '/chatport/config');
    is($res->{status}, 200, 'the server still answers');
    ok(wait_until(sub { scalar(grep { $_->{type} eq 'form' } events())
                        >= 75 }, 10),
       'the webhook got the notifications');
};

subtest 'the console link comes from the server, not from Host' => sub {
    my $s = connect_to();
    syswrite $s, raw_request('POST', '/chatport/messages',
                             '{"text":"phish?"}', close => 1,
                             host => 'localhost:1@evil.example');
    my $res = read_response($s, 1, 10);
    is($res->{status}, 201, 'posted with a hostile Host: 201');

    my $phish = sub { grep { ($_->{message}{text} // '') eq 'phish?' }
                      events() };
    wait_until($phish, 10);
    my ($e) = $phish->();
    ok($e, 'the event reached the webhook') or return;
    is($e->{console},
       "http://localhost:$port/chatport/agent/#$e->{conversation}",
       'the link names the server and its port');

    $s = connect_to($port_b);
    syswrite $s, raw_request('POST', '/chatport/messages',
                             '{"text":"from b"}', close => 1,
                             host => 'b.test');
    $res = read_response($s, 1, 10);
    is($res->{status}, 201, 'server b: 201');
    wait_until(sub { grep { ($_->{site} // '') eq 't043b' } events() }, 10);
    ($e) = grep { ($_->{site} // '') eq 't043b' } events();
    is($e && $e->{console},
       "https://ops.example/chatport/agent/#" . ($e && $e->{conversation}),
       'chatport_console_url makes the link');
};

subtest 'a graceful stop does not wait for notifications' => sub {
    my $t = time;
    ok($ngx->stop(10), 'nginx stopped gracefully');
    note sprintf 'stopped in %.1f s', time - $t;
};

done_testing();
