# A conversation's keys live at least chatport_retention after its last
# message (src/lua/extend.lua): the expiries are set a slack further
# (retention / 100, here 1 s) and not set again by a message that finds
# them far enough already. Checked on both paths: a message within the
# slack sets nothing and its keys (a photo's too) still outlive it by
# the retention; a message past it sets every key's expiry anew, and
# the site's index drops conversations past the retention. The site's
# index and the operators' inbox are extended with the conversation's
# keys; an inbox that a message within the slack creates gets the
# retention.
#
# Uses a private redis-server, never the shared one.

use strict;
use warnings;

use Test::More;
use MIME::Base64 qw(decode_base64);

use lib 't/lib';
use ChatPort::Harness;

require_env();

my $site = 't026';
my $R = 100_000;            # chatport_retention 100s, in ms
my $SLACK = 1000;
my $redis = start_redis();
my $rport = $redis->port;

my $ngx = start_nginx(redis_port => $rport, server => <<"_EOC_");
        chatport_site $site;
        chatport_retention 100s;

        location /chatport/ {
            chatport;
        }
_EOC_

# a 1x1 PNG
my $PNG = decode_base64('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADU'
                        . 'lEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==');

my $v = visitor(port => $ngx->port);
my $convs = "chatport:{$site}:convs";
my $inbox = "chatport:{$site}:inbox";
my ($meta, @keys);

sub ts { ($_[0] =~ /^(\d+)-/)[0] }
sub expiry { redis_cmd($rport, 'PEXPIRETIME', $_[0]) }

# the keys' expiry as if extended at $at
sub extended_at {
    my ($at, @k) = @_;
    redis_cmd($rport, 'HSET', $meta, 'expires', $at);
    redis_cmd($rport, 'PEXPIREAT', $_, $at) for @k;
}

my $res = $v->post('one');
is($res->{status}, 201, 'first message');
$meta = conv_key($site, $v->vid);
@keys = ($meta, "$meta:msgs", $convs, $inbox);
my $ts = ts($res->{json}{id});
my $e = redis_cmd($rport, 'HGET', $meta, 'expires');
ok($e >= $ts + $R && $e <= $ts + $R + $SLACK,
   "expires: the retention and at most the slack after the message ($e)");
is(expiry($_), $e, "$_ expires then") for @keys;

# extended recently, far enough: nothing is set
my $far = $ts + $R + 60_000;
extended_at($far, @keys);
$res = $v->post('two');
is($res->{status}, 201, 'a message within the slack');
$ts = ts($res->{json}{id});
cmp_ok($far, '>=', $ts + $R, 'the keys outlive it by the retention');
is(expiry($_), $far, "$_: expiry left as it was") for @keys;
is(redis_cmd($rport, 'HGET', $meta, 'expires'), $far, 'expires unchanged');

# a photo within the slack: its key, created now, takes that expiry
$res = http_request(port => $ngx->port, method => 'POST',
                    path => '/chatport/images', cookie => $v->cookie,
                    headers => { 'Content-Type' => 'image/png' },
                    body => $PNG, timeout => 10);
is($res->{status}, 201, 'a photo within the slack');
is(expiry("$meta:images"), $far, 'the photo expires with the conversation');
my $up = redis_cmd($rport, 'ZRANGE', "chatport:{$site}:uploads", 0, -1,
                   'WITHSCORES');
is($up->[1], $far, 'the quota counts it until then');

# an inbox gone (evicted, deleted) comes back with an expiry all the same
redis_cmd($rport, 'DEL', $inbox);
sub now_ms {
    my $t = redis_cmd($rport, 'TIME');
    return $t->[0] * 1000 + int($t->[1] / 1000);
}
my $before = now_ms();
$res = $v->post('two and a half');
is($res->{status}, 201, 'a message within the slack, no inbox');
my $after = now_ms();
my $ie = expiry($inbox);
cmp_ok($ie, '>=', $before + $R,
       "the inbox it makes expires the retention after it ($ie)");
cmp_ok($ie, '<=', $after + $R, 'and no later');
is(redis_cmd($rport, 'XLEN', $inbox), 1, 'with its event');

# extended too long ago: a message sets every expiry again
my $now = redis_cmd($rport, 'TIME');
my $short = $now->[0] * 1000 + $R - 10_000;
extended_at($short, @keys, "$meta:images");
redis_cmd($rport, 'ZADD', $convs, 1, 'f' x 40);     # a conversation long gone
$res = $v->post('three');
is($res->{status}, 201, 'a message past the slack');
$ts = ts($res->{json}{id});
$e = redis_cmd($rport, 'HGET', $meta, 'expires');
ok($e >= $ts + $R && $e <= $ts + $R + $SLACK,
   "expires moved to the retention after it ($e)");
is(expiry($_), $e, "$_ expires then") for @keys, "$meta:images";
ok(!defined redis_cmd($rport, 'ZSCORE', $convs, 'f' x 40),
   'the index dropped the conversation past the retention');
ok(defined redis_cmd($rport, 'ZSCORE', $convs, cid_of($v->vid)),
   'and kept this one');

$ngx->stop;
$redis->stop;
done_testing();
