# Bad input to the visitor endpoints (SPEC "Errors"): every malformed,
# hostile or oversized request gets the fitting status and a JSON error
# {"error": "<code>", "message": "..."} as application/json; charset=utf-8,
# and no worker ever logs an [alert] or [crit] (let alone dies). A few
# well-formed neighbours of the bad inputs are checked to pass (201), so the
# checks are known not to be too broad. The last block sends many of the bad
# inputs to one nginx and then checks a normal request still works.
#
# Unless a block says otherwise, it uses the test Redis (with a
# chatport_chat_rate no block reaches), the location
# "location /chatport/ { chatport; }" and no_error_log [alert], [crit] and
# [error]: a client's bad input is never an error of the server's.
# Every non-ASCII byte in a request is written as a Perl or JSON escape.

use Test::Nginx::Socket 'no_plan';
use lib 't/lib';
use ChatPort::ErrorLog;

add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->http_config) {
        # every block opens conversations from 127.0.0.1
        $block->set_value("http_config",
                          "    chatport_redis 127.0.0.1:\$TEST_NGINX_REDIS_PORT;\n"
                          . "    chatport_chat_rate 100000/1m;\n");
    }

    if (!defined $block->config) {
        $block->set_value("config",
                          "    location /chatport/ {\n"
                          . "        chatport;\n"
                          . "    }\n");
    }

    if (!defined $block->no_error_log) {
        $block->set_value("no_error_log", "[alert]\n[crit]\n[error]\n");
    }
});

no_shuffle();

run_tests();

__DATA__

=== TEST 1: POST messages with an Origin of another site: 403 cross_origin
--- more_headers
Content-Type: application/json
Origin: https://evil.example
--- request
POST /chatport/messages
{"text":"hello"}
--- error_code: 403
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"cross_origin","message":".+"\}$



=== TEST 2: POST messages with "Origin: null" (sandboxed frame, file:, data:): 403 cross_origin
--- more_headers
Content-Type: application/json
Origin: null
--- request
POST /chatport/messages
{"text":"hello"}
--- error_code: 403
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"cross_origin","message":".+"\}$



=== TEST 3: POST messages with an Origin that only begins with the host: 403 cross_origin
--- more_headers
Content-Type: application/json
Origin: https://localhost.evil.example
--- request
POST /chatport/messages
{"text":"hello"}
--- error_code: 403
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"cross_origin","message":".+"\}$



=== TEST 4: POST messages with "Sec-Fetch-Site: cross-site" and no Origin: 403 cross_origin
--- more_headers
Content-Type: application/json
Sec-Fetch-Site: cross-site
--- request
POST /chatport/messages
{"text":"hello"}
--- error_code: 403
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"cross_origin","message":".+"\}$



=== TEST 5: POST messages with "Sec-Fetch-Site: same-site" (a sibling subdomain): 403 cross_origin
--- more_headers
Content-Type: application/json
Sec-Fetch-Site: same-site
--- request
POST /chatport/messages
{"text":"hello"}
--- error_code: 403
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"cross_origin","message":".+"\}$



=== TEST 6: the origin is checked before the content type: cross-site text/plain is 403
--- more_headers
Content-Type: text/plain
Origin: https://evil.example
--- request
POST /chatport/messages
{"text":"hello"}
--- error_code: 403
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"cross_origin","message":".+"\}$



=== TEST 7: not an error: the site's own Origin and "Sec-Fetch-Site: same-origin" or "none" pass
--- request eval
["POST /chatport/messages\n{\"text\":\"from the site\"}",
 "POST /chatport/messages\n{\"text\":\"from the site\"}",
 "POST /chatport/messages\n{\"text\":\"typed by the user\"}"]
--- more_headers eval
["Content-Type: application/json\nOrigin: http://localhost",
 "Content-Type: application/json\nOrigin: https://LOCALHOST\nSec-Fetch-Site: same-origin",
 "Content-Type: application/json\nSec-Fetch-Site: none"]
--- error_code eval
[201, 201, 201]
--- response_body_like eval
[qr/^\{"id":"\d+-\d+"\}$/, qr/^\{"id":"\d+-\d+"\}$/, qr/^\{"id":"\d+-\d+"\}$/]



=== TEST 8: POST messages without a Content-Type: 415 unsupported_media_type
--- request
POST /chatport/messages
{"text":"hello"}
--- error_code: 415
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"unsupported_media_type","message":".+"\}$



