# chatport_redis_wait 1 and the mail outbox: a sender sends the mails it
# took only once a replica has its claim (a new master that never saw the
# claim would hand the same mails to a second sender at once). With the
# replica stopped, a form's mail stays unsent although the SMTP server is
# up; once the replica is back, it is sent, once.

use strict;
use warnings;

use Test::More;

use lib 't/lib';
use ChatPort::Harness;
use ChatPort::Mail;

require_env();

my $site = 't123';
my $master = start_redis();
my $replica = start_redis(args => ['--replicaof', '127.0.0.1',
                                   $master->port]);

sub replica_ready {
    return wait_until(sub {
        my $info = eval { $master->cmd('INFO', 'replication') } // '';
        $info =~ /^slave0:.*state=online/m;
    }, 30, 0.2);
}

ok(replica_ready(), 'the replica is in sync');

my $smtp = start_smtpd();

# the claim time is twice chatport_smtp_timeout: 2 s
my $ngx = start_nginx(
    redis_port => $master->port,
    http => "chatport_redis 127.0.0.1:" . $master->port . ";\n"
            . "chatport_redis_wait 1 300ms;\n"
            . "chatport_smtp " . $smtp->url . ";\n"
            . "chatport_smtp_timeout 1s;\n"
            . "chatport_mail_from chat\@shop.test;\n",
    server => <<"_EOC_");
        chatport_site $site;
        chatport_mail_to owner\@shop.test;

        location /chatport/ {
            chatport;
        }
_EOC_

my %form = (port => $ngx->port, method => 'POST', path => '/chatport/form',
            headers => { Origin => 'http://localhost' });

my $res = http_request(%form, body => { email => 'a@example.jp',
                                        message => 'with the replica' });
is($res->{status}, 201, 'replica in sync: the form is answered 201')
    or diag explain $res;
is(scalar $smtp->wait_mails(1, timeout => 30), 1, '... and its mail sent');

ok($replica->stop, 'the replica stopped');
ok(wait_until(sub {
    ($master->cmd('INFO', 'replication') // '') =~ /^connected_slaves:0/m;
}, 10, 0.1), 'the master knows');

$res = http_request(%form, body => { email => 'b@example.jp',
                                     message => 'without the replica' });
is($res->{status}, 503, 'replica stopped: the form is stored, 503')
    or diag explain $res;

# several claim times: a sender that did not wait would have sent it
sleep 8;
is(scalar $smtp->mails, 1, 'no mail sent on a claim the replica lacks')
    or diag explain [ map { $_->{subject} } $smtp->mails ];

ok($replica->start, 'the replica is back');
ok(replica_ready(), 'in sync again');

my @m = $smtp->wait_mails(2, timeout => 30);
is(scalar @m, 2, 'then the mail is sent');
like($m[1]{subject} // '', qr/b\@example\.jp/, '... the second form\'s');
sleep 3;
is(scalar $smtp->events('accept'), 2, 'once');

ok($ngx->stop(10), 'nginx stops gracefully');
is_deeply([ $ngx->bad_lines ], [], 'no alert, crit, emerg or crash');
$replica->stop;
$master->stop;

done_testing;
