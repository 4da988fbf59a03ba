# Contact forms' state, shared by the operators: GET A forms answers each
# form's "state" ("new" until an operator marks it "done") and its
# "conversation", and "new", how many of the kept forms are new. Two
# operators: alice marks a form done with POST A forms/ID/state, bob's
# parked inbox poll hears a "form_state" event and his GET A forms shows
# it done; back to new the same way. The set of done forms expires with
# the forms. Every bad input a JSON error.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(sleep);

use lib 't/lib';
use ChatPort::Harness;

require_env();

my $site = "t135-$$";
my $rport = shared_redis_port();
my ($htpasswd, $auth) = operators(alice => 'secret', bob => 'secret');
my %AUTH = %$auth;

my $ngx = start_nginx(workers => 2, server => <<"_EOC_");
        chatport_site $site;
        chatport_form_rate 1000/1m;

        location /chatport/agent/ {
            chatport_agent;
            auth_basic "ops";
            auth_basic_user_file $htpasswd;
            chatport_poll_timeout 10s;
        }

        location /chatport/ {
            chatport;
        }
_EOC_

my $port = $ngx->port;

sub agent {
    my ($who, $method, $path, %o) = @_;
    return http_request(port => $port, method => $method,
                        path => "/chatport/agent/$path",
                        headers => { Authorization => $AUTH{$who},
                                     %{ $o{headers} || {} } },
                        (exists $o{body} ? (body => $o{body}) : ()),
                        timeout => 20);
}

sub is_error {
    my ($res, $status, $code, $what) = @_;
    is($res->{status}, $status, "$what: $status") or diag explain $res;
    is($res->{json} && $res->{json}{error}, $code, "$what: \"$code\"");
    like($res->{headers}{'content-type'} // '', qr{^application/json},
         "$what: JSON");
}

sub forms_of {
    my ($who) = @_;
    my $res = agent($who, GET => 'forms');
    is($res->{status}, 200, "GET A forms as $who") or diag explain $res;
    return $res->{json} || {};
}

sub state_of {
    my ($j, $id) = @_;
    my ($f) = grep { $_->{id} eq $id } @{ $j->{forms} || [] };
    return $f && $f->{state};
}

# bob's poll, parked after the latest event
sub park_poll {
    my $last = redis_cmd($rport, 'XREVRANGE', "chatport:{$site}:inbox",
                         '+', '-', 'COUNT', 1)->[0][0];
    my $b = open_requests([ { port => $port, method => 'GET',
                              path => "/chatport/agent/poll?after=$last",
                              headers => { Authorization => $AUTH{bob} } }
                          ]);
    sleep 0.5;
    return $b;
}

my $v = visitor(port => $port);
my $res = $v->absorb(http_request(port => $port, method => 'POST',
                                  path => '/chatport/form',
                                  body => { email => 'a@shop.test',
                                            message => 'please call' }));
is($res->{status}, 201, 'a form sent') or diag explain $res;
my $id = $res->{json}{id};
my $cid = cid_of($v->vid);

$res = $v->absorb(http_request(port => $port, method => 'POST',
                               path => '/chatport/form',
                               body => { email => 'b@shop.test',
                                         message => 'another' }));
my $other = $res->{json}{id};

subtest 'new forms' => sub {
    my $j = forms_of('bob');
    is(state_of($j, $id), 'new', 'a form is new');
    my ($f) = grep { $_->{id} eq $id } @{ $j->{forms} || [] };
    is($f->{conversation}, $cid, 'with its conversation');
    is($j->{new}, 2, 'two new forms');
};

subtest 'alice marks it done, bob sees it' => sub {
    my $poll = park_poll();
    my $res = agent(alice => POST => "forms/$id/state",
                    body => { state => 'done' });
    is($res->{status}, 204, 'marked done: 204') or diag explain $res;

    my $got = $poll->collect(timeout => 15)->[0];
    is($got->{status}, 200, 'bob\'s poll answers');
    my ($ev) = grep { $_->{type} eq 'form_state' }
               @{ $got->{json}{events} || [] };
    is_deeply({ map { $_ => $ev->{$_} }
                qw(form state conversation operator) },
              { form => $id, state => 'done', conversation => $cid,
                operator => 'alice' }, 'with a "form_state" event')
        or diag explain $got;

    my $j = forms_of('bob');
    is(state_of($j, $id), 'done', 'bob\'s list has it done');
    is(state_of($j, $other), 'new', 'the other is still new');
    is($j->{new}, 1, 'one new form');

    $res = agent(alice => POST => "forms/$id/state",
                 body => { state => 'done' });
    is($res->{status}, 204, 'done again: 204');
    is(forms_of('bob')->{new}, 1, 'still one new form');

    my $ttl = redis_cmd($rport, 'PTTL', "chatport:{$site}:forms-done");
    ok($ttl > 0, "the done forms expire (in $ttl ms)");
};

subtest 'bob marks it new again, alice sees it' => sub {
    my $res = agent(bob => POST => "forms/$id/state",
                    body => { state => 'new' });
    is($res->{status}, 204, 'marked new: 204') or diag explain $res;
    my $j = forms_of('alice');
    is(state_of($j, $id), 'new', 'alice\'s list has it new');
    is($j->{new}, 2, 'two new forms');
    my $events = agent(alice => GET => 'poll?after=0-0')->{json}{events};
    my @states = map { $_->{state} }
                 grep { $_->{type} eq 'form_state' } @{ $events || [] };
    is_deeply(\@states, [qw(done done new)], 'the inbox has the changes');
};

subtest 'bad inputs' => sub {
    is_error(agent(alice => POST => "forms/$id/state",
                   body => { state => 'closed' }),
             400, 'invalid_state', 'an unknown state');
    is_error(agent(alice => POST => "forms/$id/state", body => {}),
             400, 'invalid_state', 'no state');
    is_error(agent(alice => POST => "forms/$id/state",
                   body => { state => 1 }),
             400, 'invalid_state', 'a number');
    is_error(agent(alice => POST => "forms/$id/state", body => '{"state":'),
             400, 'invalid_json', 'not JSON');
    is_error(agent(alice => POST => "forms/$id/state", body => 'state=done',
                   headers => { 'Content-Type' => 'text/plain' }),
             415, 'unsupported_media_type', 'not JSON\'s type');
    is_error(agent(alice => POST => 'forms/1-0/state',
                   body => { state => 'done' }),
             404, 'unknown_form', 'an unknown form');
    is_error(agent(alice => POST => 'forms/abc/state',
                   body => { state => 'done' }),
             404, 'unknown_form', 'not a form id');
    is_error(agent(alice => GET => "forms/$id/state"), 405,
             'method_not_allowed', 'GET');
    is_error(agent(alice => GET => 'forms?after=x'), 400, 'invalid_cursor',
             'GET A forms with a bad cursor');
    is(forms_of('alice')->{new}, 2, 'nothing changed');
};

redis_cmd($rport, 'DEL', map { "chatport:{$site}:$_" }
                         qw(forms forms-done inbox convs));

done_testing();
