# chatport_redis_wait 1: a master and its replica on loopback. With the
# replica in sync, visitors' and operators' messages and forms are
# answered 201 (contact details 204); with the replica stopped, 503
# "not_replicated" saying the message is stored but not yet safe, logged,
# and the message is in the master; reads are still answered meanwhile;
# once the replica is back, resending with the same key answers 201 with
# the first id.

use strict;
use warnings;

use Test::More;
use MIME::Base64 qw(encode_base64);
use Time::HiRes qw(time);

use lib 't/lib';
use ChatPort::Harness;

require_env();

my $site = 't121';
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

my $ngx = start_nginx(
    redis_port => $master->port,
    http => "chatport_redis 127.0.0.1:" . $master->port . ";\n"
            . "chatport_redis_wait 1 300ms;\n",
    server => <<"_EOC_");
        chatport_site $site;

        location /chatport/ {
            chatport;
            chatport_poll_timeout 2s;
        }

        location /chatport/agent/ {
            chatport_agent;
            auth_basic ops;
            auth_basic_user_file htpasswd;
        }
_EOC_

# read per request, relative to conf/
open my $fh, '>', $ngx->dir . '/conf/htpasswd' or die "htpasswd: $!";
print $fh "op:{PLAIN}pw\n";
close $fh;

my %same_site = (Origin => 'http://localhost');

my $v = visitor(port => $ngx->port);
my $res = $v->post('first', key => 'k1');
is($res->{status}, 201, 'replica in sync: 201') or diag explain $res;
my $first = $res->{json}{id};

my %contact = (port => $ngx->port, method => 'POST',
               path => '/chatport/contact', cookie => $v->cookie,
               headers => \%same_site);

$res = http_request(%contact, body => { email => 'a@shop.test',
                                        name => 'A' });
is($res->{status}, 204, 'contact details: 204') or diag explain $res;

my $cid = cid_of($v->vid);
my %reply = (port => $ngx->port, method => 'POST',
             path => "/chatport/agent/conversations/$cid/messages",
             headers => { %same_site,
                          Authorization => 'Basic '
                                           . encode_base64('op:pw', '') });
my %form = (port => $ngx->port, method => 'POST', path => '/chatport/form',
            headers => \%same_site);

$res = http_request(%reply, body => { text => 'reply one' });
is($res->{status}, 201, "an operator's reply: 201") or diag explain $res;
$res = http_request(%form, body => { email => 'f@shop.test',
                                     message => 'form one' });
is($res->{status}, 201, 'a form: 201') or diag explain $res;

ok($replica->stop, 'the replica stopped');
ok(wait_until(sub {
    ($master->cmd('INFO', 'replication') // '') =~ /^connected_slaves:0/m;
}, 10, 0.1), 'the master knows');

my $off = $ngx->log_size;
my $t0 = time;
$res = $v->post('second', key => 'k2');
is($res->{status}, 503, 'replica stopped: 503') or diag explain $res;
is($res->{json}{error}, 'not_replicated', '... not_replicated');
like($res->{json}{message}, qr/stored but not yet safe/,
     '... saying the message is stored but not yet safe');
ok($res->{headers}{'retry-after'}, '... with Retry-After');
my $stream = conv_key($site, $v->vid) . ':msgs';
my @texts = map { { @{ $_->[1] } }->{text} }
            @{ $master->cmd('XRANGE', $stream, '-', '+') };
is_deeply([ grep { /^(?:first|second)$/ } @texts ], ['first', 'second'],
          'the message is in the master');
like($ngx->log_since($off),
     qr/\[error\].*chatport: redis WAIT: 0 of 1 replicas acknowledged/,
     'logged');

$res = http_request(%contact, body => { email => 'b@shop.test',
                                        name => 'B' });
is($res->{status}, 503, 'contact details: 503 too') or diag explain $res;
is($res->{json}{error}, 'not_replicated', '... not_replicated');

$res = http_request(%reply, body => { text => 'reply two' });
is($res->{status}, 503, "an operator's reply: 503") or diag explain $res;
is($res->{json}{error}, 'not_replicated', '... not_replicated');

$res = http_request(%form, body => { email => 'f@shop.test',
                                     message => 'form two' });
is($res->{status}, 503, 'a form: 503') or diag explain $res;
is($res->{json}{error}, 'not_replicated', '... not_replicated');

# a read waits at most for the WAIT under way
$res = $v->history;
is($res->{status}, 200, 'a read is answered meanwhile');

ok($replica->start, 'the replica is back');
ok(replica_ready(), 'in sync again');

$res = $v->post('second', key => 'k2');
is($res->{status}, 201, 'the same key again: 201') or diag explain $res;
@texts = map { { @{ $_->[1] } }->{text} }
         @{ $master->cmd('XRANGE', $stream, '-', '+') };
is_deeply([ grep { /^(?:first|second)$/ } @texts ], ['first', 'second'],
          'stored once');
$res = $v->post('first', key => 'k1');
is($res->{json}{id}, $first, 'a repeated key answers the first id');

ok($ngx->stop(10), 'nginx stops gracefully');
is_deeply([ $ngx->bad_lines ], [], 'no alert, crit, emerg or crash');
$replica->stop;
$master->stop;

done_testing;
