# Errors that nginx itself answers below a ChatPort location are JSON too
# (SPEC "Errors"): a body over client_max_body_size, with a Content-Length
# and chunked, a malformed chunked body, a failed login, a handler's 500;
# the status and nginx's other headers stay. An error_page inherited from
# the server is not applied there; outside ChatPort nginx's pages stay HTML.

use Test::Nginx::Socket 'no_plan';
use lib 't/lib';
use ChatPort::ErrorLog;

add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->http_config) {
        $block->set_value("http_config",
                          "    chatport_redis 127.0.0.1:\$TEST_NGINX_REDIS_PORT;\n");
    }

    if (!defined $block->config) {
        $block->set_value("config", <<'_EOC_');
    error_page 400 413 500 /oops.html;

    chatport_site t012;

    location /chatport/ {
        chatport;
        client_max_body_size 100;
        chatport_chat_rate 1000/1m;
    }

    location /chatport/agent/ {
        auth_basic "ChatPort operators";
        auth_basic_user_file ../html/htpasswd;
        chatport_agent;
    }

    location /static/ {
        client_max_body_size 100;
        return 200 "static\n";
    }
_EOC_
    }

    if (!defined $block->user_files) {
        $block->set_value("user_files", <<'_EOC_');
>>> htpasswd
operator:{PLAIN}pw
>>> oops.html
<html>oops</html>
_EOC_
    }
});

no_shuffle();

run_tests();

__DATA__

=== TEST 1: a Content-Length over client_max_body_size: 413 JSON, not the HTML page
--- more_headers
Content-Type: application/json
--- request eval
"POST /chatport/messages\n{\"text\":\"" . ("x" x 200) . "\"}"
--- error_code: 413
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body
{"error":"body_too_large","message":"the request body is too large"}
--- error_log
client intended to send too large body: 211 bytes



=== TEST 2: a chunked body growing over client_max_body_size: 413 JSON
--- raw_request eval
"POST /chatport/messages HTTP/1.1\r\nHost: localhost\r\n"
. "Connection: close\r\nContent-Type: application/json\r\n"
. "Transfer-Encoding: chunked\r\n\r\n"
. "c8\r\n" . ("x" x 200) . "\r\n0\r\n\r\n"
--- error_code: 413
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body
{"error":"body_too_large","message":"the request body is too large"}



=== TEST 3: a malformed chunked body: 400 JSON
--- raw_request eval
"POST /chatport/messages HTTP/1.1\r\nHost: localhost\r\n"
. "Connection: close\r\nContent-Type: application/json\r\n"
. "Transfer-Encoding: chunked\r\n\r\n"
. "zz\r\n{}\r\n0\r\n\r\n"
--- error_code: 400
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body
{"error":"bad_request","message":"the request is malformed"}



=== TEST 4: a chunked body of the right size still works (201)
--- raw_request eval
"POST /chatport/messages HTTP/1.1\r\nHost: localhost\r\n"
. "Connection: close\r\nContent-Type: application/json\r\n"
. "Transfer-Encoding: chunked\r\n\r\n"
. "10\r\n{\"text\":\"hello\"}\r\n0\r\n\r\n"
--- error_code: 201
--- response_body_like: ^\{"id":"\d+-\d+"\}$
--- no_error_log
[error]



=== TEST 5: the operator console without a login: 401 JSON with nginx's WWW-Authenticate
--- request
GET /chatport/agent/conversations
--- error_code: 401
--- response_headers
Content-Type: application/json; charset=utf-8
WWW-Authenticate: Basic realm="ChatPort operators"
--- response_body
{"error":"unauthorized","message":"operators must log in"}



=== TEST 6: a wrong password: 401 JSON
--- request
GET /chatport/agent/conversations
--- more_headers
Authorization: Basic b3BlcmF0b3I6d3Jvbmc=
--- error_code: 401
--- response_body
{"error":"unauthorized","message":"operators must log in"}
--- error_log
password mismatch



=== TEST 7: HEAD of an nginx error: the JSON length, no body
--- request
HEAD /chatport/agent/conversations
--- error_code: 401
--- response_headers
Content-Type: application/json; charset=utf-8
Content-Length: 59
--- response_body:



=== TEST 8: outside ChatPort, nginx's own page and the server's error_page stay
--- request eval
"POST /static/x\n" . ("x" x 200)
--- error_code: 413
--- response_headers
Content-Type: text/html
--- response_body
<html>oops</html>



=== TEST 9: an error_page set in the ChatPort location itself is kept
--- config
    location /chatport/ {
        chatport;
        client_max_body_size 100;
        error_page 413 /oops.html;
    }
--- more_headers
Content-Type: application/json
--- request eval
"POST /chatport/messages\n{\"text\":\"" . ("x" x 200) . "\"}"
--- error_code: 413
--- response_body
<html>oops</html>



=== TEST 10: the module's own limit comes first when it is the lower one (413 JSON, nothing read)
--- config
    location /chatport/ {
        chatport;
        chatport_max_message 16;
    }
--- more_headers
Content-Type: application/json
--- request eval
"POST /chatport/messages\n{\"text\":\"" . ("x" x 9000) . "\"}"
--- error_code: 413
--- response_body
{"error":"body_too_large","message":"the request body is too large"}
--- no_error_log
[error]