=== TEST 9: POST messages as text/plain (a CORS "simple" request): 415 unsupported_media_type
--- more_headers
Content-Type: text/plain
--- request
POST /chatport/messages
{"text":"hello"}
--- error_code: 415
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"unsupported_media_type","message":".+"\}$



=== TEST 10: POST messages as an HTML form (urlencoded): 415 unsupported_media_type
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- request
POST /chatport/messages
text=hello
--- error_code: 415
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"unsupported_media_type","message":".+"\}$



=== TEST 11: POST messages as multipart/form-data: 415 unsupported_media_type
--- more_headers
Content-Type: multipart/form-data; boundary=xyz
--- request eval
"POST /chatport/messages\n--xyz\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nhello\r\n--xyz--"
--- error_code: 415
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"unsupported_media_type","message":".+"\}$



=== TEST 12: POST messages as "application/jsonp" (only a prefix of application/json): 415
--- more_headers
Content-Type: application/jsonp
--- request
POST /chatport/messages
{"text":"hello"}
--- error_code: 415
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"unsupported_media_type","message":".+"\}$



=== TEST 13: not an error: application/json with a charset, with or without a space, in any case
--- request eval
["POST /chatport/messages\n{\"text\":\"one\"}",
 "POST /chatport/messages\n{\"text\":\"two\"}",
 "POST /chatport/messages\n{\"text\":\"three\"}"]
--- more_headers eval
["Content-Type: application/json; charset=utf-8",
 "Content-Type: application/json;charset=UTF-8",
 "Content-Type: APPLICATION/JSON"]
--- error_code eval
[201, 201, 201]
--- response_headers eval
["Content-Type: application/json; charset=utf-8",
 "Content-Type: application/json; charset=utf-8",
 "Content-Type: application/json; charset=utf-8"]
--- response_body_like eval
[qr/^\{"id":"\d+-\d+"\}$/, qr/^\{"id":"\d+-\d+"\}$/, qr/^\{"id":"\d+-\d+"\}$/]



=== TEST 14: a Content-Length one byte over 2 x chatport_max_message + 8192 (12288): 413 body_too_large
--- more_headers
Content-Type: application/json
--- request eval
"POST /chatport/messages\n{\"text\":\"hi\"" . (" " x 12276) . "}"
--- error_code: 413
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"body_too_large","message":".+"\}$



=== TEST 15: not an error: a body of exactly 12288 bytes is read and parsed
--- more_headers
Content-Type: application/json
--- request eval
"POST /chatport/messages\n{\"text\":\"hi\"" . (" " x 12275) . "}"
--- error_code: 201
--- response_body_like: ^\{"id":"\d+-\d+"\}$



=== TEST 16: a chunked body over the limit (no Content-Length to check first): 413 body_too_large
--- raw_request eval
"POST /chatport/messages HTTP/1.1\r
Host: localhost\r
Connection: close\r
Content-Type: application/json\r
Transfer-Encoding: chunked\r
\r
" . sprintf("%x\r\n", 13000) . ("a" x 13000) . "\r\n0\r\n\r\n"
--- error_code: 413
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"body_too_large","message":".+"\}$



=== TEST 17: a chunked body of 40000 bytes in five chunks (kept in a temp file): 413 body_too_large
--- raw_request eval
"POST /chatport/messages HTTP/1.1\r
Host: localhost\r
Connection: close\r
Content-Type: application/json\r
Transfer-Encoding: chunked\r
\r
" . (sprintf("%x\r\n", 8000) . ("b" x 8000) . "\r\n") x 5 . "0\r\n\r\n"
--- error_code: 413
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"body_too_large","message":".+"\}$



=== TEST 18: not an error: a small chunked JSON body in two chunks
--- raw_request eval
"POST /chatport/messages HTTP/1.1\r
Host: localhost\r
Connection: close\r
Content-Type: application/json\r
Transfer-Encoding: chunked\r
\r
9\r
{\"text\":\"\r
9\r
chunked\"}\r
0\r
\r
"
--- error_code: 201
--- response_body_like: ^\{"id":"\d+-\d+"\}$



=== TEST 19: the body limit follows chatport_max_message (10 bytes: 2 x 10 + 8192 = 8212)
--- config
    location /chatport/ {
        chatport;
        chatport_max_message 10;
    }
--- more_headers
Content-Type: application/json
--- request eval
"POST /chatport/messages\n{\"text\":\"hi\"" . (" " x 8200) . "}"
--- error_code: 413
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"body_too_large","message":".+"\}$



