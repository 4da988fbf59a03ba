# The mail tests' tools without nginx: t/lib/smtpd.py through
# ChatPort::Mail, with Python's smtplib as the client (t/lib/smtpsend.py),
# and what it received parsed by t/lib/mailparse.py.
use strict;
use warnings;
use utf8;

use Test::More;
use Encode qw(encode_utf8);
use IO::Select;
use IO::Socket::INET;
use JSON::PP ();
use Time::HiRes qw(time);

use lib 't/lib';
use ChatPort::Harness;
use ChatPort::Mail;

my $json = JSON::PP->new->utf8;
my $SUBJECT = '【お問い合わせ】配送について：日本語の件名';
my $BODY = "こんにちは。\n注文番号 12345 の配送はいつですか？\n.一行目が点\n";

# one mail from smtpsend.py: { ok, refused } or { ok => 0, error, code }
sub send_mail {
    my ($smtp, @args) = @_;
    local $ENV{PYTHONUTF8} = 1;
    open my $fh, '-|', '/usr/bin/python3', 't/lib/smtpsend.py',
                       '--port', $smtp->port, map { encode_utf8($_) } @args
        or die "smtpsend.py: $!";
    local $/;
    my $out = <$fh>;
    close $fh;
    return eval { $json->decode($out) }
           || { ok => 0, error => "smtpsend.py: $out" };
}

# the first line the server sends on a new connection within $secs
# seconds ('' if none), and the connection
sub greeting {
    my ($port, $secs) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => 5)
        or return (undef, undef);
    my $line = '';
    $line = <$s> // '' if IO::Select->new($s)->can_read($secs);
    return ($line, $s);
}

sub count { scalar $_[0]->events($_[1]) }


# ---- plain: the mail parses back as it was sent

