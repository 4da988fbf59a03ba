# Beside Debian's Nchan module (libnginx-mod-nchan), which carries and
# exports its own hiredis: loaded before ours and after ours, both modules'
# flows run in one nginx with 2 workers, Nchan's with its memory store and
# with its Redis store, ChatPort's with polls parked on both workers, and no
# worker dies. The module exports no hiredis name of its own.

use strict;
use warnings;

use Test::More;

use lib 't/lib';
use ChatPort::Harness;

require_env();

my $nchan = '/usr/lib/nginx/modules/ngx_nchan_module.so';
my ($ours) = split ' ', $ENV{TEST_NGINX_LOAD_MODULES};

subtest 'the module exports nginx\'s entry points and nothing else' => sub {
    my @dyn = grep { /\s[A-Za-z]\s/ } `nm -D --defined-only $ours`;
    ok(@dyn, 'nm -D lists the exported names') or return;
    my @names = sort map { (split ' ')[2] } @dyn;
    is_deeply(\@names, [qw(ngx_http_chatport_module ngx_module_names
                           ngx_module_order ngx_modules)],
              'exported: the module and the loader\'s three names')
        or diag "@names";

    my @redis = grep { /redis/i } `nm -D $ours`;
    ok(!@redis, 'no hiredis name, defined or undefined') or diag @redis;
};

plan skip_all => "Debian's Nchan module is not installed ($nchan:"
                 . " apt-get install libnginx-mod-nchan)"
    unless -f $nchan;

my $redis = shared_redis_port();

my $server = <<"_EOC_";
        chatport_site t025;

        location /chatport/ {
            chatport;
            chatport_poll_timeout 6s;
            add_header X-Worker \$pid always;
        }

        location = /pub {
            nchan_publisher;
            nchan_channel_id \$arg_id;
        }

        location = /sub {
            nchan_subscriber;
            nchan_channel_id \$arg_id;
        }

        location = /rpub {
            nchan_publisher;
            nchan_channel_id \$arg_id;
            nchan_use_redis on;
        }

        location = /rsub {
            nchan_subscriber;
            nchan_channel_id \$arg_id;
            nchan_use_redis on;
        }
_EOC_

sub nchan_roundtrip {
    my ($port, $pub, $sub, $id, $text) = @_;

    my $res = http_request(port => $port, method => 'POST',
                           path => "/$pub?id=$id", body => $text,
                           headers => { 'Content-Type' => 'text/plain' });
    like($res->{status}, qr/^20[12]$/, "Nchan /$pub: $res->{status}");

    $res = http_request(port => $port, path => "/$sub?id=$id",
                        timeout => 10);
    is($res->{status}, 200, "Nchan /$sub: 200");
    is($res->{body}, $text, "Nchan /$sub: the published message");
}

for my $order ([ $nchan, $ours ], [ $ours, $nchan ]) {
    my $name = $order->[0] eq $nchan ? 'Nchan loaded first'
                                     : 'ChatPort loaded first';

    subtest $name => sub {
        my $ngx = start_nginx(workers => 2, load_modules => $order,
                              listen => 'reuseport', server => $server,
                              http => "nchan_redis_url"
                                      . " redis://127.0.0.1:$redis;\n");
        my $port = $ngx->port;
        my @workers = sort $ngx->workers;
        is(scalar @workers, 2, 'two workers');

        nchan_roundtrip($port, 'pub', 'sub', "mem$$", 'via memory');
        nchan_roundtrip($port, 'rpub', 'rsub', "red$$", 'via redis');

        my $v = visitor(port => $port);
        my $res = $v->post('hello beside Nchan');
        is($res->{status}, 201, 'ChatPort message: 201') or return;

        my $polls = open_requests([ map { $v->poll_request($res->{json}{id}) }
                                    1 .. 20 ]);
        $polls->pump(0.5);

        $res = $v->post('to every poll');
        is($res->{status}, 201, 'second message: 201');
        my $id = $res->{json}{id};

        my $answers = $polls->collect(timeout => 10);
        my @got = grep { $_->{status} == 200
                         && ($_->{json}{cursor} // '') eq $id } @$answers;
        is(scalar @got, 20, 'all 20 polls received it');

        my %on;
        $on{ $_->{headers}{'x-worker'} // '?' }++ for @$answers;
        note 'polls per worker: ' . join ', ', map { "$_=$on{$_}" } keys %on;

        nchan_roundtrip($port, 'rpub', 'rsub', "again$$", 'still there');

        is_deeply([ sort $ngx->workers ], \@workers,
                  'the same two workers are still running');
        $ngx->stop;
    };
}

done_testing();