=== TEST 20: a body that is not JSON: 400 invalid_json
--- more_headers
Content-Type: application/json
--- request
POST /chatport/messages
hello there
--- error_code: 400
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"invalid_json","message":".+"\}$



=== TEST 21: truncated JSON: 400 invalid_json
--- more_headers
Content-Type: application/json
--- request
POST /chatport/messages
{"text":"hello
--- error_code: 400
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"invalid_json","message":".+"\}$



=== TEST 22: a JSON array instead of an object: 400 invalid_json
--- more_headers
Content-Type: application/json
--- request
POST /chatport/messages
[{"text":"hello"}]
--- error_code: 400
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"invalid_json","message":".+"\}$



=== TEST 23: a JSON string instead of an object: 400 invalid_json
--- more_headers
Content-Type: application/json
--- request
POST /chatport/messages
"hello"
--- error_code: 400
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"invalid_json","message":".+"\}$



=== TEST 24: a JSON number instead of an object: 400 invalid_json
--- more_headers
Content-Type: application/json
--- request
POST /chatport/messages
42
--- error_code: 400
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"invalid_json","message":".+"\}$



=== TEST 25: JSON null: 400 invalid_json
--- more_headers
Content-Type: application/json
--- request
POST /chatport/messages
null
--- error_code: 400
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"invalid_json","message":".+"\}$



=== TEST 26: duplicate keys (which "text" would be stored?): 400 invalid_json
--- more_headers
Content-Type: application/json
--- request
POST /chatport/messages
{"text":"shown to the operator","text":"something else"}
--- error_code: 400
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"invalid_json","message":".+"\}$



=== TEST 27: invalid UTF-8 bytes (ff fe) inside the text: 400 invalid_json
--- more_headers
Content-Type: application/json
--- request eval
"POST /chatport/messages\n{\"text\":\"a\xff\xfeb\"}"
--- error_code: 400
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"invalid_json","message":".+"\}$



=== TEST 28: an overlong UTF-8 encoding of "/" (c0 af) inside the text: 400 invalid_json
--- more_headers
Content-Type: application/json
--- request eval
"POST /chatport/messages\n{\"text\":\"..\xc0\xaf..\"}"
--- error_code: 400
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"invalid_json","message":".+"\}$



=== TEST 29: invalid UTF-8 in the page: 400 invalid_json
--- more_headers
Content-Type: application/json
--- request eval
"POST /chatport/messages\n{\"text\":\"hello\",\"page\":\"https://x/\xe3\x81\"}"
--- error_code: 400
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"invalid_json","message":".+"\}$



=== TEST 30: "\u0000" in the text: 400 invalid_json
--- more_headers
Content-Type: application/json
--- request
POST /chatport/messages
{"text":"before\u0000after"}
--- error_code: 400
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"invalid_json","message":".+"\}$



=== TEST 31: a lone UTF-16 surrogate escape "\ud800" in the text: 400 invalid_json
--- more_headers
Content-Type: application/json
--- request
POST /chatport/messages
{"text":"a\ud800b"}
--- error_code: 400
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"invalid_json","message":".+"\}$



=== TEST 32: an empty body without Content-Length: 400 invalid_json
--- more_headers
Content-Type: application/json
--- request
POST /chatport/messages
--- error_code: 400
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"invalid_json","message":".+"\}$



=== TEST 33: an empty body with "Content-Length: 0": 400 invalid_json
--- more_headers
Content-Type: application/json
Content-Length: 0
--- request
POST /chatport/messages
--- error_code: 400
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"invalid_json","message":".+"\}$



=== TEST 34: 3000 nested arrays (a parser's stack, within the body limit): 400 invalid_json
--- more_headers
Content-Type: application/json
--- request eval
"POST /chatport/messages\n" . ("[" x 3000) . ("]" x 3000)
--- error_code: 400
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"invalid_json","message":".+"\}$



=== TEST 35: an object followed by garbage: 400 invalid_json
--- more_headers
Content-Type: application/json
--- request
POST /chatport/messages
{"text":"hello"} trailing
--- error_code: 400
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"invalid_json","message":".+"\}$



=== TEST 36: two objects in one body: 400 invalid_json
--- more_headers
Content-Type: application/json
--- request
POST /chatport/messages
{"text":"one"}{"text":"two"}
--- error_code: 400
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"invalid_json","message":".+"\}$