{
    my $smtp = start_smtpd();
    like($smtp->url, qr{^smtp://127\.0\.0\.1:\d+$}, 'plain: url');

    my ($hello) = greeting($smtp->port, 10);
    like($hello, qr/^220 /, 'plain: a greeting on connect');

    my $r = send_mail($smtp, '--subject', $SUBJECT, '--body', $BODY,
                      '--to', 'owner@example.com', '--to', 'two@example.com');
    ok($r->{ok}, 'plain: sent') or diag explain $r;

    my @m = $smtp->wait_mails(1, timeout => 10);
    is(scalar @m, 1, 'plain: one mail');
    my $m = $m[0] || {};

    is($m->{subject}, $SUBJECT, 'plain: Japanese subject decoded');
    is($m->{body}, $BODY, 'plain: Japanese body decoded');
    is($m->{charset}, 'utf-8', 'plain: charset');
    is($m->{content_transfer_encoding}, 'base64', 'plain: base64');
    is($m->{content_type}, 'text/plain', 'plain: Content-Type');
    my ($raw) = grep { /^Subject:/ } @{ $m->{raw_headers} || [] };
    like($raw, qr/^Subject: =\?utf-8\?b\?/, 'plain: subject RFC 2047 raw');
    is((grep { /[^\x00-\x7f]/ } @{ $m->{raw_headers} || [] }), 0,
       'plain: no 8-bit header byte');
    is($m->{bare_newlines}, 0, 'plain: CRLF lines only');
    is_deeply($m->{defects}, [], 'plain: no defect');
    ok($m->{date_valid}, 'plain: Date parses');
    like($m->{message_id}, qr/^<[^>]+\@example\.com>$/, 'plain: Message-ID');
    is_deeply($m->{addresses}{to}, ['owner@example.com', 'two@example.com'],
              'plain: To addresses');
    is($m->{envelope}{from}, 'shop@example.com', 'plain: envelope from');
    is_deeply($m->{envelope}{to}, ['owner@example.com', 'two@example.com'],
              'plain: envelope to');
    ok(!$m->{envelope}{tls}, 'plain: no TLS');
    is($m->{envelope}{user}, undef, 'plain: no user');

    is(count($smtp, 'accept'), 1, 'plain: one accept event');
    is(count($smtp, 'connect'), 2, 'plain: two connections');

    my $t = time;
    my @still = $smtp->wait_mails(2, timeout => 1);
    is(scalar @still, 1, 'wait_mails: returns what is there at its timeout');
    ok(time - $t < 9, 'wait_mails: bounded by its timeout, not the 10 s');

    ok($smtp->stop, 'plain: exits 0 on SIGTERM');
    is(count($smtp, 'exit'), 1, 'plain: exit event');
}


# ---- STARTTLS and TLS with the throwaway certificate

{
    my $smtp = start_smtpd(starttls => 1);
    ok(-s $smtp->ca, 'starttls: a CA file');

    my $r = send_mail($smtp, '--starttls', $smtp->ca);
    ok($r->{ok}, 'starttls: verified with ->ca and sent') or diag explain $r;

    $r = send_mail($smtp, '--starttls', 'system');
    is($r->{error}, 'SSLCertVerificationError',
       'starttls: the system CAs do not verify it');

    my @m = $smtp->wait_mails(1, timeout => 10);
    is(scalar @m, 1, 'starttls: one mail');
    ok($m[0] && $m[0]{envelope}{tls}, 'starttls: TLS was active');
    is(count($smtp, 'starttls'), 1, 'starttls: one STARTTLS done');
    is(count($smtp, 'tls-fail'), 1, 'starttls: the failed handshake logged');
}

{
    my $smtp = start_smtpd(tls => 1);
    like($smtp->url, qr{^smtps://127\.0\.0\.1:\d+$}, 'tls: url');

    my ($hello) = greeting($smtp->port, 1);
    is($hello, '', 'tls: no plain greeting');

    my $r = send_mail($smtp, '--tls', $smtp->ca);
    ok($r->{ok}, 'tls: verified with ->ca and sent') or diag explain $r;

    $r = send_mail($smtp, '--tls', 'system');
    is($r->{error}, 'SSLCertVerificationError',
       'tls: the system CAs do not verify it');

    my @m = $smtp->wait_mails(1, timeout => 10);
    is(scalar @m, 1, 'tls: one mail');
    ok($m[0] && $m[0]{envelope}{tls}, 'tls: TLS was active');
    ok(count($smtp, 'tls-fail') >= 1, 'tls: the failed handshake logged');
}


# ---- AUTH

{
    my $smtp = start_smtpd(starttls => 1, auth => 'alice:s3cret');
    my @tls = ('--starttls', $smtp->ca);

    for my $mech (qw(PLAIN LOGIN)) {
        my $r = send_mail($smtp, @tls, '--auth', 'alice:s3cret',
                          '--mech', $mech);
        ok($r->{ok}, "auth: $mech with the right password") or diag explain $r;
    }

    my $r = send_mail($smtp, @tls, '--auth', 'alice:wrong',
                      '--mech', 'LOGIN');
    is($r->{code}, 535, 'auth: a wrong password refused');

    $r = send_mail($smtp, @tls);
    is($r->{code}, 530, 'auth: no mail without AUTH');

    $r = send_mail($smtp, '--auth', 'alice:s3cret');
    is($r->{error}, 'SMTPNotSupportedError', 'auth: not offered without TLS');

    my @m = $smtp->wait_mails(2, timeout => 10);
    is(scalar @m, 2, 'auth: two mails');
    is_deeply([ map { $_->{envelope}{user} } @m ], ['alice', 'alice'],
              'auth: the user in the envelope');

    my @fail = $smtp->events('auth-fail');
    is(scalar @fail, 1, 'auth: one failure logged');
    is($fail[0] && $fail[0]{user}, 'alice', 'auth: the failure names alice');
    is(count($smtp, 'auth-ok'), 2, 'auth: two successes logged');
}

{
    my $smtp = start_smtpd(auth => 'alice:s3cret', auth_plain_ok => 1);
    my $r = send_mail($smtp, '--auth', 'alice:s3cret');
    ok($r->{ok}, 'auth_plain_ok: AUTH without TLS') or diag explain $r;

    $smtp = start_smtpd(tls => 1, auth => 'alice:s3cret');
    $r = send_mail($smtp, '--tls', $smtp->ca, '--auth', 'alice:s3cret');
    ok($r->{ok}, 'auth: over implicit TLS') or diag explain $r;
    my @m = $smtp->wait_mails(1, timeout => 10);
    is($m[0] && $m[0]{envelope}{user}, 'alice', 'auth: TLS user');
}


# ---- tempfail, reject

{
    my $smtp = start_smtpd(tempfail => 1);

    my $r = send_mail($smtp);
    is($r->{code}, 451, 'tempfail: the first gets 451');
    is(scalar $smtp->mails, 0, 'tempfail: not saved');

    $r = send_mail($smtp);
    ok($r->{ok}, 'tempfail: the second accepted') or diag explain $r;
    is(scalar $smtp->wait_mails(1, timeout => 10), 1, 'tempfail: one mail');
    is(count($smtp, 'tempfail'), 1, 'tempfail: one tempfail event');
    is(count($smtp, 'accept'), 1, 'tempfail: one accept event');
}

{
    my $smtp = start_smtpd(reject => 'nobody@example.com');

    my $r = send_mail($smtp, '--to', 'nobody@example.com',
                      '--to', 'owner@example.com');
    ok($r->{ok}, 'reject: sent to the other one');
    is($r->{refused}{'nobody@example.com'}[0], 550, 'reject: 550');

    $r = send_mail($smtp, '--to', 'nobody@example.com');
    is($r->{code}, 550, 'reject: alone, refused');

    my @m = $smtp->wait_mails(1, timeout => 10);
    is(scalar @m, 1, 'reject: one mail');
    is_deeply($m[0] && $m[0]{envelope}{to}, ['owner@example.com'],
              'reject: only the other one in the envelope');
    is(count($smtp, 'reject'), 2, 'reject: two reject events');
}


# ---- hang

{
    my $smtp = start_smtpd(hang => 1);

    my ($hello, $conn) = greeting($smtp->port, 1);
    ok($conn, 'hang: the connection is accepted');
    is($hello, '', 'hang: no greeting within 1 s');

    my $r = send_mail($smtp, '--timeout', 1);
    ok(!$r->{ok}, "hang: a client times out ($r->{error})");

    ChatPort::Harness::wait_until(sub { count($smtp, 'connect') >= 2 }, 10);
    is(scalar(grep { $_->{hang} } $smtp->events('connect')), 2,
       'hang: both connections logged as hung');
}

{
    my $smtp = start_smtpd(hang_first => 1);

    my ($hello, $conn) = greeting($smtp->port, 1);
    ok($conn, 'hang_first: the first connection is accepted');
    is($hello, '', 'hang_first: and gets no greeting within 1 s');

    my $r = send_mail($smtp);
    ok($r->{ok}, 'hang_first: the second is served') or diag explain $r;
    is(scalar $smtp->wait_mails(1, timeout => 10), 1, 'hang_first: one mail');
}


# ---- down first, then up; stopped and started again on the same port

{
    my $smtp = smtpd();
    my $port = $smtp->port;

    my ($hello, $conn) = greeting($port, 1);
    ok(!$conn, 'down: nothing listens');
    my $r = send_mail($smtp);
    is($r->{error}, 'ConnectionRefusedError', 'down: the client refused');

    $smtp->start;
    $r = send_mail($smtp);
    ok($r->{ok}, 'up: sent') or diag explain $r;

    ok($smtp->stop, 'stop: exits 0');
    ok(!(greeting($port, 1))[1], 'stop: nothing listens');

    $smtp->start;
    is($smtp->port, $port, 'start: the same port');
    $r = send_mail($smtp);
    ok($r->{ok}, 'start: sent') or diag explain $r;

    my @m = $smtp->wait_mails(2, timeout => 10);
    is_deeply([ map { $_->{file} } @m ], ['0001', '0002'],
              'start: numbering goes on');
    is(count($smtp, 'listen'), 2, 'start: listened twice');
}

done_testing();
