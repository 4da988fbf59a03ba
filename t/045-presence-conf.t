# chatport_presence_grace is validated like every time directive, and the
# presence endpoints' shapes request by request: GET A operators on a site
# nobody used, its methods, config without max-age. The flows with held
# polls are in t/044-presence.t.

use Test::Nginx::Socket 'no_plan';
use lib 't/lib';
use ChatPort::ErrorLog;

no_shuffle();

run_tests();

__DATA__

=== TEST 1: chatport_presence_grace 0 (location)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_presence_grace 0;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "0" in "chatport_presence_grace" directive



=== TEST 2: chatport_presence_grace 10x (http)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_presence_grace 10x;
--- config
    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "10x" in "chatport_presence_grace" directive



=== TEST 3: duplicate chatport_presence_grace
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    chatport_presence_grace 1s;
    chatport_presence_grace 2s;

    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
"chatport_presence_grace" directive is duplicate



=== TEST 4: the grace set at the server level reaches the session
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    chatport_site t045-grace;
    chatport_presence_grace 2m;

    location /chatport/agent/ {
        chatport_agent;
        auth_basic "ops";
        auth_basic_user_file $TEST_NGINX_SERVER_ROOT/html/htpasswd;
    }
--- user_files
>>> htpasswd
alice:{PLAIN}secret
--- request
GET /chatport/agent/session
--- more_headers
Authorization: Basic YWxpY2U6c2VjcmV0
--- response_body_like: "status":"away","available":false,"hours_open":true,"presence_grace":120\}\n\z
--- no_error_log
[error]



=== TEST 5: GET A operators on a site nobody used: an empty list
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    chatport_site t045-empty;

    location /chatport/agent/ {
        chatport_agent;
        auth_basic "ops";
        auth_basic_user_file $TEST_NGINX_SERVER_ROOT/html/htpasswd;
    }
--- user_files
>>> htpasswd
alice:{PLAIN}secret
--- request
GET /chatport/agent/operators
--- more_headers
Authorization: Basic YWxpY2U6c2VjcmV0
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body
{"operators":[]}
--- no_error_log
[error]



=== TEST 6: GET A operators: a status set is listed; POST is 405 with Allow
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    chatport_site t045-list;

    location /chatport/agent/ {
        chatport_agent;
        auth_basic "ops";
        auth_basic_user_file $TEST_NGINX_SERVER_ROOT/html/htpasswd;
    }
--- user_files
>>> htpasswd
alice:{PLAIN}secret
--- request eval
["POST /chatport/agent/presence\n{\"status\":\"online\"}",
 "GET /chatport/agent/operators",
 "POST /chatport/agent/operators\n{}"]
--- more_headers
Authorization: Basic YWxpY2U6c2VjcmV0
Content-Type: application/json
Origin: http://localhost
--- error_code eval
[204, 200, 405]
--- response_body_like eval
["^\\z",
 qr/^\{"operators":\[\{"name":"alice","status":"online","available":false,"connected":false,"last_seen":null\}\]\}\n\z/,
 qr/"error":"method_not_allowed"/]
--- no_error_log
[error]



=== TEST 7: config is never cached by max-age
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- response_headers
Cache-Control: no-cache
--- response_body_like: "online":false
--- no_error_log
[error]