=== TEST 37: an empty object: 400 missing_text
--- more_headers
Content-Type: application/json
--- request
POST /chatport/messages
{}
--- error_code: 400
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"missing_text","message":".+"\}$



=== TEST 38: a page and no text: 400 missing_text
--- more_headers
Content-Type: application/json
--- request
POST /chatport/messages
{"page":"https://x"}
--- error_code: 400
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"missing_text","message":".+"\}$



=== TEST 39: "text": null: 400 missing_text
--- more_headers
Content-Type: application/json
--- request
POST /chatport/messages
{"text":null}
--- error_code: 400
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"missing_text","message":".+"\}$



=== TEST 40: keys are case-sensitive: "Text" is not "text": 400 missing_text
--- more_headers
Content-Type: application/json
--- request
POST /chatport/messages
{"Text":"hello"}
--- error_code: 400
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"missing_text","message":".+"\}$



=== TEST 41: "text" a number: 400 invalid_text
--- more_headers
Content-Type: application/json
--- request
POST /chatport/messages
{"text":5}
--- error_code: 400
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"invalid_text","message":".+"\}$



=== TEST 42: "text" an array of strings: 400 invalid_text
--- more_headers
Content-Type: application/json
--- request
POST /chatport/messages
{"text":["a"]}
--- error_code: 400
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"invalid_text","message":".+"\}$



=== TEST 43: "text" an object: 400 invalid_text
--- more_headers
Content-Type: application/json
--- request
POST /chatport/messages
{"text":{}}
--- error_code: 400
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"invalid_text","message":".+"\}$



=== TEST 44: "text" a boolean: 400 invalid_text
--- more_headers
Content-Type: application/json
--- request
POST /chatport/messages
{"text":true}
--- error_code: 400
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"invalid_text","message":".+"\}$



=== TEST 45: a control character U+0001 in the text: 400 invalid_text
--- more_headers
Content-Type: application/json
--- request
POST /chatport/messages
{"text":"a\u0001b"}
--- error_code: 400
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"invalid_text","message":".+"\}$



=== TEST 46: DEL (U+007F) in the text: 400 invalid_text
--- more_headers
Content-Type: application/json
--- request
POST /chatport/messages
{"text":"a\u007fb"}
--- error_code: 400
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"invalid_text","message":".+"\}$



=== TEST 47: a terminal escape sequence (ESC, U+001B) in the text: 400 invalid_text
--- more_headers
Content-Type: application/json
--- request
POST /chatport/messages
{"text":"\u001b[31mred\u001b[0m"}
--- error_code: 400
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"invalid_text","message":".+"\}$



=== TEST 48: an empty text: 400 empty_text
--- more_headers
Content-Type: application/json
--- request
POST /chatport/messages
{"text":""}
--- error_code: 400
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"empty_text","message":".+"\}$



=== TEST 49: a text of spaces: 400 empty_text
--- more_headers
Content-Type: application/json
--- request
POST /chatport/messages
{"text":"   "}
--- error_code: 400
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"empty_text","message":".+"\}$



=== TEST 50: a text of a line break and a tab: 400 empty_text
--- more_headers
Content-Type: application/json
--- request
POST /chatport/messages
{"text":"\n\t"}
--- error_code: 400
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"empty_text","message":".+"\}$



=== TEST 51: a text of one ideographic space (U+3000): 400 empty_text
--- more_headers
Content-Type: application/json
--- request
POST /chatport/messages
{"text":"\u3000"}
--- error_code: 400
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"empty_text","message":".+"\}$



=== TEST 52: a text of no-break spaces, CR and LF: 400 empty_text
--- more_headers
Content-Type: application/json
--- request
POST /chatport/messages
{"text":"\u00a0 \r\n\u00a0"}
--- error_code: 400
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"empty_text","message":".+"\}$



=== TEST 53: a text of 2049 bytes (chatport_max_message 2k): 413 text_too_large
--- more_headers
Content-Type: application/json
--- request eval
"POST /chatport/messages\n{\"text\":\"" . ("a" x 2049) . "\"}"
--- error_code: 413
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"text_too_large","message":".+"\}$



=== TEST 54: the limit counts UTF-8 bytes: 2046 "a" and one U+3042 (3 bytes) make 2049: 413 text_too_large
--- more_headers
Content-Type: application/json
--- request eval
"POST /chatport/messages\n{\"text\":\"" . ("a" x 2046) . "\\u3042\"}"
--- error_code: 413
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"text_too_large","message":".+"\}$



