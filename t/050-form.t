# POST P form, the contact form (SPEC "Visitor endpoints", "Errors"):
# urlencoded and JSON successes, every validation error of the default and
# of configured fields, bad inputs with their statuses (broken
# percent-encoding, 10 000 fields, a 1 MB field, CR/LF, <script>, invalid
# UTF-8, NUL, wrong content types, missing and chunked bodies), the
# honeypot, the 303 flow of a plain HTML form and its Location, the
# cross-origin refusal, Redis down (503, never a success), the form fields
# in GET P config, and a submission read back through GET A forms.
#
# Unless a block says otherwise it uses the test Redis, the location
# "location /chatport/ { chatport; }", a chatport_site of its own (so the
# per-site rate counters of blocks and of earlier runs never meet) and
# no_error_log [alert] and [crit]. Every non-ASCII or control byte in a
# request is written as a Perl escape or a percent escape.
#
# The default fields: name (text, 200), email (email, required, 254),
# message (textarea, required, 5000). The body limit is 3 x 2048 + 4096 +
# the sum over the fields of 3 x max + name length + 2: 26624 bytes.

use Test::Nginx::Socket 'no_plan';
use lib 't/lib';
use ChatPort::ErrorLog;

my $run = $$;

add_block_preprocessor(sub {
    my $block = shift;
    my ($n) = $block->name =~ /TEST (\d+)/;

    if (!defined $block->http_config) {
        $block->set_value("http_config",
                          "    chatport_redis 127.0.0.1:\$TEST_NGINX_REDIS_PORT;\n");
    }

    if (!defined $block->config) {
        $block->set_value("config",
                          "    location /chatport/ {\n"
                          . "        chatport;\n"
                          . "    }\n");
    }

    if ($block->config !~ /chatport_site/) {
        $block->set_value("config", "    chatport_site t050-$n-$run;\n"
                                    . $block->config);
    }

    if (!defined $block->no_error_log) {
        $block->set_value("no_error_log", "[alert]\n[crit]\n");
    }
});

no_shuffle();

run_tests();

__DATA__

=== TEST 1: urlencoded success: 201 {"id": stream id}, JSON
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- request
POST /chatport/form
name=Taro+Yamada&email=taro%40example.jp&message=Hello%2C+I+have+a+question.
--- error_code: 201
--- response_headers
Content-Type: application/json; charset=utf-8
!Location
--- response_body_like: ^\{"id":"\d+-\d+"\}$



=== TEST 2: JSON success: 201 {"id": stream id}
--- more_headers
Content-Type: application/json
--- request
POST /chatport/form
{"name":"Taro Yamada","email":"taro@example.jp","message":"Hello, I have a question."}
--- error_code: 201
--- response_headers
Content-Type: application/json; charset=utf-8
!Location
--- response_body_like: ^\{"id":"\d+-\d+"\}$



=== TEST 3: content types with parameters and in other letter cases are accepted
--- request eval
["POST /chatport/form\nemail=a%40b.co&message=one",
 "POST /chatport/form\nemail=a%40b.co&message=two",
 "POST /chatport/form\n{\"email\":\"a\@b.co\",\"message\":\"three\"}"]
--- more_headers eval
["Content-Type: application/x-www-form-urlencoded; charset=UTF-8",
 "Content-Type: Application/X-WWW-Form-Urlencoded",
 "Content-Type: application/json; charset=utf-8"]
--- error_code eval
[201, 201, 201]
--- response_body_like eval
[qr/^\{"id":"\d+-\d+"\}$/, qr/^\{"id":"\d+-\d+"\}$/, qr/^\{"id":"\d+-\d+"\}$/]



=== TEST 4: the optional name may be absent or empty; Japanese text and an international domain are fine
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- request eval
["POST /chatport/form\nemail=a%40b.co&message=hi",
 "POST /chatport/form\nname=&email=a%40b.co&message=hi",
 "POST /chatport/form\nname=%E5%B1%B1%E7%94%B0&email=yamada%40%E4%BE%8B%E3%81%88.jp&message=%E3%81%93%E3%82%93%E3%81%AB%E3%81%A1%E3%81%AF"]
--- error_code eval
[201, 201, 201]
--- response_body_like eval
[qr/^\{"id":"\d+-\d+"\}$/, qr/^\{"id":"\d+-\d+"\}$/, qr/^\{"id":"\d+-\d+"\}$/]



=== TEST 5: unknown fields are ignored (also non-string ones in JSON)
--- request eval
["POST /chatport/form\nemail=a%40b.co&message=hi&subject=x&utm_source=ad&%E2%9C%93=1",
 "POST /chatport/form\n{\"email\":\"a\@b.co\",\"message\":\"hi\",\"extra\":{\"deep\":[1,2,3]},\"n\":42,\"t\":true}"]
--- more_headers eval
["Content-Type: application/x-www-form-urlencoded",
 "Content-Type: application/json"]
--- error_code eval
[201, 201]
--- response_body_like eval
[qr/^\{"id":"\d+-\d+"\}$/, qr/^\{"id":"\d+-\d+"\}$/]



=== TEST 6: repeated urlencoded keys: the first wins (valid first: 201; invalid first: 400)
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- request eval
["POST /chatport/form\nemail=a%40b.co&message=hi&email=not-an-email",
 "POST /chatport/form\nemail=not-an-email&message=hi&email=a%40b.co"]
