# Photos (POST P images, POST A conversations/CID/images): the table of
# uploads accepted and refused (each format, truncated files, polyglots,
# SVG, HTML named .jpg, too large in bytes or in pixels, over the quota,
# without a conversation, the wrong conversation, another site); who may
# read a photo back and with which headers; a photo in the owner's mail;
# and a photo expiring with its conversation, the site's quota let go
# then.
#
# The images are made here, byte by byte: the server reads their
# structure only (t/browser/images.js sends real ones).

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(time sleep);
use MIME::Base64 qw(encode_base64);
use Compress::Zlib ();
use File::Temp ();

use lib 't/lib';
use ChatPort::Harness;
use ChatPort::Mail;

require_env();

my $redis = shared_redis_port();
my ($SA, $SB, $SQ, $SM) = ('t062a', 't062b', 't062q', 't062m');

for my $site ($SA, $SB, $SQ, $SM) {
    my $keys = redis_cmd($redis, 'KEYS', "chatport:{$site}:*");
    redis_cmd($redis, 'DEL', @$keys) if ref $keys && @$keys;
}

my $tmp = File::Temp::tempdir("chatport-062-XXXXXX", TMPDIR => 1,
                              CLEANUP => !$ENV{CHATPORT_KEEP});

open my $fh, '>', "$tmp/htpasswd" or die "$tmp/htpasswd: $!";
print $fh "alice:{PLAIN}secret\n";
close $fh;

my $AUTH = 'Basic ' . encode_base64('alice:secret', '');


# ----------------------------------------------------------------- images

sub png_chunk {
    my ($type, $data) = @_;
    return pack('N', length $data) . $type . $data
           . pack('N', Compress::Zlib::crc32($type . $data));
}

sub png {
    my ($w, $h) = @_;
    my $rows = join '', map { "\0" . ("\x80\x40\x20" x ($w > 64 ? 1 : $w)) }
                        1 .. ($h > 64 ? 1 : $h);
    return "\x89PNG\r\n\x1a\n"
           . png_chunk('IHDR', pack('NNCCCCC', $w, $h, 8, 2, 0, 0, 0))
           . png_chunk('IDAT', Compress::Zlib::compress($rows))
           . png_chunk('IEND', '');
}