=== TEST 55: not an error: a text of exactly 2048 bytes is stored
--- more_headers
Content-Type: application/json
--- request eval
"POST /chatport/messages\n{\"text\":\"" . ("a" x 2048) . "\"}"
--- error_code: 201
--- response_body_like: ^\{"id":"\d+-\d+"\}$



=== TEST 56: chatport_max_message 10: 11 bytes and 12 bytes (4 kana) are 413, 9 bytes (3 kana) and 10 bytes are 201
--- config
    location /chatport/ {
        chatport;
        chatport_max_message 10;
    }
--- more_headers
Content-Type: application/json
--- request eval
["POST /chatport/messages\n{\"text\":\"aaaaaaaaaaa\"}",
 "POST /chatport/messages\n{\"text\":\"\\u3042\\u3044\\u3046\\u3048\"}",
 "POST /chatport/messages\n{\"text\":\"\\u3042\\u3044\\u3046\"}",
 "POST /chatport/messages\n{\"text\":\"aaaaaaaaaa\"}"]
--- error_code eval
[413, 413, 201, 201]
--- response_headers eval
["Content-Type: application/json; charset=utf-8",
 "Content-Type: application/json; charset=utf-8",
 "Content-Type: application/json; charset=utf-8",
 "Content-Type: application/json; charset=utf-8"]
--- response_body_like eval
[qr/^\{"error":"text_too_large","message":".+"\}$/,
 qr/^\{"error":"text_too_large","message":".+"\}$/,
 qr/^\{"id":"\d+-\d+"\}$/,
 qr/^\{"id":"\d+-\d+"\}$/]



=== TEST 57: "page" a number: 400 invalid_page
--- more_headers
Content-Type: application/json
--- request
POST /chatport/messages
{"text":"hello","page":5}
--- error_code: 400
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"invalid_page","message":".+"\}$



=== TEST 58: "page" an array: 400 invalid_page
--- more_headers
Content-Type: application/json
--- request
POST /chatport/messages
{"text":"hello","page":["https://x/"]}
--- error_code: 400
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"invalid_page","message":".+"\}$



=== TEST 59: a javascript: page (shown as a link in the console): 400 invalid_page
--- more_headers
Content-Type: application/json
--- request
POST /chatport/messages
{"text":"hello","page":"javascript:alert(1)"}
--- error_code: 400
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"invalid_page","message":".+"\}$



=== TEST 60: an ftp: page: 400 invalid_page
--- more_headers
Content-Type: application/json
--- request
POST /chatport/messages
{"text":"hello","page":"ftp://x"}
--- error_code: 400
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"invalid_page","message":".+"\}$



=== TEST 61: a scheme-relative page "//evil.example/": 400 invalid_page
--- more_headers
Content-Type: application/json
--- request
POST /chatport/messages
{"text":"hello","page":"//evil.example/"}
--- error_code: 400
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"invalid_page","message":".+"\}$



=== TEST 62: a page of 2049 bytes: 400 invalid_page
--- more_headers
Content-Type: application/json
--- request eval
"POST /chatport/messages\n{\"text\":\"hello\",\"page\":\"https://x/" . ("a" x 2039) . "\"}"
--- error_code: 400
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"invalid_page","message":".+"\}$



=== TEST 63: not an error: a page of exactly 2048 bytes
--- more_headers
Content-Type: application/json
--- request eval
"POST /chatport/messages\n{\"text\":\"hello\",\"page\":\"https://x/" . ("a" x 2038) . "\"}"
--- error_code: 201
--- response_body_like: ^\{"id":"\d+-\d+"\}$



=== TEST 64: a control character U+0001 in the page: 400 invalid_page
--- more_headers
Content-Type: application/json
--- request
POST /chatport/messages
{"text":"hello","page":"https://x/\u0001"}
--- error_code: 400
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"invalid_page","message":".+"\}$



=== TEST 65: CR LF and a fake header in the page: 400 invalid_page
--- more_headers
Content-Type: application/json
--- request
POST /chatport/messages
{"text":"hello","page":"https://x/\r\nSet-Cookie: a=b"}
--- error_code: 400
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"invalid_page","message":".+"\}$