--- error_code eval
[201, 400]
--- response_body_like eval
[qr/^\{"id":"\d+-\d+"\}$/,
 qr/^\{"error":"invalid_fields","message":"[^"]+","fields":\{"email":"invalid"\}\}$/]



=== TEST 7: every field at its longest (name 200, email 254, message 5000 bytes): 201
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- request eval
"POST /chatport/form\nname=" . ("n" x 200) . "&email=" . ("l" x 64) . "%40" . ("d" x 185) . ".com"
. "&message=" . ("m" x 5000)
--- error_code: 201
--- response_body_like: ^\{"id":"\d+-\d+"\}$



=== TEST 8: validation: an empty urlencoded body: email and message required
--- more_headers
Content-Type: application/x-www-form-urlencoded
Content-Length: 0
--- request
POST /chatport/form
--- error_code: 400
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"invalid_fields","message":"[^"]+","fields":\{"email":"required","message":"required"\}\}$



=== TEST 9: validation: an empty JSON object: email and message required
--- more_headers
Content-Type: application/json
--- request
POST /chatport/form
{}
--- error_code: 400
--- response_body_like: ^\{"error":"invalid_fields","message":"[^"]+","fields":\{"email":"required","message":"required"\}\}$



=== TEST 10: validation: required fields that are empty or only blanks (space, tab, no-break space, ideographic space): required
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- request
POST /chatport/form
email=&message=+%09%C2%A0%E3%80%80+
--- error_code: 400
--- response_body_like: ^\{"error":"invalid_fields","message":"[^"]+","fields":\{"email":"required","message":"required"\}\}$



=== TEST 11: validation: email not an address, in several ways: invalid
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- request eval
["POST /chatport/form\nemail=not-an-email&message=hi",
 "POST /chatport/form\nemail=a%40b&message=hi",
 "POST /chatport/form\nemail=%40example.com&message=hi",
 "POST /chatport/form\nemail=a%40b%40example.com&message=hi",
 "POST /chatport/form\nemail=a+b%40example.com&message=hi",
 "POST /chatport/form\nemail=a%40example..com&message=hi",
 "POST /chatport/form\nemail=a%40exa%3Cmple.com&message=hi"]
