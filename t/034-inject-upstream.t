# chatport_inject and upstreams it cannot see through Test::Nginx alone:
# a backend nginx that gzips text/html behind a front with chatport_inject
# and gzip (the backend gets no Accept-Encoding from an injecting location,
# the client still gets gzip, with the tag inside); a fake upstream whose
# body is shorter or longer than its Content-Length; the weak ETag of an
# injected page still gives a 304.

use strict;
use warnings;

use Test::More;
use IO::Select;
use IO::Socket::INET;
use IO::Uncompress::Gunzip qw(gunzip $GunzipError);
use Time::HiRes qw(time);

use lib 't/lib';
use ChatPort::Harness;

require_env();

my $Tag = '<script src="/chatport/widget.js" defer data-chatport></script>';
my $Page = "<html><head><title>g</title></head><body>\n"
           . ("<p>compress me, compress me</p>\n" x 40) . "</body></html>\n";

(my $Injected = $Page) =~ s{</body>}{$Tag</body>};

# GET with the given headers; the raw answer read until the server closes
# (10 s at most): (status, { lc header => value }, body, raw length of body)
sub get {
    my ($port, $path, @headers) = @_;

    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => 5)
        or die "connect $port: $!";
    print $s "GET $path HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
             . join('', map { "$_\r\n" } @headers) . "\r\n";

    my ($raw, $sel, $deadline) = ('', IO::Select->new($s), time + 10);

    while (time < $deadline) {
        last unless $sel->can_read($deadline - time);
        my $n = sysread $s, my $buf, 65536;
        last unless $n;
        $raw .= $buf;
    }
    close $s;

    my $end = index $raw, "\r\n\r\n";
    return ('', {}, '') if $end < 0;

    my ($status_line, @lines) = split /\r\n/, substr($raw, 0, $end);
    my ($status) = $status_line =~ m{^HTTP/\d\.\d (\d+)};
    my %h = map { /^([^:]+):\s*(.*?)\s*$/ ? (lc $1 => $2) : () } @lines;
    my $body = substr $raw, $end + 4;

    if (($h{'transfer-encoding'} // '') =~ /chunked/) {
        my $plain = '';
        while ($body =~ s/^([0-9a-f]+)\r\n//i && hex $1) {
            $plain .= substr $body, 0, hex $1, '';
            $body =~ s/^\r\n//;
        }
        $body = $plain;
    }

    return ($status, \%h, $body);
}

sub write_file {
    my ($file, $text) = @_;
    open my $fh, '>', $file or die "$file: $!";
    print $fh $text;
    close $fh;
}


# ---- a gzip'ing backend behind an injecting front

my $backend = start_nginx(server => <<'_EOC_');
        location /site/ {
            alias html/;
            gzip on;
            gzip_types text/html;
            gzip_min_length 0;
            gzip_http_version 1.0;
            add_header X-Backend-Accept-Encoding "[$http_accept_encoding]";
        }
_EOC_

write_file($backend->dir . '/html/p.html', $Page);

my $bport = $backend->port;

my $front = start_nginx(server => <<"_EOC_");
        gzip on;
        gzip_types text/html;
        gzip_min_length 0;

        location /on/ {
            chatport_inject on;
            proxy_pass http://127.0.0.1:$bport/site/;
        }

        location /off/ {
            proxy_pass http://127.0.0.1:$bport/site/;
        }
_EOC_

my $fport = $front->port;

{
    my ($status, $h, $body) = get($fport, '/off/p.html',
                                  'Accept-Encoding: gzip');
    is($status, 200, 'without chatport_inject: 200');
    is($h->{'x-backend-accept-encoding'}, '[gzip]',
       'without chatport_inject the backend gets the client\'s Accept-Encoding');
    is($h->{'content-encoding'}, 'gzip', 'and answers gzip');
    gunzip(\$body => \my $plain) or diag("gunzip: $GunzipError");
    is($plain, $Page, 'the page, untouched');
}