=== TEST 66: not an error: <script> and CR LF in the text are data; a new visitor gets the cookie
--- more_headers
Content-Type: application/json
--- request
POST /chatport/messages
{"text":"<script>alert(1)</script>\r\nline 2 \"quoted\" \\ back","page":"https://localhost/a?b=<c>"}
--- error_code: 201
--- response_headers_like
Content-Type: application/json; charset=utf-8
Set-Cookie: chatport_vid=[0-9a-f]{32}; Path=/; Max-Age=2592000; HttpOnly; SameSite=Lax
--- response_body_like: ^\{"id":"\d+-\d+"\}$



=== TEST 67: not an error: a forged or malformed cookie on POST is never adopted: a new one is set
--- request eval
["POST /chatport/messages\n{\"text\":\"hello\"}",
 "POST /chatport/messages\n{\"text\":\"hello\"}"]
--- more_headers eval
["Content-Type: application/json\nCookie: chatport_vid=0123456789abcdef0123456789abcdef",
 "Content-Type: application/json\nCookie: chatport_vid=../../etc/passwd"]
--- error_code eval
[201, 201]
--- response_headers_like eval
["Set-Cookie: chatport_vid=(?!0123456789abcdef0123456789abcdef)[0-9a-f]{32}; Path=/; Max-Age=2592000; HttpOnly; SameSite=Lax",
 "Set-Cookie: chatport_vid=[0-9a-f]{32}; Path=/; Max-Age=2592000; HttpOnly; SameSite=Lax"]
--- response_body_like eval
[qr/^\{"id":"\d+-\d+"\}$/, qr/^\{"id":"\d+-\d+"\}$/]



=== TEST 68: GET messages with malformed cursors: 400 invalid_cursor
--- request eval
["GET /chatport/messages?after=abc",
 "GET /chatport/messages?after=1-",
 "GET /chatport/messages?after=-1",
 "GET /chatport/messages?after=1-2-3",
 "GET /chatport/messages?after=" . ("1" x 50),
 "GET /chatport/messages?after=",
 "GET /chatport/messages?after=1-a",
 "GET /chatport/messages?after=99999999999999999999-0",
 "GET /chatport/messages?after=1+-0",
 "GET /chatport/messages?after=1-0%00"]
--- error_code eval
[(400) x 10]
--- response_headers eval
[("Content-Type: application/json; charset=utf-8") x 10]
--- response_body_like eval
[(qr/^\{"error":"invalid_cursor","message":".+"\}$/) x 10]



=== TEST 69: GET messages: the cursor is checked before the cookie
--- more_headers
Cookie: chatport_vid=0123456789abcdef0123456789abcdef
--- request
GET /chatport/messages?after=abc
--- error_code: 400
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"invalid_cursor","message":".+"\}$



=== TEST 70: GET messages with malformed visitor cookies: 403 unknown_visitor
--- request eval
[("GET /chatport/messages") x 6]
--- more_headers eval
["Cookie: chatport_vid=xyz",
 "Cookie: chatport_vid=0123456789abcdef0123456789abcde",
 "Cookie: chatport_vid=0123456789ABCDEF0123456789ABCDEF",
 "Cookie: chatport_vid=0123456789abcdef0123456789abcdef0",
 "Cookie: chatport_vid=",
 "Cookie: a=1; chatport_vid=0123456789abcdef0123456789abcdeg; b=2"]
--- error_code eval
[(403) x 6]
--- response_headers eval
[("Content-Type: application/json; charset=utf-8") x 6]
--- response_body_like eval
[(qr/^\{"error":"unknown_visitor","message":".+"\}$/) x 6]



=== TEST 71: GET messages with a well-formed but unknown visitor cookie: 403 unknown_visitor
--- more_headers
Cookie: chatport_vid=0123456789abcdef0123456789abcdef
--- request
GET /chatport/messages
--- error_code: 403
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"unknown_visitor","message":".+"\}$



=== TEST 72: not an error: GET messages without a visitor cookie is an empty history
--- request eval
["GET /chatport/messages",
 "GET /chatport/messages?after=5-0",
 "GET /chatport/messages?after=1700000000000-3&x=1",
 "GET /chatport/messages"]
