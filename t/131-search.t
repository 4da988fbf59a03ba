# GET A conversations?q=TEXT: the search index the message, contact, form
# and page scripts write (src/lua/index.lua) and the list reads. English
# words in any case, Japanese by character bigrams (東京 inside
# 東京都の配送について, a page's percent-encoded Japanese path), full-width
# letters, an email address whole and in parts, a name, an operator's
# reply; every term must match; with a filter; paged (both of the
# script's ways: the rare term's conversations sorted, or the list
# walked); expired conversations dropped from the index when met; the
# index keys expiring with the conversations; bad queries 400; another
# site's conversations never found.

use strict;
use warnings;
use utf8;

use Test::More;
use Encode qw(encode_utf8);

use lib 't/lib';
use ChatPort::Harness;

require_env();

binmode Test::More->builder->$_, ':encoding(UTF-8)'
    for qw(output failure_output todo_output);

my $redis = shared_redis_port();
my ($SA, $SB) = ('t131a', 't131b');

sub clean {
    for my $site ($SA, $SB) {
        my $keys = redis_cmd($redis, 'KEYS', "chatport:{$site}:*");
        redis_cmd($redis, 'DEL', @$keys) if ref $keys && @$keys;
    }
}

clean();

my ($htpasswd, $auth) = operators(alice => 'secret');
my $AUTH = $auth->{alice};

my $port_b = free_port();

my $locations = <<"_EOC_";
        location /chatport/agent/ {
            chatport_agent;
            auth_basic "ops";
            auth_basic_user_file $htpasswd;
        }

        location /chatport/ {
            chatport;
            chatport_chat_rate 10000/10m site=10000/10m;
            chatport_form_rate 100/1m;
        }
_EOC_

my $ngx = start_nginx(server => "chatport_site $SA;\n$locations",
                      http => <<"_EOC_");
    server {
        listen 127.0.0.1:$port_b;
        server_name localhost;
        chatport_site $SB;
$locations
    }
_EOC_

my $pa = $ngx->port;

sub agent {
    my ($method, $path, $body, %o) = @_;
    return http_request(port => $o{port} || $pa, method => $method,
                        path => "/chatport/agent/$path",
                        headers => { Authorization => $AUTH },
                        (defined $body ? (body => $body) : ()));
}

sub esc {
    my $s = encode_utf8($_[0]);
    $s =~ s/([^A-Za-z0-9_.~-])/sprintf '%%%02X', ord $1/ge;
    return $s;
}

