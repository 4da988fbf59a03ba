# The chatport_agent location: the operator is nginx's $remote_user, so the
# module serves nothing unless a login (auth_basic, auth_request) protects it.
#
# htpasswd entries: operator / s3cret-pw (apr1, from `openssl passwd -apr1`)
# and second / plain-pw ({PLAIN}).

use Test::Nginx::Socket 'no_plan';
use lib 't/lib';
use ChatPort::ErrorLog;

# every block talks to the test Redis unless it says otherwise
add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->http_config) {
        $block->set_value("http_config",
                          "    chatport_redis 127.0.0.1:\$TEST_NGINX_REDIS_PORT;\n");
    }

    if (!defined $block->user_files) {
        $block->set_value("user_files", <<'_EOC_');
>>> htpasswd
operator:$apr1$Xy7mQ2pL$NH1AO0FkZImUSZXlQV.Kt/
second:{PLAIN}plain-pw
_EOC_
    }
});

no_shuffle();

run_tests();

__DATA__

=== TEST 1: an unprotected operator location answers 403 not_protected and says why in the log
--- config
    location /chatport/agent/ {
        chatport_agent;
    }
--- request
GET /chatport/agent/conversations
--- error_code: 403
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body
{"error":"not_protected","message":"the operator console is not protected by a login"}
--- error_log
protect the "chatport_agent" location "/chatport/agent/" with auth_basic or auth_request



=== TEST 2: an unprotected operator location refuses every path and method
--- config
    location /ops/ {
        chatport_agent;
    }
--- request eval
["GET /ops/", "POST /ops/presence\n{\"status\":\"online\"}", "GET /ops/nope"]
--- error_code eval
[403, 403, 403]
--- response_body eval
[qr/^\{"error":"not_protected","message":"[^"]+"\}\n\z/,
 qr/^\{"error":"not_protected","message":"[^"]+"\}\n\z/,
 qr/^\{"error":"not_protected","message":"[^"]+"\}\n\z/]
--- error_log
protect the "chatport_agent" location "/ops/"



=== TEST 3: credentials sent by the client do not open an unprotected operator location
--- config
    location /chatport/agent/ {
        chatport_agent;
    }
--- request
GET /chatport/agent/nope
--- more_headers
Authorization: Basic aW50cnVkZXI6eA==
--- error_code: 403
--- response_body
{"error":"not_protected","message":"the operator console is not protected by a login"}
--- error_log
protect the "chatport_agent" location "/chatport/agent/"



=== TEST 4: "auth_basic off" leaves the location unprotected
--- config
    auth_basic "ChatPort operators";
    auth_basic_user_file ../html/htpasswd;

    location /chatport/agent/ {
        auth_basic off;
        chatport_agent;
    }
--- request
GET /chatport/agent/nope
--- error_code: 403
--- response_body_like: ^\{"error":"not_protected",
--- error_log
protect the "chatport_agent" location



=== TEST 5: auth_basic with the right credentials reaches the module (unknown path: 404 JSON)
--- config
    location /chatport/agent/ {
        auth_basic "ChatPort operators";
        auth_basic_user_file ../html/htpasswd;
        chatport_agent;
    }
--- request
GET /chatport/agent/nope
--- more_headers
Authorization: Basic b3BlcmF0b3I6czNjcmV0LXB3
--- error_code: 404
--- response_headers
Content-Type: application/json; charset=utf-8
!WWW-Authenticate
--- response_body
{"error":"not_found","message":"no such endpoint"}
--- no_error_log
[error]



=== TEST 6: a {PLAIN} htpasswd entry works the same
--- config
    location /chatport/agent/ {
        auth_basic "ChatPort operators";
        auth_basic_user_file ../html/htpasswd;
        chatport_agent;
    }
--- request
GET /chatport/agent/nope
--- more_headers
Authorization: Basic c2Vjb25kOnBsYWluLXB3
--- error_code: 404
--- response_body
{"error":"not_found","message":"no such endpoint"}
--- no_error_log
[error]



=== TEST 7: a wrong password gets nginx's own 401 (as JSON), the module is not reached
--- config
    location /chatport/agent/ {
        auth_basic "ChatPort operators";
        auth_basic_user_file ../html/htpasswd;
        chatport_agent;
    }
--- request
GET /chatport/agent/nope
--- more_headers
Authorization: Basic b3BlcmF0b3I6d3Jvbmc=
--- error_code: 401
--- response_headers
WWW-Authenticate: Basic realm="ChatPort operators"
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"unauthorized",
--- error_log
user "operator": password mismatch
--- no_error_log
protect the



=== TEST 8: no credentials at all: nginx's 401, as JSON
--- config
    location /chatport/agent/ {
        auth_basic "ChatPort operators";
        auth_basic_user_file ../html/htpasswd;
        chatport_agent;
    }
--- request
GET /chatport/agent/
--- error_code: 401
--- response_headers
WWW-Authenticate: Basic realm="ChatPort operators"
--- response_body_like: ^\{"error":"unauthorized",
--- no_error_log
protect the
[error]



=== TEST 9: auth_basic inherited from the server level protects the location
--- config
    auth_basic "ChatPort operators";
    auth_basic_user_file ../html/htpasswd;

    location /chatport/agent/ {
        chatport_agent;
    }
--- request eval
["GET /chatport/agent/nope", "GET /chatport/agent/nope"]
--- more_headers eval
["Authorization: Basic b3BlcmF0b3I6czNjcmV0LXB3", ""]
--- error_code eval
[404, 401]
--- response_body_like eval
[qr/^\{"error":"not_found","message":"no such endpoint"\}\n\z/,
 qr/^\{"error":"unauthorized",/]
--- no_error_log
protect the



=== TEST 10: auth_request that checks the Basic credentials also protects it
--- config
    location = /_auth {
        internal;

        if ($http_authorization = "Basic b3BlcmF0b3I6czNjcmV0LXB3") {
            return 204;
        }

        return 401;
    }

    location /chatport/agent/ {
        auth_request /_auth;
        chatport_agent;
    }
--- request eval
["GET /chatport/agent/nope", "GET /chatport/agent/nope"]
--- more_headers eval
["Authorization: Basic b3BlcmF0b3I6czNjcmV0LXB3", "Authorization: Basic b3BlcmF0b3I6d3Jvbmc="]
--- error_code eval
[404, 401]
--- response_body_like eval
[qr/^\{"error":"not_found","message":"no such endpoint"\}\n\z/,
 qr/^\{"error":"unauthorized",/]
--- no_error_log
protect the
[error]



=== TEST 11: the visitor location next to the operator location is not protected
--- config
    location /chatport/ {
        chatport;
    }

    location /chatport/agent/ {
        auth_basic "ChatPort operators";
        auth_basic_user_file ../html/htpasswd;
        chatport_agent;
    }
--- request eval
["GET /chatport/config", "GET /chatport/agent/nope"]
--- error_code eval
[200, 401]
--- response_body_like eval
[qr/^\{"site":"localhost","online":false,/, qr/^\{"error":"unauthorized",/]
--- no_error_log
protect the