--- more_headers eval
["", "", "", "Cookie: other=1; chatport_vidx=0123456789abcdef0123456789abcdef"]
--- error_code eval
[200, 200, 200, 200]
--- response_headers eval
[("Content-Type: application/json; charset=utf-8") x 4]
--- response_body eval
["{\"messages\":[],\"events\":[],\"cursor\":\"0-0\"}\n",
 "{\"messages\":[],\"events\":[],\"cursor\":\"5-0\"}\n",
 "{\"messages\":[],\"events\":[],\"cursor\":\"1700000000000-3\"}\n",
 "{\"messages\":[],\"events\":[],\"cursor\":\"0-0\"}\n"]



=== TEST 73: GET poll without a visitor cookie: 403 unknown_visitor
--- request
GET /chatport/poll
--- error_code: 403
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"unknown_visitor","message":".+"\}$



=== TEST 74: GET poll with a malformed visitor cookie: 403 unknown_visitor
--- more_headers
Cookie: chatport_vid=0123456789ABCDEF0123456789ABCDEF
--- request
GET /chatport/poll
--- error_code: 403
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"unknown_visitor","message":".+"\}$



=== TEST 75: GET poll with a forged, well-formed cookie: 403 at once, not after chatport_poll_timeout
--- config
    location /chatport/ {
        chatport;
        chatport_poll_timeout 30s;
    }
--- more_headers
Cookie: chatport_vid=0123456789abcdef0123456789abcdef
--- request
GET /chatport/poll?after=0-0
--- timeout: 3
--- error_code: 403
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"unknown_visitor","message":".+"\}$



=== TEST 76: GET poll with malformed cursors (checked before the cookie): 400 invalid_cursor
--- request eval
["GET /chatport/poll?after=abc",
 "GET /chatport/poll?after=1-2-3",
 "GET /chatport/poll?after=" . ("9" x 50),
 "GET /chatport/poll?after="]
--- more_headers eval
["", "", "", "Cookie: chatport_vid=0123456789abcdef0123456789abcdef"]
--- error_code eval
[(400) x 4]
--- response_headers eval
[("Content-Type: application/json; charset=utf-8") x 4]
--- response_body_like eval
[(qr/^\{"error":"invalid_cursor","message":".+"\}$/) x 4]



=== TEST 77: PUT, DELETE, PATCH, OPTIONS on messages: 405 with "Allow: GET, POST"
--- request eval
["PUT /chatport/messages\n{\"text\":\"hello\"}",
 "DELETE /chatport/messages",
 "PATCH /chatport/messages\n{\"text\":\"hello\"}",
 "OPTIONS /chatport/messages"]
--- more_headers
Content-Type: application/json
--- error_code eval
[(405) x 4]
--- response_headers eval
[("Content-Type: application/json; charset=utf-8\nAllow: GET, POST") x 4]
--- response_body_like eval
[(qr/^\{"error":"method_not_allowed","message":".+"\}$/) x 4]



=== TEST 78: HEAD on messages: 405 with "Allow: GET, POST" (and no body)
--- request
HEAD /chatport/messages
--- error_code: 405
--- response_headers
Content-Type: application/json; charset=utf-8
Allow: GET, POST



=== TEST 79: POST and PUT on poll: 405 with "Allow: GET"; POST on config: 405 with "Allow: GET, HEAD"
--- request eval
["POST /chatport/poll\n{\"text\":\"hello\"}",
 "PUT /chatport/poll\n{}",
 "POST /chatport/config\n{}"]
--- more_headers
Content-Type: application/json
--- error_code eval
[405, 405, 405]
--- response_headers eval
["Content-Type: application/json; charset=utf-8\nAllow: GET",
 "Content-Type: application/json; charset=utf-8\nAllow: GET",
 "Content-Type: application/json; charset=utf-8\nAllow: GET, HEAD"]
--- response_body_like eval
[(qr/^\{"error":"method_not_allowed","message":".+"\}$/) x 3]



=== TEST 80: unknown endpoints below the prefix: 404 not_found
--- request eval
["GET /chatport/nope",
 "GET /chatport/",
 "GET /chatport/messages/",
 "GET /chatport/Messages",
 "POST /chatport/messages.json\n{\"text\":\"hello\"}",
 "GET /chatport/poll/x"]
--- error_code eval
[(404) x 6]
--- response_headers eval
[("Content-Type: application/json; charset=utf-8") x 6]
--- response_body_like eval
[(qr/^\{"error":"not_found","message":".+"\}$/) x 6]



=== TEST 81: Redis unreachable: POST messages is 503 unavailable with "Retry-After: 2"
--- http_config
    chatport_redis 127.0.0.1:1;
