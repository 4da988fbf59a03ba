# The stream-node-max-bytes hint (README, "Sizing Redis"): once per
# worker, on its first command connection, the module asks Redis for
# stream-node-max-bytes and logs one [notice] when it is above 1024;
# nothing with 1024, nothing (and no error) when CONFIG is disabled, as
# in managed Redis services; not again when the connection comes back.
#
# Uses private redis-servers, never the shared one.

use strict;
use warnings;

use Test::More;

use lib 't/lib';
use ChatPort::Harness;

require_env();

my $HINT = qr/\[notice\] (\d+)#\d+: chatport: redis has stream-node-max-bytes (\d+): "CONFIG SET stream-node-max-bytes 1024"/;

# nginx with N workers on a Redis started with these options; a message
# posted through each worker's connection before it returns
sub pair {
    my ($workers, @args) = @_;
    my $redis = start_redis(args => \@args);
    my $ngx = start_nginx(workers => $workers, redis_port => $redis->port,
                          log_level => 'info');
    return ($redis, $ngx);
}

# a 201 comes after the answer to CONFIG GET, sent first on the same
# connection: then the log holds what the hint logs
sub post_ok {
    my ($ngx, $n) = @_;
    my ($ok, $v) = (0, visitor(port => $ngx->port));
    for (1 .. $n) {
        my $res = $v->post('hello');
        $ok++ if $res->{status} == 201;
    }
    return $ok;
}

sub hints {
    my ($ngx) = @_;
    my $log = $ngx->error_log;
    my @pids;
    while ($log =~ /$HINT/g) { push @pids, $1; }
    return @pids;
}


subtest 'above the recommended value: one notice per worker' => sub {
    my ($redis, $ngx) = pair(2, '--stream-node-max-bytes', '4096');
    is(post_ok($ngx, 8), 8, 'messages posted');
    ok(wait_until(sub { hints($ngx) == 2 }, 10),
       'two workers, two notices');
    my %seen = map { $_ => 1 } hints($ngx);
    is(scalar keys %seen, 2, 'one from each worker');
    like($ngx->error_log, qr/stream-node-max-bytes 4096/,
         'the notice names the value');
    unlike($ngx->error_log, qr/\[(warn|error|crit|alert|emerg)\].*node-max/,
           'only at notice level');

    # the connection comes back: the hint is not repeated
    $redis->stop;
    $redis->start;
    # each worker: a command and a subscriber connection, and ours
    ok(wait_until(sub {
           my $list = redis_cmd($redis->port, 'CLIENT', 'LIST') // '';
           my $n = () = $list =~ /\n/g;
           $n >= 5 }, 20),
       'both workers connected again');
    is(post_ok($ngx, 5), 5, 'messages again after Redis restarted');
    is(scalar(hints($ngx)), 2, 'still two notices');

    $ngx->stop;
    $redis->stop;
};

subtest 'the recommended value: no notice' => sub {
    my ($redis, $ngx) = pair(1, '--stream-node-max-bytes', '1024');
    is(post_ok($ngx, 5), 5, 'messages posted');
    is(scalar(hints($ngx)), 0, 'no notice');
    unlike($ngx->error_log, qr/node-max/, 'nothing about the setting');
    $ngx->stop;
    $redis->stop;
};

subtest 'CONFIG disabled: no notice, no error' => sub {
    my ($redis, $ngx) = pair(1, '--rename-command', 'CONFIG', '');
    is(post_ok($ngx, 5), 5, 'messages posted');
    unlike($ngx->error_log, qr/node-max|CONFIG|\[error\]/,
           'nothing logged about it');
    $ngx->stop;
    $redis->stop;
};

done_testing();
