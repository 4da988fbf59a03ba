# The operator API below a "chatport_agent" location, request by request:
# login refused or required, every endpoint's good and bad inputs, 405s
# with Allow, unknown and malformed conversation ids, session, list
# limits, empty inbox and forms. Nothing here needs a visitor's cookie
# (t/041-agent-flow.t has the flows that do).
#
# htpasswd: alice / secret and bob / pw ({PLAIN} entries).
#   alice:secret   = YWxpY2U6c2VjcmV0
#   bob:pw         = Ym9iOnB3
#   alice:wrong    = YWxpY2U6d3Jvbmc=
#   mallory:secret = bWFsbG9yeTpzZWNyZXQ=
#
# A well-formed conversation id that exists nowhere: 32 zeros. Replies to
# it pass every check of the request and fail only in Redis, so a bad
# input is told apart from an unknown conversation.

use Test::Nginx::Socket 'no_plan';
use lib 't/lib';
use ChatPort::ErrorLog;

# an error body with this code (the message is human text)
sub main::err {
    my ($code) = @_;
    return qr/^\{"error":"\Q$code\E","message":"[^\n]+"\}\n\z/;
}

add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->http_config) {
        $block->set_value("http_config",
                          "    chatport_redis 127.0.0.1:\$TEST_NGINX_REDIS_PORT;\n");
    }

    if (!defined $block->user_files) {
        $block->set_value("user_files", <<'_EOC_');
>>> htpasswd
alice:{PLAIN}secret
bob:{PLAIN}pw
_EOC_
    }

    if (!defined $block->config) {
        $block->set_value("config", <<'_EOC_');
    chatport_site t040;

    location /chatport/ {
        chatport;
    }

    location /chatport/agent/ {
        chatport_agent;
        auth_basic "ops";
        auth_basic_user_file $TEST_NGINX_SERVER_ROOT/html/htpasswd;
        chatport_poll_timeout 1s;
        chatport_max_message 16;
    }
_EOC_
    }
});

no_shuffle();

run_tests();

__DATA__

=== TEST 1: an unprotected operator location refuses every endpoint, even with valid Basic credentials
--- config
    chatport_site t040;

    location /chatport/agent/ {
        chatport_agent;
    }
--- request eval
my $c = "/chatport/agent/conversations/" . ("0" x 32);
["GET /chatport/agent/",
 "GET /chatport/agent/session",
 "GET /chatport/agent/conversations",
 "GET $c/messages",
 "POST $c/messages\n{\"text\":\"hi\"}",
 "POST $c/close",
 "GET /chatport/agent/poll",
 "POST /chatport/agent/presence\n{\"status\":\"online\"}",
 "GET /chatport/agent/forms"]
--- more_headers
Authorization: Basic YWxpY2U6c2VjcmV0
Content-Type: application/json
--- error_code eval
[(403) x 9]
--- response_body eval
[("{\"error\":\"not_protected\",\"message\":\"the operator console is not protected by a login\"}\n") x 9]
--- error_log
protect the "chatport_agent" location "/chatport/agent/" with auth_basic or auth_request



=== TEST 2: without credentials every endpoint answers nginx's 401 (as JSON), the module is not reached
--- request eval
my $c = "/chatport/agent/conversations/" . ("0" x 32);
["GET /chatport/agent/",
 "GET /chatport/agent/session",
 "GET /chatport/agent/conversations",
 "GET $c/messages",
 "POST $c/messages\n{\"text\":\"hi\"}",
 "POST $c/close",
 "GET /chatport/agent/poll",
 "POST /chatport/agent/presence\n{\"status\":\"online\"}",
 "GET /chatport/agent/forms"]
--- more_headers
Content-Type: application/json
--- error_code eval
[(401) x 9]
--- response_headers eval
[("WWW-Authenticate: Basic realm=\"ops\"") x 9]
--- response_body eval
[(qr/^\{"error":"unauthorized","message":"operators must log in"\}\n\z/) x 9]
--- no_error_log
protect the
chatport:



