# Form field labels where the owners read a submission (chatport_form_field
# ... label=, label:ja=): the owners' mail lists the fields by their labels
# in the mail's language, the submission's message in the conversation
# ("Order number: A-1234") and GET A forms ("labels") carry them for the
# console, and a field without a label keeps its name. Mails at a real
# SMTP server (aiosmtpd, t/lib/smtpd.py), as in t/085-mail.t.

use strict;
use warnings;
use utf8;

use Test::More;
use MIME::Base64 qw(encode_base64);
use Encode qw(encode_utf8);
use File::Temp ();

use lib 't/lib';
use ChatPort::Harness;
use ChatPort::Mail;

require_env();

binmode(Test::More->builder->$_, ':encoding(UTF-8)')
    for qw(output failure_output todo_output);

my $redis = shared_redis_port();
my ($EN, $JA) = ('t140en', 't140ja');

for my $site ($EN, $JA) {
    my $keys = redis_cmd($redis, 'KEYS', "chatport:{$site}:*");
    redis_cmd($redis, 'DEL', @$keys) if ref $keys && @$keys;
}

my $tmp = File::Temp::tempdir("chatport-140-XXXXXX", TMPDIR => 1,
                              CLEANUP => !$ENV{CHATPORT_KEEP});

open my $fh, '>', "$tmp/htpasswd" or die "$tmp/htpasswd: $!";
print $fh "op:{PLAIN}secret\n";
close $fh;

my $AUTH = 'Basic ' . encode_base64('op:secret', '');
my $smtp = start_smtpd();
my $ja_port = free_port();

my $fields = <<'_EOC_';
        chatport_form_field name;
        chatport_form_field email required type=email;
        chatport_form_field order_no required "label=Order number" "label:ja=注文番号";
        chatport_form_field size "label:en=Size (EU)";
        chatport_form_field colour;
        chatport_form_field message required type=textarea;
_EOC_

sub site {
    my ($site, $lang) = @_;
    return <<"_EOC_";
        chatport_site $site;
        chatport_lang $lang;
        chatport_console_url http://localhost/chatport/agent/;
        chatport_mail_to owner\@shop.test;
        chatport_form_rate 1000/1m;
$fields
        location /chatport/ {
            chatport;
        }

        location /chatport/agent/ {
            chatport_agent;
            auth_basic "ops";
            auth_basic_user_file $tmp/htpasswd;
        }
_EOC_
}

my $ngx = start_nginx(workers => 1, http => encode_utf8(<<"_EOC_"),
    chatport_smtp smtp://127.0.0.1:@{[ $smtp->port ]};
    chatport_mail_from chat\@shop.test;

    server {
        listen 127.0.0.1:$ja_port;
        server_name localhost;
@{[ site($JA, 'ja') ]}
    }
_EOC_
                      server => encode_utf8(site($EN, 'en')));

sub agent {
    my ($port, $method, $path) = @_;
    return http_request(port => $port, method => $method,
                        path => "/chatport/agent/$path",
                        headers => { Authorization => $AUTH }, timeout => 5);
}

sub mails_of {
    my ($cid) = @_;
    return grep { ($_->{message_id} // '') =~ /^<chatport\.\Q$cid\E\./ }
           $smtp->mails;
}

for my $case ([ en => $ngx->port, 'Order number', 'Size (EU)' ],
              [ ja => $ja_port, '注文番号', 'size' ])
{
    my ($lang, $port, $order, $size) = @$case;

    my $v = visitor(port => $port);
    my $res = $v->absorb(http_request(
        port => $port, method => 'POST', path => '/chatport/form',
        body => { name => 'Aiko', email => 'aiko@example.jp',
                  order_no => 'A-1234', size => '38', colour => 'blue',
                  message => "Where is it?\nSecond line",
                  page => 'http://localhost/orders' }));
    is($res->{status}, 201, "$lang: form 201");

    my $cid = cid_of($v->vid);
    ok(wait_until(sub { mails_of($cid) >= 1 }, 15), "$lang: a mail");
    my ($m) = mails_of($cid);
    my $body = $m ? $m->{body} // '' : '';
    note("$lang mail:\n$body");

    like($body, qr/^\s*\Q$order\E:?\s+A-1234\s*$/m,
         "$lang: the mail lists order_no by its label \"$order\"");
    like($body, qr/^\s*\Q$size\E:?\s+38\s*$/m,
         "$lang: size as \"$size\"");
    like($body, qr/^\s*colour:?\s+blue\s*$/m,
         "$lang: a field without a label keeps its name");
    unlike($body, qr/order_no/, "$lang: the name order_no is not shown");

    # the console: the conversation's message and the form's labels
    $res = agent($port, GET => "conversations/$cid/messages");
    is($res->{status}, 200, "$lang: GET messages");
    my ($text) = map { $_->{text} } @{ $res->{json}{messages} || [] };
    like($text // '', qr/^\Q$order\E: A-1234$/m,
         "$lang: the message in the conversation names the label");
    like($text // '', qr/^colour: blue$/m, "$lang: and colour by its name");

    $res = agent($port, GET => 'forms');
    is($res->{status}, 200, "$lang: GET forms");
    my ($form) = grep { $_->{conversation} eq $cid }
                 @{ $res->{json}{forms} || [] };
    is_deeply($form && $form->{labels},
              { order_no => $order,
                ($lang eq 'en' ? (size => $size) : ()) },
              "$lang: the form carries the labels for the console");
}

done_testing();
