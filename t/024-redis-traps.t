# The Redis connection's known traps, each against a real private Redis:
# a unix socket, a host name (resolved when nginx reads its configuration),
# AUTH and SELECT on every connect (and a wrong password logged once), and
# a Redis that answers LOADING while it reads a large dataset after a
# restart: requests get 503, never a hang or a 201 that is not stored, and
# work again when it is loaded.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(time sleep);

use lib 't/lib';
use ChatPort::Harness;

require_env();

sub location {
    my ($site) = @_;
    return <<"_EOC_";
        chatport_site $site;

        location /chatport/ {
            chatport;
            chatport_poll_timeout 5s;
        }
_EOC_
}

# POSTs until one is answered 201 (at most $timeout s); all answers
sub post_until_ok {
    my ($v, $text, $timeout) = @_;
    my @seen;
    my $deadline = time + $timeout;

    while (time < $deadline) {
        my $res = $v->post($text, page => 'https://shop.test/');
        push @seen, $res;
        last if $res->{status} == 201;
        sleep 0.1;
    }

    return @seen;
}


subtest 'a unix socket' => sub {
    my $redis = start_redis();
    my $path = $redis->dir . '/redis.sock';
    $redis->stop;

    $redis = start_redis(dir => $redis->dir,
                         args => ['--unixsocket', $path,
                                  '--unixsocketperm', '700']);

    my $ngx = start_nginx(http => "chatport_redis unix:$path;\n",
                          server => location('t024unix'));

    my $v = visitor(port => $ngx->port);
    my $res = $v->post('over a unix socket', page => 'https://shop.test/');
    is($res->{status}, 201, 'a message is stored through unix:');

    is(redis_cmd($redis->port, 'XLEN',
                 conv_key('t024unix', $v->vid // '') . ':msgs'),
       1, 'it is in the Redis behind the socket');

    is_deeply([ map { $_->{text} } @{ $v->history->{json}{messages} || [] } ],
              ['over a unix socket'], 'and read back');

    $ngx->stop;
    $redis->stop;
};


subtest 'a host name' => sub {
    my $ngx = start_nginx(
        http => "chatport_redis localhost:" . shared_redis_port() . ";\n",
        server => location('t024host'));

    my $v = visitor(port => $ngx->port);
    my $res = $v->post('to localhost', page => 'https://shop.test/');
    is($res->{status}, 201, 'chatport_redis localhost:PORT works');
    unlike($ngx->error_log, qr/\[(?:error|alert|crit)\]/,
           'nothing went wrong in the log');

    $ngx->stop;
};


subtest 'AUTH and SELECT on every connect' => sub {
    my $redis = start_redis(args => ['--requirepass', 's3cret']);
    my $rport = $redis->port;

    my $ngx = start_nginx(
        redis_port => $rport,
        http => "chatport_redis 127.0.0.1:$rport;\n"
              . "chatport_redis_password s3cret;\n"
              . "chatport_redis_db 3;\n",
        server => location('t024auth'));

    my $v = visitor(port => $ngx->port);
    is($v->post('with a password', page => 'https://shop.test/')->{status},
       201, 'stored with AUTH');

    my $key = conv_key('t024auth', $v->vid // '') . ':msgs';

    # the key is in database 3, not 0
    my $in3 = ChatPort::Harness::Redis::command_many($rport,
                  ['AUTH', 's3cret'], ['SELECT', '3'], ['EXISTS', $key]);
    my $in0 = ChatPort::Harness::Redis::command_many($rport,
                  ['AUTH', 's3cret'], ['SELECT', '0'], ['EXISTS', $key]);
    is($in3, 1, 'the conversation is in database 3');
    is($in0, 0, 'and not in database 0');

    # a restart: AUTH and SELECT again on the new connection
    $redis->stop;
    $redis->start;

    my @seen = post_until_ok($v, 'after the restart', 15);
    is($seen[-1]{status}, 201, 'stored again after Redis came back');
    is((grep { $_->{status} != 201 && $_->{status} != 503 } @seen), 0,
       'only 503 while it was away');

    # (Redis kept nothing: the message opened a new conversation)
    $key = conv_key('t024auth', $v->vid // '') . ':msgs';
    my $len = ChatPort::Harness::Redis::command_many($rport,
                  ['AUTH', 's3cret'], ['SELECT', '3'], ['XLEN', $key]);
    is($len, 1, 'the new message is in database 3 too');

    $ngx->stop;

    # a wrong password: 503, and the log says so once, not per attempt
    $ngx = start_nginx(
        redis_port => $rport,
        http => "chatport_redis 127.0.0.1:$rport;\n"
              . "chatport_redis_password wrong;\n",
        server => location('t024auth'));

    sleep 1.5;      # several reconnect attempts

    my $w = visitor(port => $ngx->port);
    my $res = $w->post('no entry', page => 'https://shop.test/');
    is($res->{status}, 503, 'a wrong password: 503');

    my $log = $ngx->error_log;
    my $n = () = $log =~ /AUTH or SELECT failed/g;
    # one line for each of the worker's two connections, not per attempt
    ok($n >= 1 && $n <= 2,
       "the failure is logged once per connection, not per attempt ($n)");
    unlike($log, qr/is back/, 'and never "is back"');

    $ngx->stop;
    $redis->stop;
};


subtest 'LOADING after a restart' => sub {
    my $redis = start_redis(args => ['--enable-debug-command', 'yes',
                                     '--dbfilename', 'dump.rdb']);
    my $rport = $redis->port;

    my $ngx = start_nginx(
        redis_port => $rport,
        http => "chatport_redis 127.0.0.1:$rport;\n",
        server => location('t024load'));

    my $v = visitor(port => $ngx->port);
    is($v->post('before', page => 'https://shop.test/')->{status}, 201,
       'a first message');

    # a dataset that takes Redis a few seconds to load
    redis_cmd($rport, 'DEBUG', 'POPULATE', '2500000');
    is(redis_cmd($rport, 'SAVE'), 'OK', 'saved');

    my $log = $ngx->log_size;

    $redis->stop;
    $redis->{args} = ['--dbfilename', 'dump.rdb'];
    $redis->start_loading;

    my @seen = post_until_ok($v, 'after', 60);

    is($seen[-1]{status}, 201, 'stored once the data is loaded');
    is((grep { $_->{status} != 201 && $_->{status} != 503 } @seen), 0,
       'only 503 before that (no hang, no other error)');
    ok((grep { $_->{status} == 503 } @seen), 'some were 503 meanwhile');
    like($ngx->log_since($log), qr/chatport: redis error: LOADING/,
         'the log names LOADING');

    is_deeply([ map { $_->{text} } @{ $v->history->{json}{messages} || [] } ],
              ['before', 'after'],
              'the conversation has both messages, once each');

    $ngx->stop;
    $redis->stop;
};

done_testing;