# baseline JPEG markers around a scan with byte stuffing and a restart
sub jpeg {
    my ($w, $h, $pad) = @_;
    return "\xff\xd8"
           . "\xff\xe0" . pack('n', 16) . "JFIF\0\x01\x01\0\0\x01\0\x01\0\0"
           . "\xff\xdb" . pack('n', 67) . "\0" . ("\x01" x 64)
           . "\xff\xc0" . pack('n', 11) . "\x08" . pack('nn', $h, $w)
           . "\x01\x01\x11\x00"
           . "\xff\xda" . pack('n', 8) . "\x01\x01\x00\x00\x3f\x00"
           . "\x12\x34\xff\x00\x56\xff\xd0\x78" . ("\x55" x ($pad // 0))
           . "\xff\xd9";
}

sub gif {
    return "GIF89a" . pack('vv', 1, 1) . "\x80\x00\x00"
           . "\xff\xff\xff\x00\x00\x00"
           . "\x21\xf9\x04\x01\x00\x00\x00\x00"
           . "\x2c" . pack('vvvv', 0, 0, 1, 1) . "\x00"
           . "\x02\x02\x44\x01\x00"
           . "\x3b";
}

sub riff {
    my (@chunks) = @_;
    my $body = 'WEBP';
    for my $c (@chunks) {
        my ($type, $data) = @$c;
        $body .= $type . pack('V', length $data) . $data;
        $body .= "\0" if length($data) % 2;
    }
    return 'RIFF' . pack('V', length $body) . $body;
}

sub vp8l {
    my ($w, $h) = @_;
    return ['VP8L', "\x2f" . pack('V', ($w - 1) | (($h - 1) << 14))
                    . "\x00\x00\x00"];
}

my %IMG = (
    jpeg => jpeg(640, 480),
    png => png(3, 2),
    gif => gif(),
    webp_vp8 => riff(['VP8 ', "\x10\x02\x00\x9d\x01\x2a"
                              . pack('vv', 320, 200) . "\0\0"]),
    webp_vp8l => riff(vp8l(16, 9)),
    webp_vp8x => riff(['VP8X', "\x00\0\0\0" . substr(pack('V', 99), 0, 3)
                               . substr(pack('V', 49), 0, 3)],
                      vp8l(100, 50)),
);

my %DIM = (jpeg => [640, 480], png => [3, 2], gif => [1, 1],
           webp_vp8 => [320, 200], webp_vp8l => [16, 9],
           webp_vp8x => [100, 50]);


# ------------------------------------------------------------------ nginx

my ($port_b, $port_q, $port_m) = (free_port(), free_port(), free_port());
my $smtp = start_smtpd();

sub agent_location {
    return <<"_EOC_";
        location /chatport/agent/ {
            chatport_agent;
            auth_basic "ops";
            auth_basic_user_file $tmp/htpasswd;
            client_max_body_size 8m;
        }
_EOC_
}

my $agent = agent_location();

my $ngx = start_nginx(server => <<"_EOC_", http => <<"_EOC_");
        chatport_site $SA;

        location /chatport/ {
            chatport;
            client_max_body_size 8m;
            chatport_max_upload 64k;
        }

        location /small/ {
            chatport;
            client_max_body_size 1k;
        }

        location /big/ {
            chatport;
            client_max_body_size 8m;
        }

$agent
_EOC_
    chatport_smtp smtp://127.0.0.1:@{[ $smtp->port ]};
    chatport_mail_from chat\@shop.test;

    server {
        listen 127.0.0.1:$port_b;
        server_name localhost;
        chatport_site $SB;

        location /chatport/ {
            chatport;
        }

$agent
    }

    server {
        listen 127.0.0.1:$port_m;
        server_name localhost;
        chatport_site $SM;
        chatport_mail_to owner\@shop.test;
        chatport_mail_delay 1s;

        location /chatport/ {
            chatport;
        }
    }

    server {
        listen 127.0.0.1:$port_q;
        server_name localhost;
        chatport_site $SQ;
        chatport_retention 3s;
        chatport_upload_quota 1500;

        location /chatport/ {
            chatport;
        }

$agent
    }
_EOC_

my $pa = $ngx->port;

sub upload {
    my ($v, $body, %o) = @_;
    return http_request(port => $o{port} || $pa, method => 'POST',
                        path => ($o{prefix} || '/chatport/') . 'images',
                        cookie => $v ? $v->cookie : undef,
                        headers => { 'Content-Type' =>
                                         $o{type} || 'image/jpeg',
                                     %{ $o{headers} || {} } },
                        body => $body, timeout => 10);
}

sub agent {
    my ($port, $method, $path, %o) = @_;
    return http_request(port => $port, method => $method,
                        path => "/chatport/agent/$path",
                        headers => { Authorization => $AUTH,
                                     %{ $o{headers} || {} } },
                        (defined $o{body} ? (body => $o{body}) : ()),
                        timeout => 10);
}

sub cid { cid_of($_[0]->vid) }

sub fetch {
    my ($port, $path, %o) = @_;
    return http_request(port => $port, path => $path, cookie => $o{cookie},
                        headers => $o{headers} || {}, timeout => 10);
}


# ---------------------------------------------------- accepted and refused

my $v = visitor(port => $pa);
is($v->post('hello, a photo follows')->{status}, 201, 'conversation opened');
my $cid = cid($v);

my %stored;

for my $name (sort keys %IMG) {
    my $res = upload($v, $IMG{$name}, type => 'application/octet-stream');
    is($res->{status}, 201, "$name: 201");
    like($res->{json}{id} // '', qr/^\d+-\d+$/, "$name: a message id");
    $stored{$name} = $res->{json}{id};
}

my @refused = (
    ['truncated JPEG', substr($IMG{jpeg}, 0, -2), 415, 'unsupported_image'],
    ['JPEG cut in its scan', substr($IMG{jpeg}, 0, 100), 415,
     'unsupported_image'],
    ['truncated PNG', substr($IMG{png}, 0, -12), 415, 'unsupported_image'],
    ['truncated WebP', substr($IMG{webp_vp8l}, 0, -2), 415,
     'unsupported_image'],
    ['GIF without its trailer', substr($IMG{gif}, 0, -1), 415,
     'unsupported_image'],
    ['polyglot: PNG then HTML', $IMG{png} . '<script>alert(1)</script>',
     415, 'unsupported_image'],
    ['polyglot: GIF then a zip', $IMG{gif} . "PK\x03\x04" . ("\0" x 26),
     415, 'unsupported_image'],
    ['polyglot: JPEG then HTML', $IMG{jpeg} . '<html>', 415,
     'unsupported_image'],
    ['SVG', '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
     415, 'unsupported_image'],
    ['HTML sent as image/jpeg named x.jpg',
     '<!DOCTYPE html><script>alert(1)</script>', 415, 'unsupported_image',
     { 'Content-Disposition' => 'attachment; filename="x.jpg"' }],
    ['BMP', "BM" . ("\0" x 60), 415, 'unsupported_image'],
    ['empty body', '', 415, 'unsupported_image'],
    ['PNG of 20000 x 10 pixels', png(20000, 10), 413, 'image_too_large'],
    ['JPEG of 8000 x 8000 pixels', jpeg(8000, 8000), 413,
     'image_too_large'],
    ['JPEG over chatport_max_upload (64k)', jpeg(10, 10, 70000), 413,
     'body_too_large'],
);

for my $case (@refused) {
    my ($what, $body, $status, $code, $headers) = @$case;
    my $res = upload($v, $body, headers => $headers);
    is($res->{status}, $status, "$what: $status");
    is($res->{json} && $res->{json}{error}, $code, "$what: $code (JSON)");
}

{
    # client_max_body_size below chatport_max_upload: nginx's 413, as JSON
    my $res = upload($v, jpeg(10, 10, 3000), prefix => '/small/');
    is($res->{status}, 413, 'over client_max_body_size: 413');
    ok($res->{json} && $res->{json}{error}, 'over client_max_body_size: JSON')
        or diag($res->{body});

    $res = upload($v, $IMG{png}, prefix => '/small/');
    is($res->{status}, 201, 'a small photo passes client_max_body_size');

    # the default chatport_max_upload, 4m, with a body read from a file
    my $big = jpeg(4000, 3000, 4 * 1024 * 1024 - 300);
    $res = upload($v, $big, prefix => '/big/');
    is($res->{status}, 201, 'a photo of 4 MB: 201');
    my $back = fetch($pa, "/big/images/$res->{json}{id}",
                     cookie => $v->cookie);
    ok($back->{status} == 200 && $back->{body} eq $big,
       '... and read back whole');
    $res = upload($v, $big . 'x' x 400, prefix => '/big/');
    is($res->{status}, 413, 'over 4 MB: 413');
}

{
    my $res = upload(undef, $IMG{png});
    is($res->{status}, 403, 'no cookie: 403');
    is($res->{json}{error}, 'unknown_visitor', 'no cookie: unknown_visitor');

    my $stranger = visitor(port => $pa, vid => 'a' x 32);
    $res = upload($stranger, $IMG{png});
    is($res->{status}, 403, 'a cookie without a conversation: 403');

    $res = upload($v, $IMG{png},
                  headers => { Origin => 'https://evil.example' });
    is($res->{status}, 403, 'another site\'s page: 403');

    $res = http_request(port => $pa, path => '/chatport/images',
                        cookie => $v->cookie, timeout => 5);
    is($res->{status}, 405, 'GET of the upload endpoint: 405');
}

# the operator's side
my ($op_id, $last_id);
{
    my $res = agent($pa, POST => "conversations/$cid/images",
                    body => $IMG{png},
                    headers => { 'Content-Type' => 'image/png' });
    is($res->{status}, 201, 'operator PNG: 201');
    $op_id = $res->{json}{id};

    $res = agent($pa, POST => "conversations/$cid/images",
                 body => '<svg xmlns="http://www.w3.org/2000/svg"/>',
                 headers => { 'Content-Type' => 'image/svg+xml' });
    is($res->{status}, 415, 'operator SVG: 415');

    $res = agent($pa, POST => 'conversations/' . ('0' x 32) . '/images',
                 body => $IMG{png});
    is($res->{status}, 403, 'operator, unknown conversation: 403');

    $res = agent($port_b, POST => "conversations/$cid/images",
                 body => $IMG{png});
    is($res->{status}, 403, 'another site\'s operator cannot post: 403');
}


# ---------------------------------------------------------- reading back

{
    # a parked poll of the visitor gets the operator's photo, with its URL
    # below the visitor's prefix
    my $cursor = $v->history->{json}{cursor};
    my $b = open_requests([ $v->poll_request($cursor) ]);
    $b->pump(0.5);
    my $res = agent($pa, POST => "conversations/$cid/images",
                    body => $IMG{gif});
    is($res->{status}, 201, 'operator GIF while the visitor polls: 201');
    $last_id = $res->{json}{id};
    my $answer = $b->collect(timeout => 10)->[0];
    my ($m) = @{ $answer->{json}{messages} || [] };
    is($m && $m->{image}{url}, "/chatport/images/$res->{json}{id}",
       'the parked poll gets it with the visitor\'s URL')
        or diag($answer->{body});
}

{
    my $res = $v->history;
    my @img = grep { $_->{image} } @{ $res->{json}{messages} || [] };
    is(scalar @img, 4 + keys %IMG, 'the history has every photo accepted');

    my ($m) = grep { $_->{id} eq $stored{png} } @img;
    is($m->{text}, '', 'a photo message has an empty text');
    is($m->{from}, 'visitor', '... from the visitor');
    is($m->{image}{url}, "/chatport/images/$stored{png}",
       '... its URL below the visitor\'s prefix');
    is_deeply([$m->{image}{width}, $m->{image}{height}], $DIM{png},
              '... and its dimensions');

    for my $name (sort keys %IMG) {
        my ($e) = grep { $_->{id} eq $stored{$name} } @img;
        is_deeply([$e->{image}{width}, $e->{image}{height}], $DIM{$name},
                  "$name: dimensions read");
    }

    ($m) = grep { $_->{id} eq $op_id } @img;
    is($m->{from}, 'agent', 'the operator\'s photo is an agent message');
    is($m->{agent}, 'alice', '... by alice');

    $res = agent($pa, GET => "conversations/$cid/messages");
    ($m) = grep { $_->{id} eq $stored{png} } @{ $res->{json}{messages} };
    is($m->{image}{url},
       "/chatport/agent/conversations/$cid/images/$stored{png}",
       'the operator\'s URL is below the console');

    $res = agent($pa, GET => 'poll');
    is($res->{status}, 200, 'the inbox poll answers') or diag($res->{body});
    my ($ev) = grep { $_->{message} && $_->{message}{id} eq $stored{png} }
               @{ $res->{json}{events} || [] };
    is($ev && $ev->{message}{image}{url},
       "/chatport/agent/conversations/$cid/images/$stored{png}",
       'the inbox event has the photo with the operator\'s URL');

    $res = agent($pa, GET => 'conversations');
    my ($c) = grep { $_->{id} eq $cid } @{ $res->{json}{conversations} };
    is($c->{last}{image}{url},
       "/chatport/agent/conversations/$cid/images/$last_id",
       'the list\'s last message has the operator\'s URL');
}

my %TYPE = (jpeg => 'image/jpeg', png => 'image/png', gif => 'image/gif',
            webp_vp8 => 'image/webp', webp_vp8l => 'image/webp',
            webp_vp8x => 'image/webp');

{
    for my $name (sort keys %IMG) {
        my $res = fetch($pa, "/chatport/images/$stored{$name}",
                        cookie => $v->cookie);
        is($res->{status}, 200, "$name: the visitor reads it");
        is($res->{headers}{'content-type'}, $TYPE{$name},
           "$name: Content-Type from its bytes");
        ok($res->{body} eq $IMG{$name}, "$name: the same bytes");
    }

    my $url = "/chatport/images/$stored{png}";
    my $res = fetch($pa, $url, cookie => $v->cookie);
    is($res->{headers}{'x-content-type-options'}, 'nosniff', 'nosniff');
    like($res->{headers}{'content-security-policy'} // '', qr/\bsandbox\b/,
         'a sandboxing CSP');
    like($res->{headers}{'cache-control'} // '', qr/^private\b/,
         'Cache-Control: private');
    my $etag = $res->{headers}{etag};
    ok($etag, 'an ETag');

    $res = fetch($pa, $url, cookie => $v->cookie,
                 headers => { 'If-None-Match' => $etag });
    is($res->{status}, 304, 'If-None-Match: 304');

    $res = fetch($pa, $url);
    is($res->{status}, 403, 'no cookie: 403');

    my $other = visitor(port => $pa);
    $other->post('another visitor');
    $res = fetch($pa, $url, cookie => $other->cookie);
    is($res->{status}, 403, 'another visitor: 403');
    unlike($res->{body}, qr/PNG/, '... and none of its bytes');

    $res = fetch($pa, "/chatport/agent/conversations/$cid/images/"
                      . $stored{png}, headers => { Authorization => $AUTH });
    is($res->{status}, 200, 'the site\'s operator reads it');
    ok($res->{body} eq $IMG{png}, '... the same bytes');

    $res = fetch($pa, "/chatport/agent/conversations/$cid/images/"
                      . $stored{png});
    is($res->{status}, 401, 'no login: 401');

    $res = agent($pa, GET => 'conversations/' . cid($other) . '/images/'
                             . $stored{png});
    is($res->{status}, 403, 'the id under another conversation: 403');

    $res = agent($port_b, GET => "conversations/$cid/images/$stored{png}");
    is($res->{status}, 403, 'another site\'s operator: 403');

    $res = fetch($port_b, $url, cookie => $v->cookie);
    is($res->{status}, 403, 'the same cookie on another site: 403');

    $res = fetch($pa, '/chatport/images/x', cookie => $v->cookie);
    is($res->{status}, 404, 'not an id: 404');

    for my $bad ('x', substr($cid, 1), "a$cid", uc $cid) {
        $res = agent($pa, GET => "conversations/$bad/images/$stored{png}");
        is($res->{status}, 403, "operator, conversation \"$bad\": 403");
    }
}


# ------------------------------------------------------------ the mail

{
    # nobody is available: the owner gets the visitor's messages, the
    # photo among them as "[photo]"
    my $m = visitor(port => $port_m);
    is($m->post('Here is the broken cup')->{status}, 201,
       'mail site: a message');
    is(upload($m, $IMG{jpeg}, port => $port_m)->{status}, 201,
       'mail site: a photo');
    my $cid_m = cid($m);
    wait_until(sub { grep { ($_->{message_id} // '') =~ /\Q$cid_m\E/ }
                     $smtp->mails }, 15);
    my ($mail) = grep { ($_->{message_id} // '') =~ /\Q$cid_m\E/ }
                 $smtp->mails;
    ok($mail, 'the owner is mailed');
    like($mail && $mail->{body} // '', qr/\[photo\]/,
         'the mail shows the photo as [photo]');
    like($mail && $mail->{body} // '', qr/broken cup/,
         '... beside the text');
}


# ----------------------------------------------- expiry and the quota

{
    my $q = visitor(port => $port_q);
    is($q->post('hello')->{status}, 201, 'quota site: conversation');
    my $qcid = cid($q);
    my $images = conv_key($SQ, $q->vid) . ':images';
    my $bytes = "chatport:{$SQ}:upload-bytes";

    my $res = upload($q, $IMG{jpeg}, port => $port_q);
    is($res->{status}, 201, 'quota site: a photo');
    my $id = $res->{json}{id};
    is(redis_cmd($redis, 'GET', $bytes), length $IMG{jpeg},
       'the site counts its bytes');

    my $meta_ttl = redis_cmd($redis, 'PTTL', conv_key($SQ, $q->vid));
    my $img_ttl = redis_cmd($redis, 'PTTL', $images);
    ok(abs($meta_ttl - $img_ttl) < 200,
       "the photos expire with the conversation ($meta_ttl, $img_ttl ms)");

    # over the quota (1500 bytes)
    $res = upload($q, png(300, 300), port => $port_q);
    is($res->{status}, 201, 'a second photo within the quota')
        or diag(length(png(300, 300)));
    $res = upload($q, jpeg(10, 10, 1200), port => $port_q);
    is($res->{status}, 507, 'over the quota: 507');
    is($res->{json}{error}, 'quota_exceeded', '... quota_exceeded (JSON)');

    # a text message pushes the expiry back, the photos' too
    sleep 1.5;
    is($q->post('still here')->{status}, 201, 'a later message');
    $img_ttl = redis_cmd($redis, 'PTTL', $images);
    ok($img_ttl > 2000, "the photos' expiry pushed back ($img_ttl ms)");

    sleep 2;
    $res = fetch($port_q, "/chatport/images/$id", cookie => $q->cookie);
    is($res->{status}, 200, 'the photo outlives its first expiry');

    # gone with the conversation; the quota lets go of its bytes
    ok(wait_until(sub { !redis_cmd($redis, 'EXISTS', conv_key($SQ, $q->vid)) },
                  10, 0.2),
       'the conversation expired');
    is(redis_cmd($redis, 'EXISTS', $images), 0, 'its photos with it');

    $res = fetch($port_q, "/chatport/images/$id", cookie => $q->cookie);
    is($res->{status}, 403, 'the photo is gone');

    my $n = visitor(port => $port_q);
    $n->post('a new conversation');
    $res = upload($n, jpeg(10, 10, 1200), port => $port_q);
    is($res->{status}, 201, 'the quota has room again');
    is(redis_cmd($redis, 'GET', $bytes), length jpeg(10, 10, 1200),
       'only the new photo is counted');
    is(redis_cmd($redis, 'ZCARD', "chatport:{$SQ}:uploads"), 1,
       'the expired uploads are let go');
}

done_testing();