--- more_headers
Content-Type: application/json
--- request
POST /chatport/messages
{"text":"hello"}
--- error_code: 503
--- response_headers
Content-Type: application/json; charset=utf-8
Retry-After: 2
--- response_body_like: ^\{"error":"unavailable","message":".+"\}$
--- error_log
chatport: redis command connection to 127.0.0.1:1 failed
--- no_error_log
[alert]
[crit]



=== TEST 82: Redis unreachable: reads with a cookie are 503 (the poll: pub/sub unavailable), the rest unchanged
--- http_config
    chatport_redis 127.0.0.1:1;
--- request eval
["GET /chatport/messages",
 "GET /chatport/poll?after=0-0",
 "GET /chatport/messages?after=5-0",
 "GET /chatport/poll",
 "GET /chatport/messages?after=x"]
--- more_headers eval
["Cookie: chatport_vid=0123456789abcdef0123456789abcdef",
 "Cookie: chatport_vid=0123456789abcdef0123456789abcdef",
 "", "", ""]
--- error_code eval
[503, 503, 200, 403, 400]
--- response_headers eval
["Content-Type: application/json; charset=utf-8\nRetry-After: 2",
 "Content-Type: application/json; charset=utf-8\nRetry-After: 2",
 "Content-Type: application/json; charset=utf-8\n!Retry-After",
 "Content-Type: application/json; charset=utf-8\n!Retry-After",
 "Content-Type: application/json; charset=utf-8\n!Retry-After"]
--- response_body_like eval
[qr/^\{"error":"unavailable","message":".+"\}$/,
 qr/^\{"error":"unavailable","message":".+"\}$/,
 qr/^\{"messages":\[\],"events":\[\],"cursor":"5-0"\}$/,
 qr/^\{"error":"unknown_visitor","message":".+"\}$/,
 qr/^\{"error":"invalid_cursor","message":".+"\}$/]
--- no_error_log
[alert]
[crit]



=== TEST 83: one nginx takes a volley of bad requests and still answers a normal one
--- request eval
["POST /chatport/messages\n{\"text\":\"a\xff\xfeb\"}",
 "POST /chatport/messages\n" . ("[" x 3000) . ("]" x 3000),
 "POST /chatport/messages\n{\"text\":\"hi\"" . (" " x 12276) . "}",
 "POST /chatport/messages\n{\"text\":\"" . ("a" x 2049) . "\"}",
 "POST /chatport/messages\n{\"text\":\"a\\u0000b\"}",
 "POST /chatport/messages\n{\"text\":\"a\\ud800b\"}",
 "POST /chatport/messages\n{\"text\":{\"text\":[1,2,{}]}}",
 "POST /chatport/messages\n{\"text\":\"hello\",\"page\":\"javascript:alert(1)\"}",
 "POST /chatport/messages\n{\"text\":\"\\u3000\"}",
 "POST /chatport/messages\n{\"text\":\"hi\",\"text\":\"hi\"}",
 "GET /chatport/messages?after=" . ("1" x 50),
 "GET /chatport/poll?after=1-2-3",
 "DELETE /chatport/messages",
 "GET /chatport/poll",
 "POST /chatport/messages\n{\"text\":\"still here?\",\"page\":\"https://localhost/\"}",
 "GET /chatport/messages"]
--- more_headers eval
[("Content-Type: application/json") x 10,
 "", "Cookie: chatport_vid=0123456789abcdef0123456789abcdef", "",
 "Cookie: chatport_vid=0123456789abcdef0123456789abcdef",
 "Content-Type: application/json", ""]
--- error_code eval
[400, 400, 413, 413, 400, 400, 400, 400, 400, 400, 400, 400, 405, 403, 201, 200]
--- response_body_like eval
[qr/"error":"invalid_json"/, qr/"error":"invalid_json"/,
 qr/"error":"body_too_large"/, qr/"error":"text_too_large"/,
 qr/"error":"invalid_json"/, qr/"error":"invalid_json"/,
 qr/"error":"invalid_text"/, qr/"error":"invalid_page"/,
 qr/"error":"empty_text"/, qr/"error":"invalid_json"/,
 qr/"error":"invalid_cursor"/, qr/"error":"invalid_cursor"/,
 qr/"error":"method_not_allowed"/, qr/"error":"unknown_visitor"/,
 qr/^\{"id":"\d+-\d+"\}$/, qr/^\{"messages":\[\],"events":\[\],"cursor":"0-0"\}$/]
