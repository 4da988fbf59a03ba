# The mail delivery guarantee under faults (email issue #11), with a real
# SMTP server (t/lib/smtpd.py): a server down when the form is posted and
# up later; a 451 then an accept; two nginx instances of one site sending
# ten mails; a worker killed with -9 in the middle of a send; Redis
# restarted on its append-only file with mail waiting; a server that never
# answers while the worker goes on serving; a recipient refused for good;
# the retry time running out. Each mail must arrive once, and a failed one
# must show in the console and the log once.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(time sleep);
use MIME::Base64 qw(encode_base64);
use File::Temp ();

use lib 't/lib';
use ChatPort::Harness;
use ChatPort::Mail;

require_env();

my $redis = shared_redis_port();
my @sites = map { "t086$_" } qw(down temp two kill aof hang reject partial
                                retry);

for my $site (@sites) {
    my $keys = redis_cmd($redis, 'KEYS', "chatport:{$site}:*");
    redis_cmd($redis, 'DEL', @$keys) if ref $keys && @$keys;
}

my $tmp = File::Temp::tempdir("chatport-086-XXXXXX", TMPDIR => 1,
                              CLEANUP => !$ENV{CHATPORT_KEEP});

open my $fh, '>', "$tmp/htpasswd" or die "$tmp/htpasswd: $!";
print $fh "yuki:{PLAIN}secret\n";
close $fh;

my $AUTH = 'Basic ' . encode_base64('yuki:secret', '');
my $OWNER = 'owner@shop.test';