--- error_code eval
[400, 400, 400, 400, 400, 400, 400]
--- response_body_like eval
[(qr/^\{"error":"invalid_fields","message":"[^"]+","fields":\{"email":"invalid"\}\}$/) x 7]



=== TEST 12: validation: email 255 bytes, name 201, message 5001: too_long, all in one answer
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- request eval
"POST /chatport/form\nname=" . ("n" x 201) . "&email=" . ("l" x 64) . "%40" . ("d" x 186) . ".com"
. "&message=" . ("m" x 5001)
--- error_code: 400
--- response_body_like: ^\{"error":"invalid_fields","message":"[^"]+","fields":\{"name":"too_long","email":"too_long","message":"too_long"\}\}$



=== TEST 13: validation: different errors of different fields together, in field order
--- more_headers
Content-Type: application/json
--- request eval
"POST /chatport/form\n{\"message\":\"\",\"email\":\"nobody\",\"name\":\"" . ("x" x 201) . "\"}"
--- error_code: 400
--- response_body_like: ^\{"error":"invalid_fields","message":"[^"]+","fields":\{"name":"too_long","email":"invalid","message":"required"\}\}$



=== TEST 14: validation: JSON values that are not strings (number, null, array, object, true): invalid
--- more_headers
Content-Type: application/json
--- request eval
["POST /chatport/form\n{\"email\":42,\"message\":\"hi\"}",
 "POST /chatport/form\n{\"email\":\"a\@b.co\",\"message\":null}",
 "POST /chatport/form\n{\"email\":[\"a\@b.co\"],\"message\":\"hi\"}",
 "POST /chatport/form\n{\"email\":\"a\@b.co\",\"message\":{\"text\":\"hi\"}}",
 "POST /chatport/form\n{\"name\":true,\"email\":\"a\@b.co\",\"message\":\"hi\"}"]
--- error_code eval
[400, 400, 400, 400, 400]
--- response_body_like eval
[qr/^\{"error":"invalid_fields","message":"[^"]+","fields":\{"email":"invalid"\}\}$/,
 qr/^\{"error":"invalid_fields","message":"[^"]+","fields":\{"message":"invalid"\}\}$/,
 qr/^\{"error":"invalid_fields","message":"[^"]+","fields":\{"email":"invalid"\}\}$/,
 qr/^\{"error":"invalid_fields","message":"[^"]+","fields":\{"message":"invalid"\}\}$/,
 qr/^\{"error":"invalid_fields","message":"[^"]+","fields":\{"name":"invalid"\}\}$/]



=== TEST 15: bad input: broken percent-encoding (lone %, %4 at the end, %zz, %%, in a key): 400 invalid_encoding
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- request eval
["POST /chatport/form\nemail=a%40b.co&message=100%",
 "POST /chatport/form\nemail=a%40b.co&message=abc%4",
 "POST /chatport/form\nemail=a%40b.co&message=%zzhello",
 "POST /chatport/form\nemail=a%40b.co&message=50%%off",
 "POST /chatport/form\nemail=a%40b.co&mess%g1ge=hi&message=hi"]
--- error_code eval
[400, 400, 400, 400, 400]
--- response_headers eval
["Content-Type: application/json; charset=utf-8",
 "Content-Type: application/json; charset=utf-8",
 "Content-Type: application/json; charset=utf-8",
 "Content-Type: application/json; charset=utf-8",
 "Content-Type: application/json; charset=utf-8"]
--- response_body_like eval
[(qr/^\{"error":"invalid_encoding","message":"[^"]+"\}$/) x 5]



=== TEST 16: bad input: 10 000 fields: 400 too_many_fields
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- request eval
"POST /chatport/form\nemail=a%40b.co&message=hi" . ("&a" x 10000)
--- error_code: 400
--- response_body_like: ^\{"error":"too_many_fields","message":"[^"]+"\}$



=== TEST 17: 64 pairs are accepted, 65 are too many (urlencoded); empty pairs between "&&" do not count
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- request eval
["POST /chatport/form\nemail=a%40b.co&message=hi&&&" . CORE::join("&", map { "f$_=1" } 1 .. 62),
 "POST /chatport/form\nemail=a%40b.co&message=hi&" . CORE::join("&", map { "f$_=1" } 1 .. 63)]
--- error_code eval
[201, 400]
--- response_body_like eval
[qr/^\{"id":"\d+-\d+"\}$/, qr/^\{"error":"too_many_fields","message":"[^"]+"\}$/]



=== TEST 18: bad input: a JSON object of 65 keys: 400 too_many_fields (64 are accepted)
--- more_headers
Content-Type: application/json
--- request eval
["POST /chatport/form\n{\"email\":\"a\@b.co\",\"message\":\"hi\"," . CORE::join(",", map { "\"f$_\":1" } 1 .. 62) . "}",
 "POST /chatport/form\n{\"email\":\"a\@b.co\",\"message\":\"hi\"," . CORE::join(",", map { "\"f$_\":1" } 1 .. 63) . "}"]
--- error_code eval
[201, 400]
--- response_body_like eval
[qr/^\{"id":"\d+-\d+"\}$/, qr/^\{"error":"too_many_fields","message":"[^"]+"\}$/]



=== TEST 19: bad input: a 1 MB urlencoded field: 413 body_too_large
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- request eval
"POST /chatport/form\nemail=a%40b.co&message=" . ("a" x 1048576)
--- error_code: 413
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"body_too_large","message":"[^"]+"\}$



=== TEST 20: bad input: a 1 MB JSON field: 413 body_too_large
--- more_headers
Content-Type: application/json
--- request eval
"POST /chatport/form\n{\"email\":\"a\@b.co\",\"message\":\"" . ("a" x 1048576) . "\"}"
--- error_code: 413
--- response_body_like: ^\{"error":"body_too_large","message":"[^"]+"\}$



=== TEST 21: the body limit of the default fields: 26624 bytes are read (201), 26625 are too large (413)
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- request eval
["POST /chatport/form\nemail=a%40b.co&message=hi&pad=" . ("p" x (26624 - 30)),
 "POST /chatport/form\nemail=a%40b.co&message=hi&pad=" . ("p" x (26625 - 30))]
--- error_code eval
[201, 413]
--- response_body_like eval
[qr/^\{"id":"\d+-\d+"\}$/, qr/^\{"error":"body_too_large","message":"[^"]+"\}$/]



=== TEST 22: bad input: a 1 MB field in a chunked body (no Content-Length to check first): 413
--- raw_request eval
"POST /chatport/form HTTP/1.1\r
Host: localhost\r
Connection: close\r
Content-Type: application/x-www-form-urlencoded\r
Transfer-Encoding: chunked\r
\r
1c\r
email=a%40b.co&message=hi&x=\r
" . (sprintf("%x\r\n", 65536) . ("c" x 65536) . "\r\n") x 16 . "0\r\n\r\n"
--- error_code: 413
--- response_headers
Content-Type: application/json; charset=utf-8
--- response_body_like: ^\{"error":"body_too_large","message":"[^"]+"\}$



=== TEST 23: a small chunked urlencoded body in three chunks: 201
--- raw_request eval
"POST /chatport/form HTTP/1.1\r
Host: localhost\r
Connection: close\r
Content-Type: application/x-www-form-urlencoded\r
Transfer-Encoding: chunked\r
\r
7\r
email=a\r
7\r
%40b.co\r
e\r
&message=hello\r
0\r
\r
"
--- error_code: 201
--- response_body_like: ^\{"id":"\d+-\d+"\}$



=== TEST 24: a chunked JSON body: 201
--- raw_request eval
"POST /chatport/form HTTP/1.1\r
Host: localhost\r
Connection: close\r
Content-Type: application/json\r
Transfer-Encoding: chunked\r
\r
10\r
{\"email\":\"a\@b.co\r
11\r
\",\"message\":\"hi\"}\r
0\r
\r
"
--- error_code: 201
--- response_body_like: ^\{"id":"\d+-\d+"\}$



=== TEST 25: bad input: a chunked body with a broken chunk size: 400 (from nginx), nothing crashes
--- raw_request eval
"POST /chatport/form HTTP/1.1\r
Host: localhost\r
Connection: close\r
Content-Type: application/x-www-form-urlencoded\r
Transfer-Encoding: chunked\r
\r
zz\r
email=a%40b.co&message=hi\r
0\r
\r
"
--- error_code: 400
--- response_body_unlike: "id"



=== TEST 26: bad input: CR and LF in the one-line name: invalid; in the textarea message: allowed
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- request eval
["POST /chatport/form\nname=Taro%0D%0ASet-Cookie%3A+x%3D1&email=a%40b.co&message=hi",
 "POST /chatport/form\nname=Taro%0Ax&email=a%40b.co&message=hi",
 "POST /chatport/form\nemail=a%40b.co%0D%0ABcc%3A+victim%40example.com&message=hi",
 "POST /chatport/form\nemail=a%40b.co&message=line+one%0D%0Aline+two%0Aline+three%0D"]
--- error_code eval
[400, 400, 400, 201]
--- response_body_like eval
[qr/^\{"error":"invalid_fields","message":"[^"]+","fields":\{"name":"invalid"\}\}$/,
 qr/^\{"error":"invalid_fields","message":"[^"]+","fields":\{"name":"invalid"\}\}$/,
 qr/^\{"error":"invalid_fields","message":"[^"]+","fields":\{"email":"invalid"\}\}$/,
 qr/^\{"id":"\d+-\d+"\}$/]



=== TEST 27: bad input: <script> and quotes in fields are data, accepted as text (urlencoded and JSON)
--- request eval
["POST /chatport/form\nname=%3Cscript%3Ealert(1)%3C%2Fscript%3E&email=a%40b.co&message=%22%27%3Cimg+src%3Dx+onerror%3Dalert(1)%3E%5C",
 "POST /chatport/form\n{\"name\":\"<script>alert(1)</script>\",\"email\":\"a\@b.co\",\"message\":\"</script><script>x()</script>\\\\\\\"\"}"]
--- more_headers eval
["Content-Type: application/x-www-form-urlencoded",
 "Content-Type: application/json"]
--- error_code eval
[201, 201]
--- response_body_like eval
[qr/^\{"id":"\d+-\d+"\}$/, qr/^\{"id":"\d+-\d+"\}$/]



=== TEST 28: bad input: NUL, other C0 controls and DEL in fields: invalid (urlencoded)
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- request eval
["POST /chatport/form\nname=a%00b&email=a%40b.co&message=hi",
 "POST /chatport/form\nemail=a%40b.co&message=hi%00",
 "POST /chatport/form\nemail=a%40b.co&message=bell%07",
 "POST /chatport/form\nemail=a%40b.co&message=esc%1B%5B31m",
 "POST /chatport/form\nname=x%7F&email=a%40b.co&message=hi",
 "POST /chatport/form\nemail=a%40b.co%00&message=hi"]
--- error_code eval
[400, 400, 400, 400, 400, 400]
--- response_body_like eval
[qr/^\{"error":"invalid_fields","message":"[^"]+","fields":\{"name":"invalid"\}\}$/,
 qr/^\{"error":"invalid_fields","message":"[^"]+","fields":\{"message":"invalid"\}\}$/,
 qr/^\{"error":"invalid_fields","message":"[^"]+","fields":\{"message":"invalid"\}\}$/,
 qr/^\{"error":"invalid_fields","message":"[^"]+","fields":\{"message":"invalid"\}\}$/,
 qr/^\{"error":"invalid_fields","message":"[^"]+","fields":\{"name":"invalid"\}\}$/,
 qr/^\{"error":"invalid_fields","message":"[^"]+","fields":\{"email":"invalid"\}\}$/]



=== TEST 29: bad input: a raw NUL byte in an urlencoded body: invalid
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- request eval
"POST /chatport/form\nemail=a%40b.co&message=nul\x00byte"
--- error_code: 400
--- response_body_like: ^\{"error":"invalid_fields","message":"[^"]+","fields":\{"message":"invalid"\}\}$



=== TEST 30: bad input: control characters in JSON strings: \u0001 and \u001b invalid, \u0000 refused
--- more_headers
Content-Type: application/json
--- request eval
["POST /chatport/form\n{\"email\":\"a\@b.co\",\"message\":\"x\\u0001y\"}",
 "POST /chatport/form\n{\"name\":\"\\u001b[2J\",\"email\":\"a\@b.co\",\"message\":\"hi\"}",
 "POST /chatport/form\n{\"email\":\"a\@b.co\",\"message\":\"x\\u0000y\"}"]
--- error_code eval
[400, 400, 400]
--- response_body_like eval
[qr/^\{"error":"invalid_fields","message":"[^"]+","fields":\{"message":"invalid"\}\}$/,
 qr/^\{"error":"invalid_fields","message":"[^"]+","fields":\{"name":"invalid"\}\}$/,
 qr/^\{"error":"(?:invalid_json|invalid_fields)","message":"[^"]+"(?:,"fields":\{"message":"invalid"\})?\}$/]



=== TEST 31: bad input: invalid UTF-8 in urlencoded fields (ff, c3 28, overlong c0 af, cut e3 81, 5 bytes f8): invalid
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- request eval
["POST /chatport/form\nemail=a%40b.co&message=a%FFb",
 "POST /chatport/form\nemail=a%40b.co&message=%C3%28",
 "POST /chatport/form\nemail=a%40b.co&message=%C0%AF",
 "POST /chatport/form\nemail=a%40b.co&message=abc%E3%81",
 "POST /chatport/form\nname=%F8%88%80%80%80&email=a%40b.co&message=hi",
 "POST /chatport/form\nemail=a%40b.co&message=%F4%90%80%80"]
--- error_code eval
[400, 400, 400, 400, 400, 400]
--- response_body_like eval
[qr/^\{"error":"invalid_fields","message":"[^"]+","fields":\{"message":"invalid"\}\}$/,
 qr/^\{"error":"invalid_fields","message":"[^"]+","fields":\{"message":"invalid"\}\}$/,
 qr/^\{"error":"invalid_fields","message":"[^"]+","fields":\{"message":"invalid"\}\}$/,
 qr/^\{"error":"invalid_fields","message":"[^"]+","fields":\{"message":"invalid"\}\}$/,
 qr/^\{"error":"invalid_fields","message":"[^"]+","fields":\{"name":"invalid"\}\}$/,
 qr/^\{"error":"invalid_fields","message":"[^"]+","fields":\{"message":"invalid"\}\}$/]



=== TEST 32: bad input: invalid UTF-8 that a lax decoder lets through (a lead byte as continuation c3 c3, a UTF-16 surrogate ed a0 80): invalid
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- request eval
["POST /chatport/form\nemail=a%40b.co&message=%C3%C3",
 "POST /chatport/form\nemail=a%40b.co&message=%ED%A0%80"]
--- error_code eval
[400, 400]
--- response_body_like eval
[qr/^\{"error":"invalid_fields","message":"[^"]+","fields":\{"message":"invalid"\}\}$/,
 qr/^\{"error":"invalid_fields","message":"[^"]+","fields":\{"message":"invalid"\}\}$/]



=== TEST 33: bad input: invalid UTF-8 bytes in a JSON body: 400 invalid_json
--- more_headers
Content-Type: application/json
--- request eval
["POST /chatport/form\n{\"email\":\"a\@b.co\",\"message\":\"a\xff\xfeb\"}",
 "POST /chatport/form\n{\"email\":\"a\@b.co\",\"message\":\"\xc0\xaf\"}"]
--- error_code eval
[400, 400]
--- response_body_like eval
[qr/^\{"error":"invalid_json","message":"[^"]+"\}$/,
 qr/^\{"error":"invalid_json","message":"[^"]+"\}$/]



=== TEST 34: bad input: invalid JSON (truncated, not an object, duplicate keys, text): 400 invalid_json
--- more_headers
Content-Type: application/json
--- request eval
["POST /chatport/form\n{\"email\":\"a\@b.co\",\"message\":\"hi\"",
 "POST /chatport/form\n[{\"email\":\"a\@b.co\",\"message\":\"hi\"}]",
 "POST /chatport/form\n\"email=a\@b.co\"",
 "POST /chatport/form\n{\"email\":\"a\@b.co\",\"message\":\"hi\",\"email\":\"c\@d.co\"}",
 "POST /chatport/form\nemail=a%40b.co&message=hi"]
--- error_code eval
[400, 400, 400, 400, 400]
--- response_body_like eval
[(qr/^\{"error":"invalid_json","message":"[^"]+"\}$/) x 5]



=== TEST 35: bad input: missing body: JSON without a body is invalid_json; urlencoded without one has its fields required
--- request eval
["POST /chatport/form", "POST /chatport/form"]
--- more_headers eval
["Content-Type: application/json", "Content-Type: application/x-www-form-urlencoded"]
--- error_code eval
[400, 400]
--- response_body_like eval
[qr/^\{"error":"invalid_json","message":"[^"]+"\}$/,
 qr/^\{"error":"invalid_fields","message":"[^"]+","fields":\{"email":"required","message":"required"\}\}$/]



=== TEST 36: bad input: wrong content types (none, text/plain, multipart, XML, a longer name beginning like JSON): 415
--- request eval
["POST /chatport/form\nemail=a%40b.co&message=hi",
 "POST /chatport/form\nemail=a%40b.co&message=hi",
 "POST /chatport/form\n--xyz\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\na\@b.co\r\n--xyz--",
 "POST /chatport/form\n<form><email>a\@b.co</email></form>",
 "POST /chatport/form\n{\"email\":\"a\@b.co\",\"message\":\"hi\"}"]
--- more_headers eval
["X-Nothing: 1",
 "Content-Type: text/plain",
 "Content-Type: multipart/form-data; boundary=xyz",
 "Content-Type: application/xml",
 "Content-Type: application/jsonp"]
--- error_code eval
[415, 415, 415, 415, 415]
--- response_headers eval
["Content-Type: application/json; charset=utf-8",
 "Content-Type: application/json; charset=utf-8",
 "Content-Type: application/json; charset=utf-8",
 "Content-Type: application/json; charset=utf-8",
 "Content-Type: application/json; charset=utf-8"]
--- response_body_like eval
[(qr/^\{"error":"unsupported_media_type","message":"[^"]+"\}$/) x 5]



=== TEST 37: bad input: a content type that only begins with the urlencoded name: 415
--- more_headers
Content-Type: application/x-www-form-urlencodedx
--- request
POST /chatport/form
email=a%40b.co&message=hi
--- error_code: 415
--- response_body_like: ^\{"error":"unsupported_media_type","message":"[^"]+"\}$



=== TEST 38: GET, PUT, DELETE on the form: 405 with Allow
--- request eval
["GET /chatport/form", "PUT /chatport/form\nemail=a%40b.co&message=hi", "DELETE /chatport/form"]
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- error_code eval
[405, 405, 405]
--- response_headers_like eval
["Allow: .*POST.*", "Allow: .*POST.*", "Allow: .*POST.*"]
--- response_body_like eval
[(qr/^\{"error":"method_not_allowed","message":"[^"]+"\}$/) x 3]



=== TEST 39: honeypot: a filled "website" is answered 201 {"id":null} (urlencoded and JSON), and logged
--- request eval
["POST /chatport/form\nemail=a%40b.co&message=buy+now&website=http%3A%2F%2Fspam.example",
 "POST /chatport/form\n{\"email\":\"a\@b.co\",\"message\":\"buy now\",\"website\":\"x\"}"]
--- more_headers eval
["Content-Type: application/x-www-form-urlencoded",
 "Content-Type: application/json"]
--- error_code eval
[201, 201]
--- response_body eval
["{\"id\":null}\n", "{\"id\":null}\n"]
--- error_log
form honeypot filled
--- no_error_log
[alert]
[crit]
[error]



=== TEST 40: honeypot: an empty "website" is a normal submission (a stream id, nothing logged)
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- request
POST /chatport/form
email=a%40b.co&message=hi&website=
--- error_code: 201
--- response_body_like: ^\{"id":"\d+-\d+"\}$
--- no_error_log
form honeypot filled
[alert]



=== TEST 41: honeypot in a plain HTML form: 303 "sent" like a success
--- more_headers
Content-Type: application/x-www-form-urlencoded
Accept: text/html,application/xhtml+xml,*/*;q=0.8
--- request
POST /chatport/form
email=a%40b.co&message=hi&website=spam&page=http%3A%2F%2Flocalhost%2Fcontact
--- error_code: 303
--- response_headers
Location: http://localhost/contact?chatport=sent
--- error_log
form honeypot filled



=== TEST 42: 303 flow: a plain HTML form goes back to its "page" with chatport=sent
--- more_headers
Content-Type: application/x-www-form-urlencoded
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8
--- request
POST /chatport/form
name=Taro&email=a%40b.co&message=hi&page=http%3A%2F%2Flocalhost%2Fcontact.html
--- error_code: 303
--- response_headers
Location: http://localhost/contact.html?chatport=sent
--- response_body:



=== TEST 43: 303 flow: a page with a query gets "&chatport=sent"; a fragment is dropped; https is fine
--- more_headers
Content-Type: application/x-www-form-urlencoded
Accept: text/html
--- request eval
["POST /chatport/form\nemail=a%40b.co&message=hi&page=http%3A%2F%2Flocalhost%2Fcontact%3Flang%3Dja",
 "POST /chatport/form\nemail=a%40b.co&message=hi&page=https%3A%2F%2Flocalhost%2Fcontact%23form",
 "POST /chatport/form\nemail=a%40b.co&message=hi&page=https%3A%2F%2Flocalhost%2Fc%3Fa%3D1%26b%3D2%23top"]
--- error_code eval
[303, 303, 303]
--- response_headers eval
["Location: http://localhost/contact?lang=ja&chatport=sent",
 "Location: https://localhost/contact?chatport=sent",
 "Location: https://localhost/c?a=1&b=2&chatport=sent"]



=== TEST 44: 303 flow: without a "page", the Referer of this host; a Referer of another host gives "/"
--- request eval
["POST /chatport/form\nemail=a%40b.co&message=hi",
 "POST /chatport/form\nemail=a%40b.co&message=hi"]
--- more_headers eval
["Content-Type: application/x-www-form-urlencoded
Accept: text/html
Referer: http://localhost/shop/item?id=7",
"Content-Type: application/x-www-form-urlencoded
Accept: text/html
Referer: http://evil.example/phish"]
--- error_code eval
[303, 303]
--- response_headers eval
["Location: http://localhost/shop/item?id=7&chatport=sent",
 "Location: /?chatport=sent"]



=== TEST 45: 303 flow: no open redirect: a "page" of another host (or not http/https) is not followed: "/"
--- more_headers
Content-Type: application/x-www-form-urlencoded
Accept: text/html
--- request eval
["POST /chatport/form\nemail=a%40b.co&message=hi&page=https%3A%2F%2Fevil.example%2F",
 "POST /chatport/form\nemail=a%40b.co&message=hi&page=%2F%2Fevil.example%2F",
 "POST /chatport/form\nemail=a%40b.co&message=hi&page=http%3A%2F%2Flocalhost%40evil.example%2F",
 "POST /chatport/form\nemail=a%40b.co&message=hi&page=http%3A%2F%2Flocalhost.evil.example%2F",
 "POST /chatport/form\nemail=a%40b.co&message=hi&page=javascript%3Aalert(1)"]
--- error_code eval
[303, 303, 303, 303, 303]
--- response_headers eval
["Location: /?chatport=sent", "Location: /?chatport=sent", "Location: /?chatport=sent",
 "Location: /?chatport=sent", "Location: /?chatport=sent"]



=== TEST 46: 303 flow: a "page" with CR/LF cannot split the Location header
--- more_headers
Content-Type: application/x-www-form-urlencoded
Accept: text/html
Referer: http://localhost/contact
--- request
POST /chatport/form
email=a%40b.co&message=hi&page=http%3A%2F%2Flocalhost%2Fa%0D%0ASet-Cookie%3A+evil%3D1
--- error_code: 303
--- response_headers
Location: http://localhost/contact?chatport=sent
--- raw_response_headers_unlike: evil



=== TEST 47: 303 flow: a validation error goes back with chatport=error
--- more_headers
Content-Type: application/x-www-form-urlencoded
Accept: text/html
--- request eval
["POST /chatport/form\nemail=not-an-email&message=hi&page=http%3A%2F%2Flocalhost%2Fcontact",
 "POST /chatport/form\nemail=a%40b.co&message=&page=http%3A%2F%2Flocalhost%2Fcontact%3Fx%3D1"]
--- error_code eval
[303, 303]
--- response_headers eval
["Location: http://localhost/contact?chatport=error",
 "Location: http://localhost/contact?x=1&chatport=error"]



=== TEST 48: 303 flow: broken percent-encoding and too many fields go back to the Referer with chatport=error
--- more_headers
Content-Type: application/x-www-form-urlencoded
Accept: text/html
Referer: http://localhost/contact
--- request eval
["POST /chatport/form\nemail=a%40b.co&message=100%",
 "POST /chatport/form\nemail=a%40b.co&message=hi" . ("&a" x 100)]
--- error_code eval
[303, 303]
--- response_headers eval
["Location: http://localhost/contact?chatport=error",
 "Location: http://localhost/contact?chatport=error"]



=== TEST 49: not the 303 flow: JSON with Accept text/html, and urlencoded without it, get 201 {"id"}
--- request eval
["POST /chatport/form\n{\"email\":\"a\@b.co\",\"message\":\"hi\",\"page\":\"http://localhost/contact\"}",
 "POST /chatport/form\nemail=a%40b.co&message=hi&page=http%3A%2F%2Flocalhost%2Fcontact"]
--- more_headers eval
["Content-Type: application/json
Accept: text/html",
"Content-Type: application/x-www-form-urlencoded
Accept: application/json"]
--- error_code eval
[201, 201]
--- response_headers eval
["!Location", "!Location"]
--- response_body_like eval
[qr/^\{"id":"\d+-\d+"\}$/, qr/^\{"id":"\d+-\d+"\}$/]



=== TEST 50: cross-origin: an Origin of another site (urlencoded, JSON, HTML form): 403 cross_origin
--- request eval
["POST /chatport/form\nemail=a%40b.co&message=hi",
 "POST /chatport/form\n{\"email\":\"a\@b.co\",\"message\":\"hi\"}",
 "POST /chatport/form\nemail=a%40b.co&message=hi&page=http%3A%2F%2Flocalhost%2F"]
--- more_headers eval
["Content-Type: application/x-www-form-urlencoded
Origin: https://evil.example",
"Content-Type: application/json
Origin: https://evil.example",
"Content-Type: application/x-www-form-urlencoded
Accept: text/html
Origin: http://localhost.evil.example"]
--- error_code eval
[403, 403, 403]
--- response_headers eval
["!Location", "!Location", "!Location"]
--- response_body_like eval
[(qr/^\{"error":"cross_origin","message":"[^"]+"\}$/) x 3]



=== TEST 51: cross-origin: Sec-Fetch-Site cross-site, and Origin null: 403
--- request eval
["POST /chatport/form\nemail=a%40b.co&message=hi",
 "POST /chatport/form\nemail=a%40b.co&message=hi"]
--- more_headers eval
["Content-Type: application/x-www-form-urlencoded
Sec-Fetch-Site: cross-site",
"Content-Type: application/x-www-form-urlencoded
Origin: null"]
--- error_code eval
[403, 403]
--- response_body_like eval
[(qr/^\{"error":"cross_origin","message":"[^"]+"\}$/) x 2]



=== TEST 52: not cross-origin: Origin of this host and Sec-Fetch-Site same-origin: 201
--- request eval
["POST /chatport/form\nemail=a%40b.co&message=hi",
 "POST /chatport/form\n{\"email\":\"a\@b.co\",\"message\":\"hi\"}"]
--- more_headers eval
["Content-Type: application/x-www-form-urlencoded
Origin: http://localhost
Sec-Fetch-Site: same-origin",
"Content-Type: application/json
Origin: https://localhost"]
--- error_code eval
[201, 201]
--- response_body_like eval
[qr/^\{"id":"\d+-\d+"\}$/, qr/^\{"id":"\d+-\d+"\}$/]



=== TEST 53: Redis down: 503 unavailable with Retry-After (JSON, urlencoded, HTML form: never a success)
--- http_config
    chatport_redis 127.0.0.1:1;
--- request eval
["POST /chatport/form\n{\"email\":\"a\@b.co\",\"message\":\"hi\"}",
 "POST /chatport/form\nemail=a%40b.co&message=hi",
 "POST /chatport/form\nemail=a%40b.co&message=hi&page=http%3A%2F%2Flocalhost%2Fcontact"]
--- more_headers eval
["Content-Type: application/json",
 "Content-Type: application/x-www-form-urlencoded",
 "Content-Type: application/x-www-form-urlencoded
Accept: text/html"]
--- error_code eval
[503, 503, 503]
--- response_headers_like eval
["Retry-After: \\d+", "Retry-After: \\d+", "Retry-After: \\d+"]
--- response_body_like eval
[(qr/^\{"error":"unavailable","message":"[^"]+"\}$/) x 3]
--- no_error_log
[alert]
[crit]



=== TEST 54: Redis down: the errors that need no Redis are still answered (400, 415, 403, honeypot)
--- http_config
    chatport_redis 127.0.0.1:1;
--- request eval
["POST /chatport/form\nemail=bad&message=hi",
 "POST /chatport/form\nemail=a%40b.co&message=hi",
 "POST /chatport/form\nemail=a%40b.co&message=hi&website=spam",
 "POST /chatport/form\nemail=a%40b.co&message=hi"]
--- more_headers eval
["Content-Type: application/x-www-form-urlencoded",
 "Content-Type: text/plain",
 "Content-Type: application/x-www-form-urlencoded",
 "Content-Type: application/x-www-form-urlencoded\nOrigin: https://evil.example"]
--- error_code eval
[400, 415, 201, 403]
--- response_body_like eval
[qr/^\{"error":"invalid_fields","message":"[^"]+","fields":\{"email":"invalid"\}\}$/,
 qr/^\{"error":"unsupported_media_type","message":"[^"]+"\}$/,
 qr/^\{"id":null\}$/,
 qr/^\{"error":"cross_origin","message":"[^"]+"\}$/]



=== TEST 55: GET P config lists configured fields (the location's list replaces the server's)
--- config
    chatport_form_field company max=100;
    location /chatport/ {
        chatport;
        chatport_form_field email required type=email max=100;
        chatport_form_field phone type=tel max=20;
        chatport_form_field body required type=textarea max=2k;
        chatport_form_field topic;
    }
    location /other/ {
        chatport;
    }
--- request eval
["GET /chatport/config", "GET /other/config"]
--- response_body_like eval
[qr/"form":\{"fields":\[\{"name":"email","type":"email","required":true,"max":100\},\{"name":"phone","type":"tel","required":false,"max":20\},\{"name":"body","type":"textarea","required":true,"max":2048\},\{"name":"topic","type":"text","required":false,"max":1000\}\]\}\}$/,
 qr/"form":\{"fields":\[\{"name":"company","type":"text","required":false,"max":100\}\]\}\}$/]



=== TEST 56: configured fields are the ones checked: the defaults are gone, the new limits apply
--- config
    location /chatport/ {
        chatport;
        chatport_form_field email required type=email max=20;
        chatport_form_field phone type=tel max=5;
        chatport_form_field body required type=textarea max=10;
    }
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- request eval
["POST /chatport/form\nemail=a%40b.co&body=line%0D%0Atwo",
 "POST /chatport/form\nemail=a%40b.co&message=hi",
 "POST /chatport/form\nemail=aaaaaaaaaaaaaaaa%40b.co&phone=123456&body=12345678901",
 "POST /chatport/form\nemail=a%40b.co&phone=1%0A2&body=ok"]
--- error_code eval
[201, 400, 400, 400]
--- response_body_like eval
[qr/^\{"id":"\d+-\d+"\}$/,
 qr/^\{"error":"invalid_fields","message":"[^"]+","fields":\{"body":"required"\}\}$/,
 qr/^\{"error":"invalid_fields","message":"[^"]+","fields":\{"email":"too_long","phone":"too_long","body":"too_long"\}\}$/,
 qr/^\{"error":"invalid_fields","message":"[^"]+","fields":\{"phone":"invalid"\}\}$/]



=== TEST 57: the body limit follows the configured fields (one field of max 10: 3 x 10 + 3 + 2 + 10240 = 10275)
--- config
    location /chatport/ {
        chatport;
        chatport_form_field msg required max=10;
    }
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- request eval
["POST /chatport/form\nmsg=hi&pad=" . ("p" x (10275 - 11)),
 "POST /chatport/form\nmsg=hi&pad=" . ("p" x (10276 - 11))]
--- error_code eval
[201, 413]
--- response_body_like eval
[qr/^\{"id":"\d+-\d+"\}$/, qr/^\{"error":"body_too_large","message":"[^"]+"\}$/]



=== TEST 58: the rate limit answers 429 rate_limited with Retry-After (chatport_form_rate 2/1m)
--- config
    location /chatport/ {
        chatport;
        chatport_form_rate 2/1m;
    }
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- request eval
["POST /chatport/form\nemail=a%40b.co&message=one",
 "POST /chatport/form\nemail=a%40b.co&message=two",
 "POST /chatport/form\nemail=a%40b.co&message=three",
 "POST /chatport/form\nemail=a%40b.co&message=four"]
--- error_code eval
[201, 201, 429, 429]
--- response_headers_like eval
["Content-Type: application/json; charset=utf-8", "Content-Type: application/json; charset=utf-8",
 "Retry-After: (?:[1-5]\\d|60)", "Retry-After: (?:[1-5]\\d|60)"]
--- response_body_like eval
[qr/^\{"id":"\d+-\d+"\}$/, qr/^\{"id":"\d+-\d+"\}$/,
 qr/^\{"error":"rate_limited","message":"[^"]+"\}$/,
 qr/^\{"error":"rate_limited","message":"[^"]+"\}$/]



=== TEST 59: the rate limit counts only what is stored: errors and the honeypot do not use it up
--- config
    location /chatport/ {
        chatport;
        chatport_form_rate 1/1m;
    }
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- request eval
["POST /chatport/form\nemail=bad&message=one",
 "POST /chatport/form\nemail=a%40b.co&message=two&website=spam",
 "POST /chatport/form\nemail=a%40b.co&message=100%",
 "POST /chatport/form\nemail=a%40b.co&message=stored",
 "POST /chatport/form\nemail=a%40b.co&message=limited"]
--- error_code eval
[400, 201, 400, 201, 429]
--- response_body_like eval
[qr/"invalid_fields"/, qr/^\{"id":null\}$/, qr/"invalid_encoding"/,
 qr/^\{"id":"\d+-\d+"\}$/, qr/^\{"error":"rate_limited"/]



=== TEST 60: a submission is listed by GET A forms, its text JSON-escaped as data
--- config
    location /chatport/agent/ {
        chatport_agent;
        auth_basic "operators";
        auth_basic_user_file $TEST_NGINX_SERVER_ROOT/html/htpasswd;
    }
    location /chatport/ {
        chatport;
    }
--- user_files
>>> htpasswd
alice:{PLAIN}secret
--- request eval
["POST /chatport/form\nname=%3Cscript%3Ealert(1)%3C%2Fscript%3E&email=a%40b.co&message=line+1%0D%0Aline+2&page=http%3A%2F%2Flocalhost%2Fcontact",
 "GET /chatport/agent/forms"]
--- more_headers eval
["Content-Type: application/x-www-form-urlencoded
Referer: http://localhost/about
User-Agent: TestAgent/1.0",
"Authorization: Basic YWxpY2U6c2VjcmV0"]
--- error_code eval
[201, 200]
--- response_body_like eval
[qr/^\{"id":"\d+-\d+"\}$/,
 qr/^\{"forms":\[\{"id":"(\d+)-\d+","ts":\1,"site":"t050-\d+-\d+","state":"new","fields":\{"name":"<script>alert\(1\)<\/script>","email":"a\@b\.co","message":"line 1\\r\\nline 2"\},"page":"http:\/\/localhost\/contact","referrer":"http:\/\/localhost\/about","user_agent":"TestAgent\/1\.0","conversation":"[0-9a-f]{32}"\}\],"cursor":"\d+-\d+","new":1\}$/]



=== TEST 61: GET A forms needs the operator's credentials: 401 without them
--- config
    location /chatport/agent/ {
        chatport_agent;
        auth_basic "operators";
        auth_basic_user_file $TEST_NGINX_SERVER_ROOT/html/htpasswd;
    }
--- user_files
>>> htpasswd
alice:{PLAIN}secret
--- request
GET /chatport/agent/forms
--- error_code: 401
--- response_body_unlike: forms



=== TEST 62: a "referrer" field that is a prefix of "http://" is not read past its end: a referrer sent but not a URL is none (not the Referer)
--- config
    location /chatport/agent/ {
        chatport_agent;
        auth_basic "operators";
        auth_basic_user_file $TEST_NGINX_SERVER_ROOT/html/htpasswd;
    }
    location /chatport/ {
        chatport;
    }
--- user_files
>>> htpasswd
alice:{PLAIN}secret
--- request eval
["POST /chatport/form\nemail=a%40b.co&message=hi&page=http%3A%2F%2Flocalhost%2Fcontact&referrer=htt",
 "GET /chatport/agent/forms"]
--- more_headers eval
["Content-Type: application/x-www-form-urlencoded
Referer: http://localhost/about",
"Authorization: Basic YWxpY2U6c2VjcmV0"]
--- error_code eval
[201, 200]
--- response_body_like eval
[qr/^\{"id":"\d+-\d+"\}$/,
 qr/"message":"hi"\},"page":"http:\/\/localhost\/contact","referrer":"",/]
