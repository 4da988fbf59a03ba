# Email with a real SMTP server (aiosmtpd, t/lib/smtpd.py) and the mails
# parsed by Python's email package: a contact form mails the owners at
# once (every field, Japanese subject and body, Reply-To the visitor,
# console link, Auto-Submitted); five messages written while nobody is
# available make one mail that threads under the form's; an operator's
# reply the widget did not show reaches the visitor by mail, one it showed
# (POST P seen) does not; a message left unanswered while an operator is
# available mails the owners after chatport_reply_wait, an answered one
# does not; a site without chatport_mail_to sends nothing; CR/LF never
# reaches a header; chatport_notify still works beside mail.

use strict;
use warnings;
use utf8;

use Test::More;
use Time::HiRes qw(time sleep);
use MIME::Base64 qw(encode_base64);
use Encode qw(encode_utf8);
use File::Temp ();

use lib 't/lib';
use ChatPort::Harness;
use ChatPort::Mail;

require_env();

my $redis = shared_redis_port();
my ($S, $SN) = ('t085', 't085n');

for my $site ($S, $SN) {
    my $keys = redis_cmd($redis, 'KEYS', "chatport:{$site}:*");
    redis_cmd($redis, 'DEL', @$keys) if ref $keys && @$keys;
}

my $tmp = File::Temp::tempdir("chatport-085-XXXXXX", TMPDIR => 1,
                              CLEANUP => !$ENV{CHATPORT_KEEP});

open my $fh, '>', "$tmp/htpasswd" or die "$tmp/htpasswd: $!";
print $fh "yuki:{PLAIN}secret\n";
close $fh;

my $AUTH = 'Basic ' . encode_base64('yuki:secret', '');

my $smtp = start_smtpd();
my $other = free_port();

my $agent = <<"_EOC_";
        location /chatport/agent/ {
            chatport_agent;
            auth_basic "ops";
            auth_basic_user_file $tmp/htpasswd;
            chatport_poll_timeout 60s;
        }
_EOC_

# the configuration is UTF-8 bytes (the title is Japanese)
my $ngx = start_nginx(workers => 2, http => <<"_EOC_", server => encode_utf8(<<"_EOC_"));
    chatport_smtp smtp://127.0.0.1:@{[ $smtp->port ]};
    chatport_mail_from chat\@shop.test;

    server {
        listen 127.0.0.1:$other;
        server_name localhost;
        chatport_site $SN;
        chatport_chat_rate 1000/1m;

        location /chatport/ {
            chatport;
        }
$agent
    }
_EOC_
        chatport_site $S;
        chatport_lang ja;
        chatport_title "お茶の店";
        chatport_console_url http://localhost/chatport/agent/;
        chatport_mail_to owner\@shop.test boss\@shop.test;
        chatport_mail_delay 1s;
        chatport_reply_wait 2s;
        chatport_presence_grace 60s;
        chatport_chat_rate 1000/1m;
        chatport_form_rate 1000/1m;
        chatport_notify /hook;

        location = /hook {
            internal;
            log_subrequest on;
            access_log $tmp/hook.log;
            return 204;
        }

        location /chatport/ {
            chatport;
        }
$agent
_EOC_

my $port = $ngx->port;

sub agent {
    my ($method, $path, $body) = @_;
    return http_request(port => $port, method => $method,
                        path => "/chatport/agent/$path",
                        headers => { Authorization => $AUTH },
                        (defined $body ? (body => $body) : ()),
                        timeout => 5);
}