=== TEST 3: a wrong password gets nginx's 401, as JSON
--- request
GET /chatport/agent/session
--- more_headers
Authorization: Basic YWxpY2U6d3Jvbmc=
--- error_code: 401
--- response_headers
WWW-Authenticate: Basic realm="ops"
--- response_body_like: ^\{"error":"unauthorized",
--- error_log
user "alice": password mismatch



=== TEST 4: an unknown user gets nginx's 401
--- request
GET /chatport/agent/conversations
--- more_headers
Authorization: Basic bWFsbG9yeTpzZWNyZXQ=
--- error_code: 401
--- response_body_like: ^\{"error":"unauthorized",
--- error_log
user "mallory" was not found in



=== TEST 5: console: the page and its assets are served to a logged-in operator, never framed, never in a shared cache (bodies are the console's own tests' business)
--- request eval
["GET /chatport/agent/", "GET /chatport/agent/console.js",
 "GET /chatport/agent/console.css", "HEAD /chatport/agent/"]
--- more_headers
Authorization: Basic YWxpY2U6c2VjcmV0
--- error_code eval
[200, 200, 200, 200]
--- response_headers eval
["Content-Type: text/html; charset=utf-8\nX-Frame-Options: DENY\nCache-Control: private, no-cache\nContent-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
 "Content-Type: application/javascript; charset=utf-8\nCache-Control: private, no-cache",
 "Content-Type: text/css\nCache-Control: private, no-cache",
 "Content-Type: text/html; charset=utf-8\nX-Frame-Options: DENY"]
--- no_error_log
[error]



=== TEST 6: session of alice and of bob in one location
--- config
    chatport_site t040-session;

    location /chatport/agent/ {
        chatport_agent;
        auth_basic "ops";
        auth_basic_user_file $TEST_NGINX_SERVER_ROOT/html/htpasswd;
        chatport_lang ja;
        chatport_title "Shop help";
        chatport_max_message 4k;
    }
--- request eval
["GET /chatport/agent/session", "GET /chatport/agent/session"]
--- more_headers eval
["Authorization: Basic YWxpY2U6c2VjcmV0", "Authorization: Basic Ym9iOnB3"]
--- response_headers eval
["Content-Type: application/json; charset=utf-8",
 "Content-Type: application/json; charset=utf-8"]
--- response_body eval
["{\"operator\":\"alice\",\"site\":\"t040-session\",\"lang\":\"ja\",\"title\":\"Shop help\",\"max_message\":4096,\"status\":\"away\",\"available\":false,\"hours_open\":true,\"presence_grace\":90}\n",
 "{\"operator\":\"bob\",\"site\":\"t040-session\",\"lang\":\"ja\",\"title\":\"Shop help\",\"max_message\":4096,\"status\":\"away\",\"available\":false,\"hours_open\":true,\"presence_grace\":90}\n"]
--- no_error_log
[error]



=== TEST 7: session with the defaults: the server's chatport_site, lang auto, max_message 2048
--- config
    chatport_site t040;

    location /chatport/agent/ {
        chatport_agent;
        auth_basic "ops";
        auth_basic_user_file $TEST_NGINX_SERVER_ROOT/html/htpasswd;
    }
--- request
GET /chatport/agent/session
--- more_headers
Authorization: Basic YWxpY2U6c2VjcmV0
--- response_body_like: ^\{"operator":"alice","site":"t040","lang":"auto","title":(?:""|null),"max_message":2048,"status":"(?:online|away)","available":false,"hours_open":true,"presence_grace":90\}\n\z
--- no_error_log
[error]



=== TEST 8: session behind auth_request without Basic credentials: the operator is "operator"
--- config
    chatport_site t040;

    location = /_auth {
        internal;
        return 204;
    }

    location /chatport/agent/ {
        chatport_agent;
        auth_request /_auth;
    }
--- request
GET /chatport/agent/session
--- response_body_like: ^\{"operator":"operator","site":"t040",
--- no_error_log
[error]
protect the



=== TEST 9: session: other methods are 405 with Allow: GET
--- request eval
["POST /chatport/agent/session\n{}", "PUT /chatport/agent/session", "DELETE /chatport/agent/session"]
--- more_headers
Authorization: Basic YWxpY2U6c2VjcmV0
Content-Type: application/json
--- error_code eval
[405, 405, 405]
--- response_headers eval
["Allow: GET", "Allow: GET", "Allow: GET"]
--- response_body eval
["{\"error\":\"method_not_allowed\",\"message\":\"this method is not allowed here\"}\n",
 "{\"error\":\"method_not_allowed\",\"message\":\"this method is not allowed here\"}\n",
 "{\"error\":\"method_not_allowed\",\"message\":\"this method is not allowed here\"}\n"]



=== TEST 10: HEAD of a GET-only endpoint is 405 too
--- request
HEAD /chatport/agent/session
--- more_headers
Authorization: Basic YWxpY2U6c2VjcmV0
--- error_code: 405
--- response_headers
Allow: GET
Content-Type: application/json; charset=utf-8
--- response_body:



=== TEST 11: conversations of a site without any: an empty list
--- config
    chatport_site t040-empty;

    location /chatport/agent/ {
        chatport_agent;
        auth_basic "ops";
        auth_basic_user_file $TEST_NGINX_SERVER_ROOT/html/htpasswd;
    }
--- request
GET /chatport/agent/conversations
--- more_headers
Authorization: Basic YWxpY2U6c2VjcmV0
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"conversations":\[\],"cursor":null\}\n?\z
--- no_error_log
[error]



=== TEST 12: conversations?limit= 1 to 100 is accepted
--- config
    chatport_site t040-empty;

    location /chatport/agent/ {
        chatport_agent;
        auth_basic "ops";
        auth_basic_user_file $TEST_NGINX_SERVER_ROOT/html/htpasswd;
    }
--- request eval
["GET /chatport/agent/conversations?limit=1",
 "GET /chatport/agent/conversations?limit=100",
 "GET /chatport/agent/conversations?limit=050",
 "GET /chatport/agent/conversations?x=1&limit=7&y=2"]
--- more_headers
Authorization: Basic YWxpY2U6c2VjcmV0
--- error_code eval
[200, 200, 200, 200]
--- response_body eval
[(qr/^\{"conversations":\[\],"cursor":null\}\n?\z/) x 4]
--- no_error_log
[error]



=== TEST 13: conversations?limit= anything else is 400 invalid_limit
--- request eval
["GET /chatport/agent/conversations?limit=0",
 "GET /chatport/agent/conversations?limit=101",
 "GET /chatport/agent/conversations?limit=-1",
 "GET /chatport/agent/conversations?limit=abc",
 "GET /chatport/agent/conversations?limit=",
 "GET /chatport/agent/conversations?limit=5x",
 "GET /chatport/agent/conversations?limit=1e2",
 "GET /chatport/agent/conversations?limit=%2B5",
 "GET /chatport/agent/conversations?limit=99999999999999999999999"]
--- more_headers
Authorization: Basic YWxpY2U6c2VjcmV0
--- error_code eval
[(400) x 9]
--- response_body eval
[("{\"error\":\"invalid_limit\",\"message\":\"\\\"limit\\\" is 1 to 100\"}\n") x 9]
--- no_error_log
[error]



=== TEST 14: every endpoint's wrong methods are 405 with the right Allow
--- request eval
my $c = "/chatport/agent/conversations/" . ("0" x 32);
["PUT /chatport/agent/conversations",
 "POST /chatport/agent/conversations\n{}",
 "DELETE $c/messages",
 "PUT $c/messages\n{}",
 "GET $c/close",
 "DELETE $c/close",
 "POST /chatport/agent/poll\n{}",
 "GET /chatport/agent/presence",
 "PUT /chatport/agent/presence\n{}",
 "POST /chatport/agent/forms\n{}",
 "DELETE /chatport/agent/"]
--- more_headers
Authorization: Basic YWxpY2U6c2VjcmV0
Content-Type: application/json
--- error_code eval
[(405) x 11]
--- response_headers eval
["Allow: GET", "Allow: GET", "Allow: GET, POST", "Allow: GET, POST",
 "Allow: POST", "Allow: POST", "Allow: GET", "Allow: POST", "Allow: POST",
 "Allow: GET", "Allow: GET, HEAD"]
--- response_body eval
[(main::err("method_not_allowed")) x 11]
--- no_error_log
[error]



=== TEST 15: paths that are no endpoint are 404 not_found
--- request eval
my $c = "/chatport/agent/conversations/" . ("0" x 32);
["GET /chatport/agent/nope",
 "GET /chatport/agent/sessions",
 "GET /chatport/agent/session/",
 "GET $c",
 "GET $c/",
 "GET $c/messages/x",
 "POST $c/close/",
 "GET /chatport/agent/conversations/a/b/messages",
 "GET /chatport/agent/poll/x",
 "GET /chatport/agent/conversations//messages",
 "POST /chatport/agent/conversations//close"]
--- more_headers
Authorization: Basic YWxpY2U6c2VjcmV0
--- error_code eval
[(404) x 11]
--- response_body eval
[("{\"error\":\"not_found\",\"message\":\"no such endpoint\"}\n") x 11]
--- no_error_log
[error]



=== TEST 16: a well-formed but unknown conversation: reading, replying and closing are 403 unknown_conversation
--- request eval
my $c = "/chatport/agent/conversations/" . ("0" x 32);
["GET $c/messages", "GET $c/messages?after=0-0",
 "POST $c/messages\n{\"text\":\"hello\"}", "POST $c/close"]
--- more_headers
Authorization: Basic YWxpY2U6c2VjcmV0
Content-Type: application/json
--- error_code eval
[403, 403, 403, 403]
--- response_body eval
[("{\"error\":\"unknown_conversation\",\"message\":\"no such conversation here\"}\n") x 4]
--- no_error_log
[error]



=== TEST 17: a replied-to unknown conversation is not created
--- request eval
my $c = "/chatport/agent/conversations/" . ("1" x 32);
["POST $c/messages\n{\"text\":\"hello\"}", "GET $c/messages",
 "GET /chatport/agent/conversations"]
--- more_headers
Authorization: Basic YWxpY2U6c2VjcmV0
Content-Type: application/json
--- config
    chatport_site t040-ghost;

    location /chatport/agent/ {
        chatport_agent;
        auth_basic "ops";
        auth_basic_user_file $TEST_NGINX_SERVER_ROOT/html/htpasswd;
    }
--- error_code eval
[403, 403, 200]
--- response_body eval
[main::err("unknown_conversation"), main::err("unknown_conversation"),
 qr/^\{"conversations":\[\],"cursor":null\}\n?\z/]
--- no_error_log
[error]



=== TEST 18: malformed conversation ids are 403 unknown_conversation on every conversation endpoint
--- request eval
my @bad = ("A" x 32, "0" x 31, "0" x 33, ("0" x 31) . "g", "0" x 64,
           ("0" x 31) . "%20", ("0" x 16) . "-" . ("0" x 15));
my @r;
for my $cid (@bad) {
    push @r, "GET /chatport/agent/conversations/$cid/messages",
             "POST /chatport/agent/conversations/$cid/messages\n{\"text\":\"hi\"}",
             "POST /chatport/agent/conversations/$cid/close";
}
\@r
--- more_headers
Authorization: Basic YWxpY2U6c2VjcmV0
Content-Type: application/json
--- error_code eval
[(403) x 21]
--- response_body eval
[(main::err("unknown_conversation")) x 21]
--- no_error_log
[error]



=== TEST 19: reply: bad content type, origin and JSON are refused before the conversation is looked up
--- request eval
my $c = "/chatport/agent/conversations/" . ("0" x 32) . "/messages";
["POST $c\n{\"text\":\"hi\"}",
 "POST $c\n{\"text\":\"hi\"}",
 "POST $c\n{\"text\":\"hi\"}",
 "POST $c\n{\"text\":\"hi\"}",
 "POST $c\n{\"text\":",
 "POST $c\n[\"hi\"]",
 "POST $c\n\"hi\"",
 "POST $c\n{\"text\":\"a\",\"text\":\"b\"}",
 "POST $c\n{\"text\":\"" . ("x" x 9000) . "\"}"]
--- more_headers eval
my $a = "Authorization: Basic YWxpY2U6c2VjcmV0\n";
my $j = "Content-Type: application/json\n";
[$a,
 $a . "Content-Type: text/plain\n",
 $a . $j . "Origin: https://evil.test\n",
 $a . $j . "Sec-Fetch-Site: cross-site\n",
 $a . $j, $a . $j, $a . $j, $a . $j, $a . $j]
--- error_code eval
[415, 415, 403, 403, 400, 400, 400, 400, 413]
--- response_body eval
[main::err("unsupported_media_type"), main::err("unsupported_media_type"),
 main::err("cross_origin"), main::err("cross_origin"),
 main::err("invalid_json"), main::err("invalid_json"),
 main::err("invalid_json"), main::err("invalid_json"),
 main::err("body_too_large")]
--- no_error_log
[error]



=== TEST 20: reply: the text is checked like a visitor's (chatport_max_message 16 here)
--- request eval
my $c = "/chatport/agent/conversations/" . ("0" x 32) . "/messages";
["POST $c\n{}",
 "POST $c\n{\"text\":null}",
 "POST $c\n{\"page\":\"https://x.test/\"}",
 "POST $c\n{\"text\":5}",
 "POST $c\n{\"text\":[\"hi\"]}",
 "POST $c\n{\"text\":true}",
 "POST $c\n{\"text\":\"\"}",
 "POST $c\n{\"text\":\" \\t \\u3000\\u00a0\"}",
 "POST $c\n{\"text\":\"a\\u0001b\"}",
 "POST $c\n{\"text\":\"a\\u007fb\"}",
 "POST $c\n{\"text\":\"hi\",\"page\":\"javascript:alert(1)\"}",
 "POST $c\n{\"text\":\"12345678901234567\"}",
 "POST $c\n{\"text\":\"\\u3042\\u3044\\u3046\\u3048\\u304a\\u304b\"}",
 "POST $c\n{\"text\":\"1234567890123456\"}",
 "POST $c\n{\"text\":\"line 1\\nline 2\\tok\"}"]
--- more_headers
Authorization: Basic YWxpY2U6c2VjcmV0
Content-Type: application/json; charset=utf-8
--- error_code eval
[400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 413, 413, 403, 403]
--- response_body eval
[main::err("missing_text"), main::err("missing_text"),
 main::err("missing_text"), main::err("invalid_text"),
 main::err("invalid_text"), main::err("invalid_text"),
 main::err("empty_text"), main::err("empty_text"),
 main::err("invalid_text"), main::err("invalid_text"),
 main::err("invalid_page"), main::err("text_too_large"),
 main::err("text_too_large"),
 main::err("unknown_conversation"), main::err("unknown_conversation")]
--- no_error_log
[error]



=== TEST 21: close: another site's page cannot close a conversation, not even with a plain form (no Origin, not JSON)
--- request eval
my $c = "/chatport/agent/conversations/" . ("0" x 32) . "/close";
["POST $c", "POST $c", "POST $c", "POST $c\na=b", "POST $c\na=b",
 "POST $c"]
--- more_headers eval
my $a = "Authorization: Basic YWxpY2U6c2VjcmV0\n";
[$a . "Origin: https://evil.test\n",
 $a . "Sec-Fetch-Site: same-site\n",
 $a . "Origin: http://localhost\nSec-Fetch-Site: same-origin\n",
 $a . "Content-Type: application/x-www-form-urlencoded\n",
 $a . "Content-Type: text/plain\n",
 $a . "Origin: http://localhost\nContent-Type: application/json\n"]
--- error_code eval
[403, 403, 415, 415, 415, 403]
--- response_body eval
[main::err("cross_origin"), main::err("cross_origin"),
 main::err("unsupported_media_type"), main::err("unsupported_media_type"),
 main::err("unsupported_media_type"), main::err("unknown_conversation")]
--- no_error_log
[error]



=== TEST 22: messages?after= must be a stream id
--- request eval
my $c = "/chatport/agent/conversations/" . ("0" x 32) . "/messages";
["GET $c?after=abc", "GET $c?after=", "GET $c?after=1-", "GET $c?after=-1",
 "GET $c?after=1x-0", "GET $c?after=123456789012345678901-0"]
--- more_headers
Authorization: Basic YWxpY2U6c2VjcmV0
--- error_code eval
[(400) x 6]
--- response_body eval
[(main::err("invalid_cursor")) x 6]
--- no_error_log
[error]



=== TEST 23: presence: online and away are 204 without a body
--- request eval
["POST /chatport/agent/presence\n{\"status\":\"online\"}",
 "POST /chatport/agent/presence\n{\"status\":\"away\"}",
 "POST /chatport/agent/presence\n{\"status\":\"online\",\"note\":\"x\"}"]
--- more_headers
Authorization: Basic YWxpY2U6c2VjcmV0
Content-Type: application/json
Origin: http://localhost
--- error_code eval
[204, 204, 204]
--- response_body eval
["", "", ""]
--- no_error_log
[error]



=== TEST 24: presence: anything but "online" or "away" is 400 invalid_status
--- request eval
my $p = "/chatport/agent/presence";
["POST $p\n{\"status\":\"busy\"}",
 "POST $p\n{\"status\":\"Online\"}",
 "POST $p\n{\"status\":\"online \"}",
 "POST $p\n{\"status\":\"\"}",
 "POST $p\n{\"status\":1}",
 "POST $p\n{\"status\":null}",
 "POST $p\n{\"state\":\"online\"}",
 "POST $p\n{}"]
--- more_headers
Authorization: Basic YWxpY2U6c2VjcmV0
Content-Type: application/json
--- error_code eval
[(400) x 8]
--- response_body eval
[(main::err("invalid_status")) x 8]
--- no_error_log
[error]



=== TEST 25: presence: bad JSON, content type, origin and size
--- request eval
my $p = "/chatport/agent/presence";
["POST $p\n{\"status\":",
 "POST $p\n\"online\"",
 "POST $p\n{\"status\":\"online\"}",
 "POST $p\n{\"status\":\"online\"}",
 "POST $p\n{\"status\":\"online\",\"pad\":\"" . ("x" x 1100) . "\"}"]
--- more_headers eval
my $a = "Authorization: Basic YWxpY2U6c2VjcmV0\n";
my $j = "Content-Type: application/json\n";
[$a . $j, $a . $j, $a . "Content-Type: application/x-www-form-urlencoded\n",
 $a . $j . "Origin: https://evil.test\n", $a . $j]
--- error_code eval
[400, 400, 415, 403, 413]
--- response_body eval
[main::err("invalid_json"), main::err("invalid_json"),
 main::err("unsupported_media_type"), main::err("cross_origin"),
 main::err("body_too_large")]
--- no_error_log
[error]



=== TEST 26: inbox poll of a site without events: held for chatport_poll_timeout, then empty with the cursor kept
--- config
    chatport_site t040-empty;

    location /chatport/agent/ {
        chatport_agent;
        auth_basic "ops";
        auth_basic_user_file $TEST_NGINX_SERVER_ROOT/html/htpasswd;
        chatport_poll_timeout 1s;
    }
--- request eval
["GET /chatport/agent/poll", "GET /chatport/agent/poll?after=0-0",
 "GET /chatport/agent/poll?after=9999999999999-5"]
--- more_headers
Authorization: Basic YWxpY2U6c2VjcmV0
--- timeout: 4
--- error_code eval
[200, 200, 200]
--- response_body eval
[qr/^\{"events":\[\],"cursor":"0-0"\}\n?\z/,
 qr/^\{"events":\[\],"cursor":"0-0"\}\n?\z/,
 qr/^\{"events":\[\],"cursor":"9999999999999-5"\}\n?\z/]
--- no_error_log
[error]



=== TEST 27: inbox poll: after= must be a stream id
--- request eval
["GET /chatport/agent/poll?after=abc", "GET /chatport/agent/poll?after=",
 "GET /chatport/agent/poll?after=0-", "GET /chatport/agent/poll?after=1-1-1"]
--- more_headers
Authorization: Basic YWxpY2U6c2VjcmV0
--- error_code eval
[400, 400, 400, 400]
--- response_body eval
[(main::err("invalid_cursor")) x 4]
--- no_error_log
[error]



=== TEST 28: forms of a site without any: an empty list at once; after= must be a stream id
--- config
    chatport_site t040-empty;

    location /chatport/agent/ {
        chatport_agent;
        auth_basic "ops";
        auth_basic_user_file $TEST_NGINX_SERVER_ROOT/html/htpasswd;
    }
--- request eval
["GET /chatport/agent/forms", "GET /chatport/agent/forms?after=1-0",
 "GET /chatport/agent/forms?after=x", "GET /chatport/agent/forms?after="]
--- more_headers
Authorization: Basic YWxpY2U6c2VjcmV0
--- error_code eval
[200, 200, 400, 400]
--- response_body eval
[qr/^\{"forms":\[\],"cursor":"0-0","new":0\}\n?\z/, qr/^\{"forms":\[\],"cursor":"1-0","new":0\}\n?\z/,
 main::err("invalid_cursor"), main::err("invalid_cursor")]
--- no_error_log
[error]



=== TEST 29: the visitor's location next to the operator's is not protected, and config is offline without operators
--- config
    chatport_site t040-empty;

    location /chatport/ {
        chatport;
    }

    location /chatport/agent/ {
        chatport_agent;
        auth_basic "ops";
        auth_basic_user_file $TEST_NGINX_SERVER_ROOT/html/htpasswd;
    }
--- request eval
["GET /chatport/config", "GET /chatport/agent/session"]
--- error_code eval
[200, 401]
--- response_body eval
[qr/^\{"site":"t040-empty","online":false,/, qr/^\{"error":"unauthorized",/]



=== TEST 30: console: gzip_types matches the console's page and script, whose types carry a charset
--- config
    chatport_site t040;
    gzip on;
    gzip_min_length 1;
    gzip_types application/javascript text/css;

    location /chatport/agent/ {
        chatport_agent;
        auth_basic "ops";
        auth_basic_user_file $TEST_NGINX_SERVER_ROOT/html/htpasswd;
    }
--- request eval
["GET /chatport/agent/", "GET /chatport/agent/console.js"]
--- more_headers
Authorization: Basic YWxpY2U6c2VjcmV0
Accept-Encoding: gzip
--- error_code eval
[200, 200]
--- response_headers eval
["Content-Encoding: gzip\nContent-Type: text/html; charset=utf-8",
 "Content-Encoding: gzip\nContent-Type: application/javascript; charset=utf-8"]
--- no_error_log
[error]