# an nginx for one site mailing $OWNER (or $o{to}) through $o{smtp};
# $o{http} and $o{server} add directives, the rest goes to start_nginx
sub mail_nginx {
    my (%o) = @_;
    my ($site, $smtp) = delete @o{qw(site smtp)};
    my $to = delete $o{to} // $OWNER;
    my $http = delete $o{http} // '';
    my $server = delete $o{server} // '';

    return start_nginx(workers => 2, %o,
                       http => <<"_EOC_", server => <<"_EOC_");
    chatport_smtp @{[ $smtp->url ]};
    chatport_mail_from chat\@shop.test;
$http
_EOC_
        chatport_site $site;
        chatport_mail_to $to;
        chatport_chat_rate 1000/1m;
        chatport_form_rate 1000/1m;
$server

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

# a contact form from a new visitor: (the response, the conversation)
sub post_form {
    my ($port, $text) = @_;
    my $v = visitor(port => $port);
    my $res = $v->absorb(http_request(
        port => $port, method => 'POST', path => '/chatport/form',
        body => { name => 'Taro', email => 'taro@example.jp',
                  message => $text, page => 'http://localhost/tea' },
        timeout => 10));
    return ($res, $v->vid ? cid_of($v->vid) : '');
}

sub agent {
    my ($port, $path) = @_;
    return http_request(port => $port, path => "/chatport/agent/$path",
                        headers => { Authorization => $AUTH }, timeout => 10);
}

sub mails_of {
    my ($smtp, $cid) = @_;
    return grep { ($_->{message_id} // '') =~ /^<chatport\.\Q$cid\E\./ }
           $smtp->mails;
}

# how many times the error log says a mail "failed for good"
sub failed_lines {
    my ($ngx) = @_;
    my @l = grep { /failed for good/ } split /\n/, $ngx->error_log;
    return scalar @l;
}

# a conversation as GET A conversations shows it
sub conversation {
    my ($port, $cid) = @_;
    my $res = agent($port, 'conversations?limit=100');
    my ($c) = grep { $_->{id} eq $cid }
              @{ ($res->{json} || {})->{conversations} || [] };
    return $c;
}

# the failure on a conversation, once GET A conversations shows it
sub wait_failed {
    my ($port, $cid, $timeout) = @_;
    my $failed;
    wait_until(sub {
        my $c = conversation($port, $cid);
        $failed = $c && $c->{mail_failed};
    }, $timeout, 0.5);
    return $failed;
}

# ------------------------------------------------- 1: the server is down

subtest 'the SMTP server down when the form is posted' => sub {
    my $smtp = smtpd();
    my $ngx = mail_nginx(site => 't086down', smtp => $smtp);

    my ($res, $cid) = post_form($ngx->port, 'hello while the mail is down');
    is($res->{status}, 201, 'the form: 201 with the server down');

    sleep 3;
    $smtp->start;

    my @m = $smtp->wait_mails(1, timeout => 60);
    is(scalar @m, 1, 'the server up: the mail arrives');
    is(scalar mails_of($smtp, $cid), 1, 'the form\'s mail');
    is_deeply($m[0]{envelope}{to}, [$OWNER], 'to the owner');

    sleep 5;
    is(scalar $smtp->events('accept'), 1, 'once, a few seconds later too');

    ok($ngx->stop, 'nginx stops');
};

# --------------------------------------------------- 2: 451, then accept

subtest 'a 451, then the server accepts' => sub {
    my $smtp = start_smtpd(tempfail => 1);
    my $ngx = mail_nginx(site => 't086temp', smtp => $smtp);

    my ($res, $cid) = post_form($ngx->port, 'hello through a 451');
    is($res->{status}, 201, 'the form: 201');

    my @m = $smtp->wait_mails(1, timeout => 60);
    is(scalar mails_of($smtp, $cid), 1, 'the mail arrives');

    sleep 5;
    is(scalar $smtp->events('tempfail'), 1, 'after one 451');
    is(scalar $smtp->events('accept'), 1, 'delivered once');

    ok($ngx->stop, 'nginx stops');
};

# ------------------------------------------ 3: two nginx, one site, 10 mails

subtest 'two nginx instances of one site: ten forms, ten mails' => sub {
    my $smtp = start_smtpd();
    my @ngx = map { mail_nginx(site => 't086two', smtp => $smtp) } 1 .. 2;

    my %cids;

    for my $i (0 .. 9) {
        my ($res, $cid) = post_form($ngx[$i % 2]->port, "form $i");
        is($res->{status}, 201, "form $i to nginx " . ($i % 2 + 1) . ': 201');
        $cids{$cid} = 1;
    }

    is(scalar keys %cids, 10, 'ten conversations');

    my @m = $smtp->wait_mails(10, timeout => 60);
    sleep 5;
    @m = $smtp->mails;

    is(scalar @m, 10, 'ten mails');
    my %ids;
    $ids{ $_->{message_id} // '' }++ for @m;
    is(scalar keys %ids, 10, 'ten distinct Message-IDs');
    is(scalar(grep { $_ > 1 } values %ids), 0, 'none twice');
    is(scalar(grep { $cids{$_} && mails_of($smtp, $_) == 1 } keys %cids), 10,
       'one mail for each form');
    is(scalar $smtp->events('accept'), 10, 'ten accepted');

    ok($_->stop, 'nginx stops') for @ngx;
};

# ---------------------------------------- 4: a worker killed while sending

subtest 'every worker killed with -9 while one sends' => sub {
    my $smtp = start_smtpd(hang_first => 1);

    # a mail pending for two timeouts is taken back by another worker;
    # the kill comes well within one timeout after the connection
    my $ngx = mail_nginx(site => 't086kill', smtp => $smtp,
                         http => '    chatport_smtp_timeout 5s;',
                         log_allow => qr/exited on signal 9/);

    my ($res, $cid) = post_form($ngx->port, 'hello to a dying worker');
    is($res->{status}, 201, 'the form: 201');

    ok(wait_until(sub { grep { $_->{hang} } $smtp->events('connect') }, 30),
       'a worker connected to the server, which does not answer');

    my @workers = $ngx->workers;
    is(scalar @workers, 2, 'two workers');
    kill 'KILL', @workers;

    ok(wait_until(sub {
        my @now = $ngx->workers;
        @now == 2 && !grep { my $w = $_; grep { $_ == $w } @workers } @now;
    }, 10), 'killed with -9; the master starts two new workers');

    my @m = $smtp->wait_mails(1, timeout => 60);
    is(scalar mails_of($smtp, $cid), 1, 'the mail arrives');

    sleep 5;
    my $accepts = () = $smtp->events('accept');
    note("worker kill: $accepts accept(s) of the mail"
         . ($accepts > 1 ? ' (a duplicate)' : ' (no duplicate)'));
    is($accepts, 1, 'once: the server had not accepted the first try');

    ok($ngx->stop, 'nginx stops');
};

# --------------------------------------------- 5: Redis restarted with AOF

subtest 'Redis restarted on its append-only file with mail waiting' => sub {
    my $own = start_redis(appendonly => 1);
    my $smtp = smtpd();
    my $ngx = mail_nginx(site => 't086aof', smtp => $smtp,
                         redis_port => $own->port);

    my %cids;

    for my $i (1 .. 3) {
        my ($res, $cid) = post_form($ngx->port, "form $i before the restart");
        is($res->{status}, 201, "form $i: 201");
        $cids{$cid} = 1;
    }

    ok($own->stop, 'Redis stopped');
    $own->start;
    pass('Redis started again');

    $smtp->start;

    my @m = $smtp->wait_mails(3, timeout => 90);
    sleep 5;
    @m = $smtp->mails;

    is(scalar @m, 3, 'three mails');
    is(scalar(grep { mails_of($smtp, $_) == 1 } keys %cids), 3,
       'each form\'s mail once');
    is(scalar $smtp->events('accept'), 3, 'three accepted');

    ok($ngx->stop, 'nginx stops');
    $own->stop;
};

# ------------------------------------- 6: no worker waits on a hung server

subtest 'a server that never answers holds no request' => sub {
    my $smtp = start_smtpd(hang => 1);

    # one worker: the one holding the SMTP connection serves the rest
    my $ngx = mail_nginx(site => 't086hang', smtp => $smtp, workers => 1);
    my $port = $ngx->port;

    my ($res, $cid) = post_form($port, 'hello to a hung server');
    is($res->{status}, 201, 'the form: 201');

    ok(wait_until(sub { $smtp->events('connect') }, 30),
       'the worker connected to the server, which does not answer');

    my $v = visitor(port => $port);
    $res = $v->post('are you there?', timeout => 5);
    is($res->{status}, 201, 'a visitor message: 201');
    my $vcid = cid_of($v->vid);

    my $poll = open_requests([ $v->poll_request($res->{json}{id}) ]);

    $res = http_request(port => $port, method => 'POST',
                        path => "/chatport/agent/conversations/$vcid/messages",
                        headers => { Authorization => $AUTH },
                        body => { text => 'yes, here' }, timeout => 5);
    is($res->{status}, 201, 'an operator replies: 201');

    my $answer = $poll->collect(timeout => 5)->[0];
    is($answer->{status}, 200, 'the visitor\'s poll answers');
    is(($answer->{json}{messages}[0] || {})->{text}, 'yes, here',
       'with the reply');

    $res = http_request(port => $port, path => '/chatport/config',
                        timeout => 5);
    is($res->{status}, 200, 'config answers');

    is(scalar $smtp->events('accept'), 0, 'the mail still hangs');

    ok($ngx->stop, 'nginx stops gracefully with the SMTP connection hung');
};

# ---------------------------------------------- 7: refused for good (550)

subtest 'a recipient the server refuses for good' => sub {
    my $smtp = start_smtpd(reject => $OWNER);
    my $ngx = mail_nginx(site => 't086reject', smtp => $smtp);
    my $port = $ngx->port;

    my ($res, $cid) = post_form($port, 'hello to a refused owner');
    is($res->{status}, 201, 'the form: 201');

    my $failed = wait_failed($port, $cid, 30);
    ok($failed, 'mail_failed on the conversation in GET A conversations');
    is_deeply($failed && $failed->{to}, [$OWNER], 'mail_failed: to');
    like($failed && $failed->{error} // '', qr/550/,
         'mail_failed: the error with the 550');
    like($failed && $failed->{ts} // '', qr/^\d{13}$/, 'mail_failed: ts');

    $res = agent($port, 'poll?after=0-0');
    is($res->{status}, 200, 'the operators\' inbox');
    my ($event) = grep { ($_->{type} // '') eq 'mail_failed' }
                  @{ ($res->{json} || {})->{events} || [] };
    ok($event, 'has a mail_failed event');
    is($event && $event->{conversation}, $cid, 'of the conversation');
    like($event && ($event->{mail} || {})->{error} // '', qr/550/,
         'with the error');

    sleep 5;
    is(scalar $smtp->events('reject'), 1, 'refused once: not retried');
    is(scalar $smtp->events('accept'), 0, 'never accepted');
    is(failed_lines($ngx), 1, '"failed for good" logged once');

    ok($ngx->stop, 'nginx stops');
};

subtest 'one of two owners refused for good: the other gets the mail' => sub {
    my $gone = 'gone@shop.test';
    my $smtp = start_smtpd(reject => $gone);
    my $ngx = mail_nginx(site => 't086partial', smtp => $smtp,
                         to => "$gone $OWNER");
    my $port = $ngx->port;

    my ($res, $cid) = post_form($port, 'one owner left');
    is($res->{status}, 201, 'the form: 201');

    my @m = $smtp->wait_mails(1, timeout => 30);
    is(scalar @m, 1, 'delivered');
    is_deeply($m[0] && $m[0]{envelope}{to}, [$OWNER],
              'to the owner the server took');
    like($ngx->error_log, qr/RCPT TO:<\Q$gone\E> refused, the mail goes to the other recipients/,
         'the refused one is logged');
    ok(!(conversation($port, $cid) || {})->{mail_failed}, 'no mail_failed');
    is(failed_lines($ngx), 0, 'nothing failed');

    ok($ngx->stop, 'nginx stops');
};

# ---------------------------------------------- 8: the retry time runs out

subtest 'chatport_mail_retry runs out with the server down' => sub {
    my $smtp = smtpd();
    my $ngx = mail_nginx(site => 't086retry', smtp => $smtp,
                         http => '    chatport_mail_retry 3s;');
    my $port = $ngx->port;

    my ($res, $cid) = post_form($port, 'hello to nobody');
    is($res->{status}, 201, 'the form: 201');

    my $failed = wait_failed($port, $cid, 60);
    ok($failed, 'after the retry time: mail_failed on the conversation');
    ok($failed && $failed->{error}, 'with an error');

    $smtp->start;
    sleep 6;
    is(scalar $smtp->events('connect'), 0,
       'the server up afterwards: nobody tries any more');
    is(scalar $smtp->mails, 0, 'no mail');
    is(failed_lines($ngx), 1, '"failed for good" logged once');

    ok($ngx->stop, 'nginx stops');
};

done_testing();
