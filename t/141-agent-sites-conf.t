# chatport_agent_sites at nginx -t: the good forms (the list is served:
# the session names it) and each bad one (a name chatport_site would
# refuse, a name twice, the directive twice, another context, a location
# without chatport_agent, no name) refused with a message naming it.
#
# htpasswd entry: second / plain-pw ({PLAIN}).

use Test::Nginx::Socket 'no_plan';
use lib 't/lib';
use ChatPort::ErrorLog;

add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->http_config) {
        $block->set_value("http_config",
                          "    chatport_redis 127.0.0.1:\$TEST_NGINX_REDIS_PORT;\n");
    }

    if (!defined $block->user_files) {
        $block->set_value("user_files", <<'_EOC_');
>>> htpasswd
second:{PLAIN}plain-pw
_EOC_
    }
});

no_shuffle();

run_tests();

__DATA__

=== TEST 1: two sites: the session lists them, about the first without "site"
--- config
    chatport_site own.test;

    location /chatport/agent/ {
        auth_basic "ops";
        auth_basic_user_file ../html/htpasswd;
        chatport_agent;
        chatport_agent_sites a.test b_2-x;
    }
--- request
GET /chatport/agent/session
--- more_headers
Authorization: Basic c2Vjb25kOnBsYWluLXB3
--- error_code: 200
--- response_body_like chomp
^\{"operator":"second","site":"a\.test","sites":\["a\.test","b_2-x"\],"lang":
--- no_error_log
[error]



=== TEST 2: "site" names the second
--- config
    chatport_site own.test;

    location /chatport/agent/ {
        auth_basic "ops";
        auth_basic_user_file ../html/htpasswd;
        chatport_agent;
        chatport_agent_sites a.test b_2-x;
    }
--- request
GET /chatport/agent/session?site=b_2-x
--- more_headers
Authorization: Basic c2Vjb25kOnBsYWluLXB3
--- error_code: 200
--- response_body_like chomp
^\{"operator":"second","site":"b_2-x","sites":\["a\.test","b_2-x"\],
--- no_error_log
[error]



=== TEST 3: the server's own site is not listed: refused
--- config
    chatport_site own.test;

    location /chatport/agent/ {
        auth_basic "ops";
        auth_basic_user_file ../html/htpasswd;
        chatport_agent;
        chatport_agent_sites a.test b_2-x;
    }
--- request
GET /chatport/agent/session?site=own.test
--- more_headers
Authorization: Basic c2Vjb25kOnBsYWluLXB3
--- error_code: 400
--- response_body
{"error":"invalid_site","message":"\"site\" is not a site of this console"}
--- no_error_log
[error]



=== TEST 4: a conversation without "site": refused
--- config
    chatport_site own.test;

    location /chatport/agent/ {
        auth_basic "ops";
        auth_basic_user_file ../html/htpasswd;
        chatport_agent;
        chatport_agent_sites a.test b_2-x;
    }
--- request
GET /chatport/agent/conversations/0123456789abcdef0123456789abcdef/messages
--- more_headers
Authorization: Basic c2Vjb25kOnBsYWluLXB3
--- error_code: 400
--- response_body
{"error":"invalid_site","message":"name the site of this request with \"site\""}
--- no_error_log
[error]



=== TEST 5: the directive before chatport_agent in the location
--- config
    chatport_site own.test;

    location /chatport/agent/ {
        chatport_agent_sites a.test;
        auth_basic "ops";
        auth_basic_user_file ../html/htpasswd;
        chatport_agent;
    }
--- request
GET /chatport/agent/session
--- more_headers
Authorization: Basic c2Vjb25kOnBsYWluLXB3
--- error_code: 200
--- response_body_like chomp
"site":"a\.test","sites":\["a\.test"\],
--- no_error_log
[error]



=== TEST 6: without the directive: the server's site, "site" may name it only
--- config
    chatport_site own.test;

    location /chatport/agent/ {
        auth_basic "ops";
        auth_basic_user_file ../html/htpasswd;
        chatport_agent;
    }
--- request
GET /chatport/agent/session?site=a.test
--- more_headers
Authorization: Basic c2Vjb25kOnBsYWluLXB3
--- error_code: 400
--- response_body
{"error":"invalid_site","message":"\"site\" is not a site of this console"}
--- no_error_log
[error]



=== TEST 6b: a location nested in one with the list does not inherit it
--- config
    chatport_site own.test;

    location /chatport/agent/ {
        auth_basic "ops";
        auth_basic_user_file ../html/htpasswd;
        chatport_agent;
        chatport_agent_sites a.test b_2-x;

        location /chatport/agent/inner/ {
            chatport_agent;
        }
    }
--- request
GET /chatport/agent/inner/session?site=a.test
--- more_headers
Authorization: Basic c2Vjb25kOnBsYWluLXB3
--- error_code: 400
--- response_body
{"error":"invalid_site","message":"\"site\" is not a site of this console"}
--- no_error_log
[error]


=== TEST 7: a name chatport_site refuses
--- config
    location /chatport/agent/ {
        auth_basic "ops";
        auth_basic_user_file ../html/htpasswd;
        chatport_agent;
        chatport_agent_sites a.test a/b;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid site "a/b" in "chatport_agent_sites" directive, it must be 1 to 64 of A-Z a-z 0-9 . _ -



=== TEST 8: a name of 65 characters
--- config
    location /chatport/agent/ {
        auth_basic "ops";
        auth_basic_user_file ../html/htpasswd;
        chatport_agent;
        chatport_agent_sites xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid site "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" in "chatport_agent_sites" directive



=== TEST 9: an empty name
--- config
    location /chatport/agent/ {
        auth_basic "ops";
        auth_basic_user_file ../html/htpasswd;
        chatport_agent;
        chatport_agent_sites a.test "";
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid site "" in "chatport_agent_sites" directive



=== TEST 10: a name twice
--- config
    location /chatport/agent/ {
        auth_basic "ops";
        auth_basic_user_file ../html/htpasswd;
        chatport_agent;
        chatport_agent_sites a.test b.test a.test;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
site "a.test" is listed twice in "chatport_agent_sites" directive



=== TEST 11: the directive twice
--- config
    location /chatport/agent/ {
        auth_basic "ops";
        auth_basic_user_file ../html/htpasswd;
        chatport_agent;
        chatport_agent_sites a.test;
        chatport_agent_sites b.test;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
"chatport_agent_sites" directive is duplicate



=== TEST 12: in server context
--- config
    chatport_agent_sites a.test;

    location /chatport/agent/ {
        auth_basic "ops";
        auth_basic_user_file ../html/htpasswd;
        chatport_agent;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
"chatport_agent_sites" directive is not allowed here



=== TEST 13: in a location without chatport_agent
--- config
    location /chatport/ {
        chatport;
        chatport_agent_sites a.test;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
"chatport_agent_sites" needs "chatport_agent" in the same location



=== TEST 14: without a name
--- config
    location /chatport/agent/ {
        auth_basic "ops";
        auth_basic_user_file ../html/htpasswd;
        chatport_agent;
        chatport_agent_sites;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid number of arguments in "chatport_agent_sites" directive
