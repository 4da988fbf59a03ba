# GET A conversations pages through every conversation of a site with a
# cursor: 230 conversations (ties of the same millisecond, one run of 120
# longer than a batch) read a page at a time while visitors open new ones
# and an operator answers an old one between pages: none repeated, none
# missed but the one that moved before the cursor (it is on a fresh first
# page). The filters open, closed, unanswered and mine (by the operator's
# login) against the conversations' metadata, "claimed" in the answer,
# conversations gone from Redis dropped from the index, bad arguments
# answered 400 JSON, and another site's conversations never listed.

use strict;
use warnings;

use Test::More;

use lib 't/lib';
use ChatPort::Harness;

require_env();

my $redis = shared_redis_port();
my ($SA, $SB) = ('t130a', 't130b');

sub clean {
    for my $site ($SA, $SB) {
        my $keys = redis_cmd($redis, 'KEYS', "chatport:{$site}:*");
        redis_cmd($redis, 'DEL', @$keys) if ref $keys && @$keys;
    }
}

clean();

my ($htpasswd, $auth) = operators(alice => 'secret', bob => 'pw');
my %AUTH = %$auth;

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
    my ($port, $method, $path, $body, %o) = @_;
    return http_request(port => $port, method => $method,
                        path => "/chatport/agent/$path",
                        headers => { Authorization => $AUTH{ $o{user}
                                                             || 'alice' } },
                        (defined $body ? (body => $body) : ()));
}

sub list {
    my ($query, %o) = @_;
    return agent($o{port} || $pa, GET => "conversations$query", undef, %o);
}

# a new visitor's conversation, by HTTP: its CID
sub open_conversation {
    my ($port, $text) = @_;
    my $v = visitor(port => $port);
    my $res = $v->post($text);
    die "post: $res->{status}" unless $res->{status} == 201;
    return cid_of($v->vid);
}

# every page of a listing: (ids in order, pages); $between runs between
# pages
sub all_pages {
    my ($query, $between, %o) = @_;
    my (@ids, $cursor, $pages);
    for (1 .. 100) {
        my $res = list("?$query" . (defined $cursor ? "&before=$cursor" : ''),
                       %o);
        die "list: $res->{status} $res->{body}" unless $res->{status} == 200;
        $pages++;
        push @ids, map { $_->{id} } @{ $res->{json}{conversations} };
        $cursor = $res->{json}{cursor};
        last unless defined $cursor;
        $between->() if $between;
    }
    return (\@ids, $pages);
}

# ------------------------------------------------- 230 conversations

# scores: 22 runs of 5 conversations of the same millisecond, then 120
# of one millisecond (more than a batch of the script), all in the past
my $now = int(time * 1000);
my (@seeded, %meta);
my $n = 0;

sub seed {
    my ($score) = @_;
    my $cid = sprintf '%08x%08x%08x%08x', map { int rand 2**32 } 1 .. 4;
    my %f = (cid => $cid, status => $n % 3 == 0 ? 'closed' : 'open',
             created => $score, updated => $score,
             last => "$score-1", unread => 0);
    $f{last_agent} = "$score-1" if $n % 2;
    $f{claimed} = $n % 4 == 0 ? 'alice' : 'bob' if $n % 4 < 2;
    my $key = "chatport:{$SA}:conv:$cid";
    redis_cmd($redis, 'HSET', $key, %f);
    redis_cmd($redis, 'PEXPIRE', $key, 600000);
    redis_cmd($redis, 'ZADD', "chatport:{$SA}:convs", $score, $cid);
    push @seeded, $cid;
    $meta{$cid} = \%f;
    $n++;
}

for my $run (0 .. 21) {
    seed($now - 3_600_000 + $run * 1000) for 1 .. 5;
}
seed($now - 7_200_000) for 1 .. 120;
redis_cmd($redis, 'PEXPIRE', "chatport:{$SA}:convs", 600000);

is(scalar @seeded, 230, '230 conversations seeded');

# the strict order: updated, then CID, both descending
my @order = sort { $meta{$b}{updated} <=> $meta{$a}{updated} || $b cmp $a }
            @seeded;

subtest 'one page of all of them, in order' => sub {
    my $res = list('?limit=100');
    is($res->{status}, 200, 'listed');
    my @got = map { $_->{id} } @{ $res->{json}{conversations} };
    is_deeply(\@got, [ @order[0 .. 99] ], 'the 100 newest, in order');
    like($res->{json}{cursor}, qr/^\d+-[0-9a-f]{32}$/, 'a cursor');

    my ($c) = grep { $_->{id} eq $order[0] } @{ $res->{json}{conversations} };
    if ($meta{ $order[0] }{claimed}) {
        is($c->{claimed}, $meta{ $order[0] }{claimed}, '"claimed" shown');
    } else {
        ok(!exists $c->{claimed}, 'no "claimed" when nobody has it');
    }
    my @claimed = grep { exists $_->{claimed} }
                  @{ $res->{json}{conversations} };
    is(scalar @claimed,
       scalar(grep { $meta{$_}{claimed} } @order[0 .. 99]),
       'each claimed conversation says who has it');
    ok(exists $c->{$_}, "\"$_\" still there")
        for qw(id status created updated unread page email name seen);

    $res = list('');
    is(scalar @{ $res->{json}{conversations} }, 50, 'default limit: 50');
};

