# New conversations are rate limited (SPEC "Visitor endpoints",
# chatport_chat_rate): per client address and per site, counted in Redis
# by the script that opens the conversation, 429 rate_limited with
# Retry-After. Messages in an existing conversation never count. The
# client addresses are loopback addresses the test binds to (127.0.0.1,
# 127.0.0.2, ...).

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(time sleep);

use lib 't/lib';
use ChatPort::Harness;

require_env();

my $redis = shared_redis_port();
my ($SA, $SB) = ('t026a', 't026b');
my $ID = qr/^\d+-\d+$/;

# a clean slate for this file's sites in the shared Redis
for my $site ($SA, $SB) {
    my $keys = redis_cmd($redis, 'KEYS', "chatport:{$site}:*");
    redis_cmd($redis, 'DEL', @$keys) if ref $keys && @$keys;
}

my $port_b = free_port();

# site A: 3 from an address in 30 s, 5 in the site a minute;
# site B (a second server): 2 in 5 s, the default cap for the site
my $ngx = start_nginx(
    workers => 2,
    server => <<"_EOC_",
        chatport_site $SA;
        chatport_chat_rate 3/30s site=5/1m;

        location /chatport/ {
            chatport;
        }
_EOC_
    http => <<"_EOC_");
    server {
        listen 127.0.0.1:$port_b;
        server_name localhost;
        chatport_site $SB;

        location /chatport/ {
            chatport;
            chatport_chat_rate 2/5s;
        }
    }
_EOC_

my $port_a = $ngx->port;

sub is_201 {
    my ($res, $what) = @_;
    is($res->{status}, 201, "$what: 201") or diag explain $res;
    like($res->{json}{id} // '', $ID, "$what: an id");
}

# the answer's Retry-After
sub is_429 {
    my ($res, $what, $max) = @_;
    is($res->{status}, 429, "$what: 429") or diag explain $res;
    is($res->{json}{error}, 'rate_limited', "$what: error rate_limited");
    like($res->{json}{message} // '', qr/conversations/,
         "$what: a message");
    my $retry = $res->{headers}{'retry-after'} // '';
    ok($retry =~ /^\d+$/ && $retry >= 1 && $retry <= $max,
       "$what: Retry-After $retry in 1..$max");
    is_deeply($res->{set_cookie}, [], "$what: no cookie");
    return $retry;
}

sub convs { redis_cmd($redis, 'ZCARD', "chatport:{$_[0]}:convs") }


# ---------------------------------------------------------------------------
my (@a, $retry);

subtest 'over the address limit: 429, nothing opened' => sub {
    for my $i (1 .. 3) {
        push @a, visitor(port => $port_a);
        is_201($a[-1]->post("hello $i"), "new conversation $i");
    }

    my $v = visitor(port => $port_a);
    $retry = is_429($v->post('hello 4'), 'the fourth', 30);
    ok(!$v->vid, 'the refused visitor has no conversation');
    is(convs($SA), 3, 'three conversations stored');

    # a refused visitor's retry is refused too (a key does not help)
    is_429($v->post('hello 4', key => 'again'), 'its retry', 30);
    is(convs($SA), 3, 'still three');
};


subtest 'existing conversations are not limited' => sub {
    for my $v (@a) {
        is_201($v->post('a follow-up'), 'a message in an open conversation')
            for 1 .. 3;
    }
    is(convs($SA), 3, 'still three conversations');
};


subtest 'another address has its own limit, the site cap holds for all'
    => sub {
    my $v = visitor(port => $port_a);
    is_201($v->post('from .2', from => '127.0.0.2'), '127.0.0.2, first');

    $v = visitor(port => $port_a);
    is_201($v->post('from .2 again', from => '127.0.0.2'), '127.0.0.2, second');

    # the refused attempts of 127.0.0.1 did not count for the site
    is(redis_cmd($redis, 'GET', "chatport:{$SA}:chat-rate"), '5',
       'the site counted the five conversations it opened');

    $v = visitor(port => $port_a);
    is_429($v->post('from .3', from => '127.0.0.3'),
           '127.0.0.3 over the site cap', 60);
    is(convs($SA), 5, 'five conversations stored');
};


subtest 'the window passes: the address may open conversations again'
    => sub {
    my $v = visitor(port => $port_b);
    is_201($v->post('b 1'), 'site B, first');
    is_201(visitor(port => $port_b)->post('b 2'), 'site B, second');
    my $wait = is_429(visitor(port => $port_b)->post('b 3'), 'site B, third',
                      5);

    my $pttl = redis_cmd($redis, 'PTTL', "chatport:{$SB}:chat-rate:127.0.0.1");
    ok($pttl > 0 && $pttl <= 5000, "the counter expires with the window "
                                   . "(PTTL $pttl)");

    sleep $wait + 0.2;

    is_201(visitor(port => $port_b)->post('b 4'), 'after Retry-After');
    is(convs($SB), 3, 'three conversations in site B');
    is(convs($SA), 5, 'site A unchanged');
};


my $log = $ngx->error_log;
unlike($log, qr/\[alert\]|\[emerg\]|exited on signal/,
       'no alert, emerg or crash in the error log');

ok($ngx->stop, 'nginx stops gracefully');

done_testing();
