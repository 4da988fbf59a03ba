# GET P widget.js / widget.css: the embedded widget files, minified by
# esbuild as widget/embed.sh does, with a strong ETag (the first 24 hex
# digits of the SHA-256 of what is served), Cache-Control, nosniff, and
# 304 on If-None-Match.

use Test::Nginx::Socket 'no_plan';
use lib 't/lib';
use ChatPort::ErrorLog;
use Digest::SHA ();
use File::Basename ();
use File::Spec ();

our ($JsBody, $CssBody, $JsEtag, $CssEtag);

# the file as widget/embed.sh embeds it
sub slurp_widget {
    my $name = shift;
    my $path = File::Spec->catfile(File::Basename::dirname(__FILE__),
                                   '..', 'widget', $name);
    open my $fh, '-|', 'esbuild', $path, '--minify', '--log-level=warning'
        or die "cannot run esbuild: $!";
    local $/;
    my $body = <$fh>;
    close $fh or die "esbuild $path failed";
    return $body;
}

$JsBody = slurp_widget('widget.js');
$CssBody = slurp_widget('widget.css');
$JsEtag = '"' . substr(Digest::SHA::sha256_hex($JsBody), 0, 24) . '"';
$CssEtag = '"' . substr(Digest::SHA::sha256_hex($CssBody), 0, 24) . '"';

# every block talks to the test Redis unless it says otherwise
add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->http_config) {
        $block->set_value("http_config",
                          "    chatport_redis 127.0.0.1:\$TEST_NGINX_REDIS_PORT;\n");
    }
});

no_shuffle();

run_tests();

__DATA__

=== TEST 1: widget.js is served whole, as JavaScript, with a strong ETag
--- config
    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/widget.js
--- response_headers eval
"Content-Type: application/javascript
Content-Length: " . length($::JsBody) . "
ETag: $::JsEtag
X-Content-Type-Options: nosniff
!Set-Cookie
!Last-Modified"
--- raw_response_headers_like: \r\nCache-Control: [^\r\n]*max-age=[1-9][0-9]*
--- response_body eval
$::JsBody
--- no_error_log
[error]



=== TEST 2: the ETag is a strong validator of 24 hex digits
--- config
    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/widget.js
--- response_headers_like
ETag: "[0-9a-f]{24}"
--- raw_response_headers_unlike: ETag: W/
--- no_error_log
[error]



=== TEST 3: If-None-Match with the current ETag gives 304 without a body
--- config
    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/widget.js
--- more_headers eval
"If-None-Match: $::JsEtag"
--- error_code: 304
--- response_headers eval
"ETag: $::JsEtag
!Content-Length
!Content-Type"
--- response_body:
--- no_error_log
[error]



=== TEST 4: If-None-Match with a list holding the ETag, with "*", and weak: 304
--- config
    location /chatport/ {
        chatport;
    }
--- request eval
["GET /chatport/widget.js", "GET /chatport/widget.js", "GET /chatport/widget.js"]
--- more_headers eval
["If-None-Match: \"0123456789abcdef01234567\", $::JsEtag",
 "If-None-Match: *",
 "If-None-Match: W/$::JsEtag"]
--- error_code eval
[304, 304, 304]
--- response_body eval
["", "", ""]
--- no_error_log
[error]



=== TEST 5: If-None-Match with another ETag (an older widget) gives 200 and the file
--- config
    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/widget.js
--- more_headers
If-None-Match: "0123456789abcdef01234567"
--- response_headers eval
"ETag: $::JsEtag"
--- response_body eval
$::JsBody
--- no_error_log
[error]



=== TEST 6: If-None-Match with the ETag of widget.css does not match widget.js
--- config
    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/widget.js
--- more_headers eval
"If-None-Match: $::CssEtag"
--- response_body eval
$::JsBody
--- no_error_log
[error]



=== TEST 7: HEAD gives the headers and no body
--- config
    location /chatport/ {
        chatport;
    }
--- request
HEAD /chatport/widget.js
--- response_headers eval
"Content-Type: application/javascript
Content-Length: " . length($::JsBody) . "
ETag: $::JsEtag
X-Content-Type-Options: nosniff"
--- response_body:
--- no_error_log
[error]



=== TEST 8: POST is refused with 405, Allow and a JSON error
--- config
    location /chatport/ {
        chatport;
    }