{
    my ($status, $h, $body) = get($fport, '/on/p.html',
                                  'Accept-Encoding: gzip, deflate, br');
    is($status, 200, 'chatport_inject on, gzip client: 200');
    is($h->{'x-backend-accept-encoding'}, '[]',
       'the backend got no Accept-Encoding');
    is($h->{'content-encoding'}, 'gzip',
       'the front\'s gzip still compresses for the client');
    ok(!exists $h->{'content-length'}, 'gzip made it chunked');
    gunzip(\$body => \my $plain) or diag("gunzip: $GunzipError");
    is($plain, $Injected, 'decompressed: the page with the tag before </body>');
}

{
    my ($status, $h, $body) = get($fport, '/on/p.html');
    is($status, 200, 'chatport_inject on, a client without gzip: 200');
    is($h->{'x-backend-accept-encoding'}, '[]', 'no Accept-Encoding upstream');
    ok(!exists $h->{'content-encoding'}, 'not compressed');
    is($h->{'content-length'}, length($Page) + length($Tag),
       'the exact length: the page\'s plus the tag\'s');
    is($body, $Injected, 'the page with the tag');
}


# ---- a fake upstream whose body does not match its Content-Length

my $listen = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                   Listen => 16, ReuseAddr => 1,
                                   Proto => 'tcp')
    or die "listen: $!";
my $uport = $listen->sockport;

my $upstream = background(sub {
    while (my $c = $listen->accept) {
        my $req = '';
        while ($req !~ /\r\n\r\n/) {
            sysread($c, my $buf, 4096) or last;
            $req .= $buf;
        }

        my ($path) = $req =~ m{^GET (\S+)};
        my $head = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                   . "Connection: close\r\n";

        if ($path eq '/short') {
            # 100 announced, 17 sent, then the connection is closed
            print $c $head . "Content-Length: 100\r\n\r\n<html><body>short";

        } elsif ($path eq '/long') {
            # 20 announced: "<html><body>x</body>", then more
            print $c $head . "Content-Length: 20\r\n\r\n"
                     . "<html><body>x</body></html> and more";
        }

        close $c;
    }
});
close $listen;

my $proxy = start_nginx(server => <<"_EOC_");
        chatport_inject on;

        location /buffered/ {
            proxy_pass http://127.0.0.1:$uport/;
        }

        location /unbuffered/ {
            proxy_buffering off;
            proxy_pass http://127.0.0.1:$uport/;
        }
_EOC_

for my $loc (qw(buffered unbuffered)) {
    my $log = $proxy->log_size;
    my ($status, $h, $body) = get($proxy->port, "/$loc/short");

    is($status, 200, "$loc, a short upstream body: 200");
    is($h->{'content-length'}, 100 + length($Tag),
       "$loc: the announced length is the upstream's plus the tag's");
    ok(length($body) < 100 + length($Tag),
       "$loc: fewer bytes arrive and the connection is closed, so the client"
       . " sees the answer is cut (" . length($body) . " bytes)");
    ok(ChatPort::Harness::wait_until(sub {
           $proxy->log_since($log) =~ /upstream prematurely closed/ }, 5),
       "$loc: nginx logs the short upstream");
}

{
    my ($status, $h, $body) = get($proxy->port, '/buffered/long');
    is($status, 200, 'a longer upstream body: 200');
    is($body, "<html><body>x$Tag</body>",
       'nginx keeps the announced 20 bytes, the tag goes in');
    is($h->{'content-length'}, 20 + length($Tag), 'and the length is exact');
}

ChatPort::Harness::stop_pid($upstream, 'KILL', 5);


# ---- the weak ETag of an injected page is still a validator

my $static = start_nginx(server => <<'_EOC_');
        location /s/ {
            alias html/;
            chatport_inject on;
        }
_EOC_

write_file($static->dir . '/html/p.html', $Page);

{
    my ($status, $h) = get($static->port, '/s/p.html');
    like($h->{etag} // '', qr{^W/"[0-9a-f]+-[0-9a-f]+"$}, 'a weak ETag');

    my ($status2, $h2, $body2) = get($static->port, '/s/p.html',
                                     "If-None-Match: $h->{etag}");
    is($status2, 304, 'If-None-Match with it: 304');
    is($body2, '', 'without a body');
    ok(!exists $h2->{'content-length'}, 'and without a length');
}

done_testing();