# the ids a search finds, every page of it
sub search {
    my ($q, %o) = @_;
    my (@ids, $cursor);
    for (1 .. 100) {
        my $res = agent(GET => 'conversations?q=' . esc($q)
                               . '&limit=' . ($o{limit} // 100)
                               . ($o{filter} ? "&filter=$o{filter}" : '')
                               . (defined $cursor ? "&before=$cursor" : ''),
                        undef, port => $o{port});
        die "search $q: $res->{status} $res->{body}"
            unless $res->{status} == 200;
        push @ids, map { $_->{id} } @{ $res->{json}{conversations} };
        $cursor = $res->{json}{cursor};
        last unless defined $cursor;
    }
    return [ sort @ids ];
}

sub open_conversation {
    my ($text, %o) = @_;
    my $v = visitor(port => $o{port} || $pa);
    my $res = $v->post($text, ($o{page} ? (page => $o{page}) : ()));
    die "post: $res->{status}" unless $res->{status} == 201;
    return wantarray ? (cid_of($v->vid), $v) : cid_of($v->vid);
}

# ----------------------------------------------------------- the texts

my ($tokyo) = open_conversation('東京都の配送について教えてください',
    page => 'http://localhost/products/%E7%B7%91%E8%8C%B6');
my ($order, $vo) = open_conversation(
    "Where is my ORDER? The tracking number 12345 doesn't work");
my ($wide) = open_conversation('ＴＯＫＹＯ　Ｔｏｗｅｒ のチケット');
my ($plain, $vp) = open_conversation('hello');
my ($formed) = open_conversation('before the form');

my $res = http_request(port => $pa, method => 'POST',
                       path => '/chatport/contact', cookie => $vo->cookie,
                       body => { email => 'Taro.Yamada@Example.co.jp',
                                 name => '山田 太郎' });
is($res->{status}, 204, 'contact stored');

$res = agent(POST => "conversations/$order/messages",
             { text => 'Your parcel ships tomorrow' });
is($res->{status}, 201, 'an operator\'s reply');

$res = http_request(port => $pa, method => 'POST', path => '/chatport/page',
                    cookie => $vp->cookie,
                    body => { url => "http://localhost/item/"
                                     . '%E6%8A%B9%E8%8C%B6?ref=mail',
                              title => 'Matcha' });
is($res->{status}, 204, 'a page report') or diag $res->{body};

{
    my $v = visitor(port => $pa);
    $res = http_request(port => $pa, method => 'POST',
                        path => '/chatport/form',
                        body => { name => 'Ann Lee',
                                  email => 'ann@shop-example.com',
                                  message => 'Wholesale prices please',
                                  page => 'http://localhost/contact' });
    is($res->{status}, 201, 'a form opens a conversation');
    ($formed) = map { /^chatport_vid=([^;]*)/ ? cid_of($1) : () }
                @{ $res->{set_cookie} || [] };
    ok($formed, 'its conversation');
}

my @cases = (
    ['東京', [$tokyo], 'a Japanese word inside a sentence'],
    ['東京都', [$tokyo], 'three characters: both bigrams'],
    ['配送', [$tokyo], 'another word of it'],
    ['大阪', [], 'a word it does not hold'],
    ['緑茶', [$tokyo], 'the page\'s percent-encoded path'],
    ['抹茶', [$plain], 'a page reported later'],
    ['tracking', [$order], 'an English word'],
    ['TRACKING Order', [$order], 'any case, two words'],
    ['order pizza', [], 'every word must match'],
    ['12345', [$order], 'digits'],
    ['parcel', [$order], 'the operator\'s reply'],
    ['taro.yamada@example.co.jp', [$order], 'an email whole'],
    ['Taro.Yamada@Example.co.jp', [$order], '... in any case'],
    ['yamada', [$order], 'a part of it'],
    ['山田', [$order], 'a name'],
    ['田太', [], 'no bigram across a space'],
    ['tokyo', [$wide], 'full-width letters as ASCII'],
    ['チケット', [$wide], 'katakana'],
    ['ann@shop-example.com', [$formed], 'a form\'s email'],
    ['lee', [$formed], 'a form\'s name'],
    ['wholesale', [$formed], 'a form\'s text'],
);

for my $c (@cases) {
    is_deeply(search($c->[0]), [ sort @{ $c->[1] } ],
              "q=$c->[0]: $c->[2]");
}

# ------------------------------------------------------ filters, paging

subtest 'with a filter' => sub {
    is_deeply(search('東京', filter => 'closed'), [], 'not closed yet');
    is_deeply(search('東京', filter => 'unanswered'), [$tokyo],
              'unanswered');
    agent(POST => "conversations/$tokyo/close", {});
    is_deeply(search('東京', filter => 'closed'), [$tokyo], 'closed');
    is_deeply(search('東京', filter => 'open'), [], 'no longer open');
    is_deeply(search('parcel', filter => 'unanswered'), [],
              'answered last by the operator');
};

subtest 'paging a search' => sub {
    my @k = map { scalar open_conversation("kumquat number $_") } 1 .. 25;
    my @r = map { scalar open_conversation("rambutan $_") } 1 .. 3;
    my %at = map { $_ => redis_cmd($redis, 'ZSCORE', "chatport:{$SA}:convs",
                                   $_) } @k;
    my @newest = sort { $at{$b} <=> $at{$a} || $b cmp $a } @k;
    for my $limit (1, 7, 10, 100) {
        my (@ids, $cursor, %seen);
        for (1 .. 50) {
            my $res = agent(GET => "conversations?q=kumquat&limit=$limit"
                                   . (defined $cursor ? "&before=$cursor"
                                                      : ''));
            push @ids, map { $_->{id} } @{ $res->{json}{conversations} };
            $cursor = $res->{json}{cursor};
            last unless defined $cursor;
        }
        my @dups = grep { $seen{$_}++ } @ids;
        is_deeply(\@dups, [], "limit $limit: none repeated");
        is_deeply([ sort @ids ], [ sort @k ], "limit $limit: all 25");
        is_deeply(\@ids, \@newest, "limit $limit: newest first");
    }
    is_deeply(search('rambutan', limit => 1), [ sort @r ],
              'a rare word a page of one at a time');
};

# ------------------------------------------------------ expiry, keys

subtest 'index keys expire with the conversations' => sub {
    my $meta = "chatport:{$SA}:conv:$order";
    my $at = redis_cmd($redis, 'PEXPIRETIME', $meta);
    ok($at > 0, 'the conversation expires');
    is(redis_cmd($redis, 'PEXPIRETIME', "$meta:terms"), $at,
       'its terms set with it');
    my $terms = redis_cmd($redis, 'SMEMBERS', "$meta:terms");
    ok((grep { $_ eq 'tracking' } @$terms), 'the terms set lists its words');
    my $idx = "chatport:{$SA}:idx:tracking";
    is(redis_cmd($redis, 'ZSCORE', $idx, $order), $at,
       'an idx entry scored with the expiry');
    ok(redis_cmd($redis, 'PEXPIRETIME', $idx) >= $at,
       'the idx key lives as long');
    my @bare = grep { redis_cmd($redis, 'PTTL', $_) < 0 }
               @{ redis_cmd($redis, 'KEYS', "chatport:{$SA}:idx:*") };
    is_deeply(\@bare, [], 'no idx key without an expiry');
};

subtest 'expired conversations leave the index when met' => sub {
    my $gone = open_conversation('zeppelin flight');
    my $late = open_conversation('zeppelin museum');
    is_deeply(search('zeppelin'), [ sort $gone, $late ], 'both found');
    # as Redis expires them: the keys go, the list drops it
    redis_cmd($redis, 'DEL', "chatport:{$SA}:conv:$gone",
              "chatport:{$SA}:conv:$gone:msgs",
              "chatport:{$SA}:conv:$gone:terms");
    redis_cmd($redis, 'ZREM', "chatport:{$SA}:convs", $gone);
    is_deeply(search('zeppelin'), [$late], 'the expired one is not found');
    is(redis_cmd($redis, 'ZSCORE', "chatport:{$SA}:idx:zeppelin", $gone),
       undef, 'and its idx entry is gone');
    # an entry whose expiry has passed is trimmed
    redis_cmd($redis, 'ZADD', "chatport:{$SA}:idx:museum", 1000, $late);
    is_deeply(search('museum'), [], 'an entry past its expiry: not found');
    is(redis_cmd($redis, 'EXISTS', "chatport:{$SA}:idx:museum"), 0,
       '... trimmed, the empty key gone');
};

# ----------------------------------------------------- bad queries, sites

subtest 'bad queries: 400 JSON' => sub {
    for my $q ('a', '本', '!!', 'x' x 201,
               join(' ', map { "word$_" } 1 .. 17)) {
        my $res = agent(GET => 'conversations?q=' . esc($q));
        is($res->{status}, 400, "q=" . substr($q, 0, 20) . ': 400');
        is($res->{json} && $res->{json}{error}, 'invalid_query',
           '... invalid_query');
    }
    my $res = agent(GET => 'conversations?q=' . esc(join ' ', map { "word$_" }
                                                         1 .. 16));
    is($res->{status}, 200, '16 terms: 200');
    $res = agent(GET => 'conversations?q=+');
    is($res->{status}, 200, 'a blank query is none');
    ok(@{ $res->{json}{conversations} } > 30, '... all listed');
};

subtest 'sites apart' => sub {
    my $b = open_conversation('東京の店舗 tracking', port => $port_b);
    is_deeply(search('東京', port => $port_b), [$b], 'site B finds its own');
    is_deeply(search('tracking', port => $port_b), [$b], '... only');
    is_deeply(search('東京'), [$tokyo], 'site A never finds it');
    ok(redis_cmd($redis, 'EXISTS', "chatport:{$SB}:idx:tracking"),
       'site B\'s index under its own tag');
};

is_deeply([ $ngx->bad_lines(0) ], [], 'no alert or crash in the error log');

$ngx->stop;
clean();

done_testing();
