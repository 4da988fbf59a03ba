# Mail over TLS and with AUTH (email issue #11), against t/lib/smtpd.py
# with a throwaway certificate: STARTTLS with the right login; a wrong
# password (from chatport_smtp_password_file) retried until a server with
# the right one takes the mail, once; smtps://; a certificate nginx does
# not trust; a server without STARTTLS while credentials are set, which
# must never see them or the mail.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(time sleep);
use File::Temp ();

use lib 't/lib';
use ChatPort::Harness;
use ChatPort::Mail;

require_env();

my $redis = shared_redis_port();
my @sites = map { "t087$_" } qw(starttls wrong smtps untrusted clear);

for my $site (@sites) {
    my $keys = redis_cmd($redis, 'KEYS', "chatport:{$site}:*");
    redis_cmd($redis, 'DEL', @$keys) if ref $keys && @$keys;
}

my $tmp = File::Temp::tempdir("chatport-087-XXXXXX", TMPDIR => 1,
                              CLEANUP => !$ENV{CHATPORT_KEEP});

my $OWNER = 'owner@shop.test';

# an nginx for one site mailing $OWNER through $smtp, with more http-level
# directives
sub mail_nginx {
    my ($site, $smtp, $http) = @_;

    return start_nginx(workers => 2, http => <<"_EOC_", server => <<"_EOC_");
    chatport_smtp @{[ $smtp->url ]};
    chatport_mail_from chat\@shop.test;
$http
_EOC_
        chatport_site $site;
        chatport_mail_to $OWNER;
        chatport_form_rate 1000/1m;

        location /chatport/ {
            chatport;
        }
_EOC_
}

sub post_form {
    my ($port, $text) = @_;
    return http_request(
        port => $port, method => 'POST', path => '/chatport/form',
        body => { name => 'Taro', email => 'taro@example.jp',
                  message => $text, page => 'http://localhost/tea' },
        timeout => 10);
}

sub not_sent_lines {
    my ($ngx) = @_;
    return grep { /not sent, trying again/ } split /\n/, $ngx->error_log;
}

# ------------------------------------------------ 1: STARTTLS and AUTH

subtest 'STARTTLS with the CA and the right login' => sub {
    my $smtp = start_smtpd(starttls => 1, auth => 'alice:s3cret');
    my $ngx = mail_nginx('t087starttls', $smtp, <<"_EOC_");
    chatport_smtp_ca @{[ $smtp->ca ]};
    chatport_smtp_user alice;
    chatport_smtp_password s3cret;
_EOC_

    is(post_form($ngx->port, 'hello over STARTTLS')->{status}, 201,
       'the form: 201');

    my @m = $smtp->wait_mails(1, timeout => 30);
    is(scalar @m, 1, 'delivered');
    ok($m[0] && $m[0]{envelope}{tls}, 'over TLS');
    is($m[0] && $m[0]{envelope}{user}, 'alice', 'as alice');
    is(scalar $smtp->events('starttls'), 1, 'after STARTTLS');
    is(scalar $smtp->events('auth-ok'), 1, 'one login');

    ok($ngx->stop, 'nginx stops');
};

# ------------------------------- 2: a wrong password, then the right one

subtest 'a wrong password is retried; the right one delivers once' => sub {
    my $smtp = start_smtpd(starttls => 1, auth => 'alice:right');

    open my $fh, '>', "$tmp/password" or die "$tmp/password: $!";
    print $fh "wrong\n";
    close $fh;

    my $ngx = mail_nginx('t087wrong', $smtp, <<"_EOC_");
    chatport_smtp_ca @{[ $smtp->ca ]};
    chatport_smtp_user alice;
    chatport_smtp_password_file $tmp/password;
_EOC_

    is(post_form($ngx->port, 'hello with a wrong password')->{status}, 201,
       'the form: 201');

    ok(wait_until(sub { $smtp->events('auth-fail') >= 2 }, 60),
       'the login is refused, and tried again');
    is(scalar $smtp->mails, 0, 'not delivered');
    is(scalar $smtp->events('accept'), 0, 'nothing accepted');
    ok(not_sent_lines($ngx) >= 1, 'nginx logs the mail as not sent');

    # the same port and certificate, the password nginx has
    ok($smtp->stop, 'that server stopped');
    my $right = smtpd(port => $smtp->port, starttls => 1,
                      cert => [ $smtp->ca, $smtp->key ],
                      auth => 'alice:wrong')->start;

    my @m = $right->wait_mails(1, timeout => 90);
    is(scalar @m, 1, 'a server with that password: delivered');
    is($m[0] && $m[0]{envelope}{user}, 'alice', 'as alice');

    sleep 5;
    is(scalar $right->events('accept'), 1, 'exactly once');

    ok($ngx->stop, 'nginx stops');
};

# ---------------------------------------------------------- 3: smtps://

subtest 'smtps:// with the CA' => sub {
    my $smtp = start_smtpd(tls => 1);
    like($smtp->url, qr{^smtps://}, 'an smtps:// URL');

    my $ngx = mail_nginx('t087smtps', $smtp,
                         "    chatport_smtp_ca @{[ $smtp->ca ]};");

    is(post_form($ngx->port, 'hello over TLS')->{status}, 201,
       'the form: 201');

    my @m = $smtp->wait_mails(1, timeout => 30);
    is(scalar @m, 1, 'delivered');
    ok($m[0] && $m[0]{envelope}{tls}, 'over TLS');

    ok($ngx->stop, 'nginx stops');
};

# -------------------------------------- 4: a certificate nginx does not trust

subtest 'STARTTLS without chatport_smtp_ca: the certificate is not trusted'
=> sub {
    my $smtp = start_smtpd(starttls => 1);
    my $ngx = mail_nginx('t087untrusted', $smtp, '');

    is(post_form($ngx->port, 'hello to an untrusted server')->{status}, 201,
       'the form: 201');

    ok(wait_until(sub { not_sent_lines($ngx) >= 2 }, 60),
       'not sent, and tried again');
    ok(scalar $smtp->events('tls-fail') >= 1,
       'the server saw the handshake fail');
    is(scalar $smtp->events('accept'), 0, 'not delivered');
    note($_) for (not_sent_lines($ngx))[0];

    ok($ngx->stop, 'nginx stops');
};

# ------------------------------- 5: credentials never go in the clear

subtest 'no STARTTLS offered while credentials are set' => sub {
    # a server that would take AUTH and the mail without TLS
    my $smtp = start_smtpd(auth => 'alice:s3cret', auth_plain_ok => 1);
    my $ngx = mail_nginx('t087clear', $smtp, <<"_EOC_");
    chatport_smtp_user alice;
    chatport_smtp_password s3cret;
_EOC_

    is(post_form($ngx->port, 'hello in the clear?')->{status}, 201,
       'the form: 201');

    ok(wait_until(sub { $smtp->events('connect') >= 2 }, 60),
       'nginx connects, and again later');
    ok(wait_until(sub { not_sent_lines($ngx) >= 2 }, 30),
       'and logs the mail as not sent');
    is(scalar(grep { $_->{event} =~ /^auth-/ } $smtp->events), 0,
       'no AUTH in the clear');
    is(scalar $smtp->events('accept'), 0, 'no mail in the clear');

    ok($ngx->stop, 'nginx stops');
};

done_testing();