--- request
POST /chatport/widget.js
x=1
--- error_code: 405
--- response_headers
Allow: GET, HEAD
Content-Type: application/json; charset=utf-8
!ETag
--- response_body
{"error":"method_not_allowed","message":"this method is not allowed here"}
--- no_error_log
[error]



=== TEST 9: PUT, DELETE and OPTIONS are refused the same way
--- config
    location /chatport/ {
        chatport;
    }
--- request eval
["PUT /chatport/widget.js", "DELETE /chatport/widget.js", "OPTIONS /chatport/widget.js"]
--- error_code eval
[405, 405, 405]
--- response_headers eval
["Allow: GET, HEAD", "Allow: GET, HEAD", "Allow: GET, HEAD"]
--- response_body eval
[qr/^\{"error":"method_not_allowed","message":"[^"]+"\}$/,
 qr/^\{"error":"method_not_allowed","message":"[^"]+"\}$/,
 qr/^\{"error":"method_not_allowed","message":"[^"]+"\}$/]
--- no_error_log
[error]



=== TEST 10: the body of a refused POST is not taken for the next request on the connection
--- config
    location /chatport/ {
        chatport;
    }
--- pipelined_requests eval
["POST /chatport/widget.js\nGET /evil HTTP/1.0", "HEAD /chatport/widget.js"]
--- error_code eval
[405, 200]
--- response_headers eval
["Allow: GET, HEAD", "ETag: $::JsEtag"]
--- no_error_log
[error]



=== TEST 11: widget.css is served as text/css with its own strong ETag
--- config
    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/widget.css
--- response_headers eval
"Content-Type: text/css
Content-Length: " . length($::CssBody) . "
ETag: $::CssEtag
X-Content-Type-Options: nosniff"
--- raw_response_headers_like: \r\nCache-Control: [^\r\n]*max-age=[1-9][0-9]*
--- response_body eval
$::CssBody
--- no_error_log
[error]



=== TEST 12: widget.css: 304 on its ETag, 200 on another, HEAD without body, POST 405
--- config
    location /chatport/ {
        chatport;
    }
--- request eval
["GET /chatport/widget.css", "GET /chatport/widget.css", "HEAD /chatport/widget.css", "POST /chatport/widget.css"]
--- more_headers eval
["If-None-Match: $::CssEtag", "If-None-Match: $::JsEtag", "", ""]
--- error_code eval
[304, 200, 200, 405]
--- response_headers eval
["ETag: $::CssEtag", "ETag: $::CssEtag", "ETag: $::CssEtag", "Allow: GET, HEAD"]
--- response_body eval
["", $::CssBody, "", "{\"error\":\"method_not_allowed\",\"message\":\"this method is not allowed here\"}\n"]
--- no_error_log
[error]



=== TEST 13: served under any prefix, without a trailing slash, and with a query string
--- config
    location /support/chat/ {
        chatport;
    }

    location /help {
        chatport;
    }
--- request eval
["GET /support/chat/widget.js?v=3", "GET /help/widget.css"]
--- response_headers eval
["ETag: $::JsEtag", "ETag: $::CssEtag"]
--- response_body eval
[$::JsBody, $::CssBody]
--- no_error_log
[error]



=== TEST 14: names that only resemble the widget files are 404 JSON
--- config
    location /chatport/ {
        chatport;
    }
--- request eval
["GET /chatport/widget.jsx", "GET /chatport/widget.js/", "GET /chatport/Widget.js", "GET /chatport/sub/widget.js"]
--- error_code eval
[404, 404, 404, 404]
--- response_headers eval
["Content-Type: application/json; charset=utf-8\n!ETag", "Content-Type: application/json; charset=utf-8\n!ETag",
 "Content-Type: application/json; charset=utf-8\n!ETag", "Content-Type: application/json; charset=utf-8\n!ETag"]
--- response_body eval
["{\"error\":\"not_found\",\"message\":\"no such endpoint\"}\n",
 "{\"error\":\"not_found\",\"message\":\"no such endpoint\"}\n",
 "{\"error\":\"not_found\",\"message\":\"no such endpoint\"}\n",
 "{\"error\":\"not_found\",\"message\":\"no such endpoint\"}\n"]
--- no_error_log
[error]