sub mails_of {
    my ($cid) = @_;
    return grep { ($_->{message_id} // '') =~ /^<chatport\.\Q$cid\E\./ }
           $smtp->mails;
}

# waits until the conversation has n mails; returns them
sub wait_for {
    my ($cid, $n, $timeout) = @_;
    wait_until(sub { mails_of($cid) >= $n }, $timeout // 15);
    return mails_of($cid);
}

my $body_re = sub { my ($m, $re) = @_; ($m->{body} // '') =~ $re };

# ---------------------------------------------------------------- form

my $v = visitor(port => $port);

my $res = $v->absorb(http_request(
    port => $port, method => 'POST', path => '/chatport/form',
    body => { name => '山田 太郎', email => 'taro@example.jp',
              message => "在庫はありますか？\n二行目です",
              page => 'http://localhost/tea/sencha' }));
is($res->{status}, 201, 'form: 201');

my $cid = cid_of($v->vid);
my @m = wait_for($cid, 1);
is(scalar @m, 1, 'the form: one mail');
my $form = $m[0];

is_deeply([ sort @{ $form->{envelope}{to} || [] } ],
          [ 'boss@shop.test', 'owner@shop.test' ],
          'the envelope: both owners');
is($form->{envelope}{from}, 'chat@shop.test', 'envelope sender');
like($form->{from} // '', qr/chat\@shop\.test/, 'From: the sender');
like($form->{to} // '', qr/owner\@shop\.test/, 'To: the owners');
is_deeply($form->{addresses}{reply_to}, ['taro@example.jp'],
          'Reply-To: the visitor');
like($form->{subject} // '', qr/山田 太郎/, 'Subject: the name, decoded');
like($form->{subject} // '', qr/お茶の店/, 'Subject: the title');
is($form->{auto_submitted}, 'auto-generated', 'Auto-Submitted');
like($form->{message_id} // '', qr/^<chatport\.$cid\.\d+\@shop\.test>$/,
     'Message-ID names the conversation');
ok(!$form->{in_reply_to}, 'the first mail replies to nothing');
is(lc($form->{charset} // ''), 'utf-8', 'UTF-8');
ok($body_re->($form, qr/在庫はありますか？/), 'body: the message');
ok($body_re->($form, qr/二行目です/), 'body: its second line');
ok($body_re->($form, qr/taro\@example\.jp/), 'body: the email field');
ok($body_re->($form, qr{http://localhost/tea/sencha}), 'body: the page');
ok($body_re->($form, qr{http://localhost/chatport/agent/#$cid}),
   'body: the console link');
is_deeply($form->{defects} || [], [], 'no parser defects');
is($form->{bare_newlines}, 0, 'CRLF line ends only');

ok(wait_until(sub { -s "$tmp/hook.log" }, 10),
   'chatport_notify still called beside mail');

# ---------------------------------------------- five messages, one mail

for my $i (1 .. 5) {
    my $r = $v->post("メッセージ $i\r\nBcc: evil\@attacker.test");
    is($r->{status}, 201, "message $i stored");
}

@m = wait_for($cid, 2);
is(scalar @m, 2, 'five messages while nobody is available: one more mail');
my $digest = $m[1];

for my $i (1 .. 5) {
    ok($body_re->($digest, qr/メッセージ $i/), "the digest holds message $i");
}

is($digest->{in_reply_to}, $form->{message_id},
   'the digest replies to the first mail');
like($digest->{references} // '', qr/\Q$form->{message_id}\E/,
     'References: the first mail');
ok(!grep({ $_->[0] =~ /^bcc$/i } @{ $digest->{headers} || [] })
   && !grep({ /^bcc:/i } @{ $digest->{raw_headers} || [] }),
   'CR/LF in a message never makes a header');
is_deeply([ sort @{ $digest->{envelope}{to} || [] } ],
          [ 'boss@shop.test', 'owner@shop.test' ],
          'the digest goes to the owners only');

sleep 3;
is(scalar mails_of($cid), 2, 'and no other mail comes later');

# ----------------------------------------------------- the visitor's mail

$res = agent(POST => "conversations/$cid/messages",
             { text => 'こんにちは。在庫はございます。' });
is($res->{status}, 201, 'an operator replies');

@m = wait_for($cid, 3);
is(scalar @m, 3, 'the reply the visitor did not see: one mail');
my $to_visitor = $m[2];
is_deeply($to_visitor->{envelope}{to}, ['taro@example.jp'],
          'to the visitor only');
ok($body_re->($to_visitor, qr/在庫はございます/), 'body: the reply');
ok($body_re->($to_visitor, qr/メッセージ 5/), 'body: the thread before it');
ok($body_re->($to_visitor, qr{https://shop\.test/products}),
   'body: a link back to the page');
like($to_visitor->{reply_to} // '', qr/owner\@shop\.test/,
     'Reply-To: the first owner');
ok(!$to_visitor->{in_reply_to}, 'the visitor\'s first mail starts a thread');

$res = agent(POST => "conversations/$cid/messages", { text => '見ましたか？' });
is($res->{status}, 201, 'a second reply');
my $seen_id = $res->{json}{id};
$res = http_request(port => $port, method => 'POST', path => '/chatport/seen',
                    cookie => $v->cookie, body => { id => $seen_id });
is($res->{status}, 204, 'the widget showed it: POST seen 204');

sleep 3;
is(scalar mails_of($cid), 3, 'a reply seen in the widget is not mailed');

$res = agent(POST => "conversations/$cid/messages", { text => '三通目です' });
is($res->{status}, 201, 'a third reply, not seen');
@m = wait_for($cid, 4);
is(scalar @m, 4, 'mailed');
ok($body_re->($m[3], qr/三通目です/), 'the unseen reply');
my ($news) = split /これまでのやりとり/, $m[3]{body} // '';
unlike($news // '', qr/見ましたか/, 'not the one seen (only in the thread)');
is($m[3]{in_reply_to}, $to_visitor->{message_id},
   'threads under the visitor\'s first mail');

# ------------------------------------------------------------ bad input

$res = http_request(port => $port, method => 'POST', path => '/chatport/seen',
                    cookie => $v->cookie, body => { id => "1-1\r\nX: y" });
is($res->{status}, 400, 'seen: a bad id is 400');
is($res->{json}{error}, 'invalid_id', 'invalid_id');
$res = http_request(port => $port, method => 'POST', path => '/chatport/seen',
                    body => { id => '1-1' });
is($res->{status}, 403, 'seen without a conversation: 403');
$res = http_request(port => $port, method => 'POST', path => '/chatport/seen',
                    cookie => $v->cookie, body => { id => '99999999999999-0' });
is($res->{status}, 204, 'seen of an id not there yet: ignored');

$res = http_request(port => $port, method => 'POST', path => '/chatport/form',
                    body => { name => "Eve\r\nBcc: x\@attacker.test",
                              email => 'eve@example.com', message => 'hi',
                              page => 'http://localhost/' });
is($res->{status}, 400, 'a name with CR/LF is refused');
$res = http_request(port => $port, method => 'POST',
                    path => '/chatport/contact', cookie => $v->cookie,
                    body => { email => "eve\@example.com\r\nBcc: x\@y.test" });
is($res->{status}, 400, 'an address with CR/LF is refused');

# ------------------------------------------- unanswered while available

$res = agent(POST => 'presence', { status => 'online' });
is($res->{status}, 204, 'the operator is online');
my $console = open_requests([{ port => $port, method => 'GET',
                               path => '/chatport/agent/poll?after=0-0',
                               headers => { Authorization => $AUTH } }]);
ok(wait_until(sub {
    my $r = http_request(port => $port, path => '/chatport/config');
    $r->{json} && $r->{json}{online};
}, 10), 'and available');

my $w = visitor(port => $port);
is($w->post('誰かいますか？')->{status}, 201, 'a visitor writes');
my $wcid = cid_of($w->vid);

my $answered = visitor(port => $port);
is($answered->post('質問です')->{status}, 201, 'another visitor writes');
my $acid = cid_of($answered->vid);
is(agent(POST => "conversations/$acid/messages", { text => 'はい！' })->{status},
   201, 'and is answered at once');

@m = wait_for($wcid, 1);
is(scalar @m, 1, 'unanswered for chatport_reply_wait: the owners get it');
ok($body_re->($m[0], qr/誰かいますか/), 'with the message');
is_deeply([ sort @{ $m[0]{envelope}{to} || [] } ],
          [ 'boss@shop.test', 'owner@shop.test' ], 'to the owners');

sleep 3;
is(scalar mails_of($acid), 0, 'an answered message is not mailed');

$console->collect(timeout => 0.1);

# ------------------------------------------ a site without chatport_mail_to

my $n = visitor(port => $other);
$res = $n->absorb(http_request(port => $other, method => 'POST',
                               path => '/chatport/form',
                               body => { email => 'x@example.com',
                                         message => 'no owner here',
                                         page => 'http://localhost/' }));
is($res->{status}, 201, 'a form on a site without chatport_mail_to');
my $ncid = cid_of($n->vid);
sleep 3;
is(scalar mails_of($ncid), 0, 'no mail for it');
is(redis_cmd($redis, 'ZCARD', "chatport:{$SN}:mail-due"), 0,
   'and none due');

done_testing();