subtest 'paging while conversations arrive and move' => sub {
    my (@new, $moved, $k);
    my ($ids, $pages) = all_pages('limit=17', sub {
        $k++;
        push @new, open_conversation($pa, "new one $k");
        # once, an operator answers a conversation not read yet: it moves
        # before the cursor
        if ($k == 3) {
            $moved = $order[-1];
            my $res = agent($pa, POST => "conversations/$moved/messages",
                            { text => 'an answer' });
            is($res->{status}, 201, 'an operator answers an old one');
        }
    });
    my %seen;
    my @dups = grep { $seen{$_}++ } @$ids;
    is_deeply(\@dups, [], 'no conversation repeated');
    is_deeply($ids, [ grep { $_ ne $moved } @order ],
              'every conversation once, in order, but the moved one');
    ok(!(grep { my $x = $_; grep { $_ eq $x } @new } @$ids),
       'none of those that arrived while paging');
    is($pages, 14, '14 pages of 17 (the last has 9)');

    my $res = list('?limit=100');
    my @top = map { $_->{id} } @{ $res->{json}{conversations} };
    is_deeply([ sort @top[0 .. @new] ], [ sort @new, $moved ],
              'the new ones and the answered one lead a fresh page');
    $meta{$moved}{status} = 'open';
};

# ------------------------------------------------------------- filters

# what each filter should answer, from the metadata in Redis
sub expected {
    my ($filter, $user) = @_;
    my $ids = redis_cmd($redis, 'ZREVRANGE', "chatport:{$SA}:convs", 0, -1);
    my @want;
    for my $cid (@$ids) {
        my %f = @{ redis_cmd($redis, 'HGETALL', "chatport:{$SA}:conv:$cid") };
        next unless %f;
        my $ok = $filter eq 'open' ? $f{status} eq 'open'
               : $filter eq 'closed' ? $f{status} eq 'closed'
               : $filter eq 'unanswered'
                 ? $f{status} eq 'open'
                   && ($f{last} // '') ne ($f{last_agent} // '')
               : ($f{claimed} // '') eq $user;
        push @want, [ $f{updated}, $cid ] if $ok;
    }
    return [ map { $_->[1] }
             sort { $b->[0] <=> $a->[0] || $b->[1] cmp $a->[1] } @want ];
}

for my $filter (qw(open closed unanswered mine)) {
    for my $user ($filter eq 'mine' ? qw(alice bob) : 'alice') {
        subtest "filter=$filter ($user)" => sub {
            my $want = expected($filter, $user);
            ok(@$want > 10, scalar(@$want) . ' expected');
            my ($ids) = all_pages("filter=$filter&limit=30", undef,
                                  user => $user);
            is_deeply($ids, $want, 'exactly those, in order');
        };
    }
}

subtest 'the visitor\'s and the operator\'s last word' => sub {
    my $cid = open_conversation($pa, 'is anyone there?');
    my ($ids) = all_pages('filter=unanswered&limit=100');
    ok((grep { $_ eq $cid } @$ids), 'a visitor\'s question: unanswered');
    agent($pa, POST => "conversations/$cid/messages", { text => 'yes' });
    ($ids) = all_pages('filter=unanswered&limit=100');
    ok(!(grep { $_ eq $cid } @$ids), 'answered: no longer');
    agent($pa, POST => "conversations/$cid/close", {});
    ($ids) = all_pages('filter=closed&limit=100');
    ok((grep { $_ eq $cid } @$ids), 'closed');
};

# ------------------------------------------------ gone from Redis, bad input

subtest 'a conversation gone from Redis leaves the list' => sub {
    my $gone = $order[5];
    redis_cmd($redis, 'DEL', "chatport:{$SA}:conv:$gone");
    my ($ids) = all_pages('limit=100');
    ok(!(grep { $_ eq $gone } @$ids), 'not listed');
    is(redis_cmd($redis, 'ZSCORE', "chatport:{$SA}:convs", $gone), undef,
       'and dropped from the index once met');
};

subtest 'bad arguments: 400 JSON' => sub {
    my @bad = (['limit=0', 'invalid_limit'], ['limit=101', 'invalid_limit'],
               ['limit=abc', 'invalid_limit'], ['limit=-1', 'invalid_limit'],
               ['before=abc', 'invalid_cursor'],
               ['before=123-xyz', 'invalid_cursor'],
               ['before=-' . ('a' x 32), 'invalid_cursor'],
               ['before=12-' . ('a' x 31), 'invalid_cursor'],
               ['before=12-' . ('A' x 32), 'invalid_cursor'],
               ['filter=foo', 'invalid_filter'],
               ['filter=OPEN', 'invalid_filter'],
               ['q=' . ('a' x 201), 'invalid_query'],
               ['q=%FF%FE', 'invalid_query'],
               ['q=a', 'invalid_query']);
    for my $b (@bad) {
        my $res = list("?$b->[0]");
        is($res->{status}, 400, "$b->[0]: 400");
        is($res->{json} && $res->{json}{error}, $b->[1], "... $b->[1]");
        ok($res->{json} && $res->{json}{message}, '... with a message');
    }
    my $res = list('?limit=100&before=1-' . ('0' x 32));
    is($res->{status}, 200, 'a cursor before everything: 200');
    is_deeply($res->{json}{conversations}, [], '... nothing');
    is($res->{json}{cursor}, undef, '... cursor null');
    $res = list('?limit=1&filter=');
    is($res->{status}, 200, 'an empty filter is none');
};

subtest 'sites apart' => sub {
    my @b = map { open_conversation($port_b, "site b $_") } 1 .. 3;
    my ($ids) = all_pages('limit=100', undef, port => $port_b);
    is_deeply([ sort @$ids ], [ sort @b ], 'site B lists its own three');
    ($ids) = all_pages('limit=100');
    ok(!(grep { my $x = $_; grep { $_ eq $x } @b } @$ids),
       'site A lists none of them');
};

is_deeply([ $ngx->bad_lines(0) ], [], 'no alert or crash in the error log');

$ngx->stop;
clean();

done_testing();
