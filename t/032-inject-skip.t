# chatport_inject leaves alone: other types than text/html, statuses other
# than 200, HEAD (whose headers are still those of a GET), bodies with a
# Content-Encoding, subrequests (ssi includes, addition parts), empty
# bodies. And with gzip on the same location, the page is injected before
# it is compressed.

use Test::Nginx::Socket 'no_plan';
use lib 't/lib';
use ChatPort::ErrorLog;

our $Tag = '<script src="/chatport/widget.js" defer data-chatport></script>';

add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->http_config) {
        $block->set_value("http_config",
                          "    chatport_redis 127.0.0.1:\$TEST_NGINX_REDIS_PORT;\n");
    }
});

no_shuffle();
repeat_each(2);

run_tests();

__DATA__

=== TEST 1: text/plain is untouched, its length and ranges kept
--- config
    chatport_inject on;
--- user_files
>>> a.txt
<body>plain</body>
--- request
GET /a.txt
--- response_headers
Content-Type: text/plain
Content-Length: 19
Accept-Ranges: bytes
--- raw_response_headers_like: \r\nETag: "[0-9a-f]+-[0-9a-f]+"\r\n
--- response_body
<body>plain</body>
--- no_error_log
[error]



=== TEST 2: application/json is untouched
--- config
    location /api/ {
        alias html/;
        types { application/json json; }
        chatport_inject on;
    }
--- user_files
>>> a.json
{"html":"<body></body>"}
--- request
GET /api/a.json
--- response_headers
Content-Type: application/json
Content-Length: 25
--- response_body
{"html":"<body></body>"}
--- no_error_log
[error]



=== TEST 3: application/xhtml+xml and "text/htmlx" are not text/html
--- config
    location /x/ {
        alias html/;
        types {
            application/xhtml+xml xhtml;
            text/htmlx htmlx;
        }
        chatport_inject on;
    }
--- user_files
>>> a.xhtml
<body>x</body>
>>> a.htmlx
<body>y</body>
--- request eval
["GET /x/a.xhtml", "GET /x/a.htmlx"]
--- response_headers eval
["Content-Length: 15", "Content-Length: 15"]
--- response_body eval
["<body>x</body>\n", "<body>y</body>\n"]
--- no_error_log
[error]



=== TEST 4: nginx's own 404 page (text/html, with </body>) is untouched
--- config
    chatport_inject on;
--- request
GET /missing.html
--- error_code: 404
--- response_headers
Content-Type: text/html
--- response_body_like: ^<html>.*404 Not Found.*</body>\r?\n</html>\r?\n$
--- response_body_unlike: data-chatport
--- no_error_log
[alert]



=== TEST 5: a custom 404 error page (a static text/html file) is untouched
--- config
    chatport_inject on;
    error_page 404 /404.html;
--- user_files
>>> 404.html
<html><body>not here</body></html>
--- request
GET /missing.html
--- error_code: 404
--- response_headers
Content-Length: 35
--- response_body
<html><body>not here</body></html>
--- no_error_log
[alert]



=== TEST 6: "return 404" / "return 500" / "return 201" with text/html: untouched
--- config
    default_type text/html;
    chatport_inject on;
    location = /404 { return 404 "<body>404</body>"; }
    location = /500 { return 500 "<body>500</body>"; }
    location = /201 { return 201 "<body>201</body>"; }
--- request eval
["GET /404", "GET /500", "GET /201"]
--- error_code eval
[404, 500, 201]
--- response_headers eval
["Content-Length: 16", "Content-Length: 16", "Content-Length: 16"]
--- response_body eval
["<body>404</body>", "<body>500</body>", "<body>201</body>"]
--- no_error_log
[error]



=== TEST 7: HEAD: no body, but the headers a GET gets (its length, no ranges, weak ETag)
--- config
    chatport_inject on;
--- user_files
>>> p.html
<body>p</body>
--- request eval
["HEAD /p.html", "GET /p.html"]
--- response_headers eval
["Content-Type: text/html\nContent-Length: 78\n!Accept-Ranges",
 "Content-Type: text/html\nContent-Length: 78\n!Accept-Ranges"]
--- raw_response_headers_like eval
[qr{\r\nETag: W/"[0-9a-f]+-[0-9a-f]+"\r\n}, qr{\r\nETag: W/"[0-9a-f]+-[0-9a-f]+"\r\n}]
--- response_body eval
["", "<body>p$::Tag</body>\n"]
--- no_error_log
[error]



=== TEST 8: HEAD of a text/plain file keeps its length
--- config
    chatport_inject on;
--- user_files
>>> a.txt
<body>plain</body>
--- request
HEAD /a.txt
--- response_headers
Content-Length: 19
Accept-Ranges: bytes
--- response_body:
--- no_error_log
[error]



=== TEST 9: an empty file (Content-Length: 0) is untouched
--- config
    chatport_inject on;
--- user_files eval
[["empty.html", ""]]
--- request
GET /empty.html
--- response_headers
Content-Type: text/html
Content-Length: 0
--- response_body:
--- no_error_log
[error]



=== TEST 10: an empty body of unknown length (a chunked upstream with no data) is untouched
The backend's sub_filter deletes the whole page, so the front gets a
200 text/html, chunked, with no data.
--- config
    location /front/ {
        chatport_inject on;
        proxy_http_version 1.1;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
    }

    location /backend/ {
        alias html/;
        sub_filter "gone\n" "";
    }
--- user_files
>>> p.html
gone
--- request eval
["GET /backend/p.html", "GET /front/p.html"]
--- response_headers eval
["Transfer-Encoding: chunked", "Transfer-Encoding: chunked"]
--- response_body eval
["", ""]
--- no_error_log
[error]



=== TEST 11: an upstream response with a Content-Encoding is untouched
--- config
    location /front/ {
        chatport_inject on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
    }

    location /backend/ {
        alias html/;
        add_header Content-Encoding br;
    }
--- user_files
>>> p.html
<body>pretend br</body>
--- request
GET /front/p.html
--- response_headers
Content-Encoding: br
Content-Length: 24
--- response_body
<body>pretend br</body>
--- no_error_log
[error]



=== TEST 12: an upstream asked for gzip on purpose is passed on as it came: no tag, still gzip
--- config
    location /front/ {
        chatport_inject on;
        proxy_set_header Accept-Encoding gzip;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
    }

    location /backend/ {
        alias html/;
        gzip on;
        gzip_http_version 1.0;
        gzip_types text/html;
        gzip_min_length 0;
    }
--- user_files
>>> p.html
<html><body>zipped</body></html>
--- request
GET /front/p.html
--- more_headers
Accept-Encoding: gzip
--- response_headers
Content-Encoding: gzip
--- response_body_like: ^\x1f\x8b
--- response_body_unlike: data-chatport
--- no_error_log
[error]



=== TEST 13: a gzip'd upstream, unzipped by a second proxy: the page is the original
/plain/ asks /front/ (chatport on) for gzip and gunzips it for the client.
--- config
    location /plain/ {
        proxy_set_header Accept-Encoding gzip;
        gunzip on;
        add_header X-Upstream-Encoding $upstream_http_content_encoding;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/front/;
    }

    location /front/ {
        chatport_inject on;
        proxy_set_header Accept-Encoding gzip;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
    }

    location /backend/ {
        alias html/;
        gzip on;
        gzip_http_version 1.0;
        gzip_types text/html;
        gzip_min_length 0;
    }
--- user_files
>>> p.html
<html><body>zipped</body></html>
--- request
GET /plain/p.html
--- response_headers
!Content-Encoding
X-Upstream-Encoding: gzip
--- response_body
<html><body>zipped</body></html>
--- no_error_log
[error]



=== TEST 14: gzip on the injecting location: injected first, then compressed
--- config
    location /z/ {
        alias html/;
        chatport_inject on;
        gzip on;
        gzip_http_version 1.0;
        gzip_types text/html;
        gzip_min_length 0;
    }
--- user_files
>>> p.html
<html><body>compress me</body></html>
--- request
GET /z/p.html
--- more_headers
Accept-Encoding: gzip
--- response_headers
Content-Encoding: gzip
!Content-Length
--- response_body_like: ^\x1f\x8b
--- no_error_log
[error]



=== TEST 15: gzip on the injecting location, unzipped by a second proxy: one tag
--- config
    location /plain/ {
        proxy_set_header Accept-Encoding gzip;
        gunzip on;
        add_header X-Upstream-Encoding $upstream_http_content_encoding;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/z/;
    }

    location /z/ {
        alias html/;
        chatport_inject on;
        gzip on;
        gzip_http_version 1.0;
        gzip_types text/html;
        gzip_min_length 0;
    }
--- user_files
>>> p.html
<html><body>compress me</body></html>
--- request
GET /plain/p.html
--- response_headers
!Content-Encoding
X-Upstream-Encoding: gzip
--- response_body
<html><body>compress me<script src="/chatport/widget.js" defer data-chatport></script></body></html>
--- no_error_log
[error]



=== TEST 16: an ssi include is a subrequest: the part is not injected, the page once
The tag goes before the page's own </body>, not before the one that comes
from the included part. ssi, after chatport in the chain, clears the
length it cannot know: both answers are chunked.
--- config
    location /ssi/ {
        alias html/;
        ssi on;
        chatport_inject on;
    }
--- user_files
>>> page.html
<html><body>
<!--# include virtual="/ssi/part.html" -->
</body></html>
>>> part.html
<div>part</div></body>
--- request eval
["GET /ssi/page.html", "GET /ssi/part.html"]
--- response_headers eval
["!Content-Length\nTransfer-Encoding: chunked",
 "!Content-Length\nTransfer-Encoding: chunked"]
--- response_body eval
["<html><body>
<div>part</div></body>

$::Tag</body></html>
",
"<div>part</div>$::Tag</body>
"]
--- no_error_log
[error]



=== TEST 17: an ssi include of a page without </body>: nothing appended to the part
--- config
    location /ssi/ {
        alias html/;
        ssi on;
        chatport_inject on;
    }
--- user_files
>>> page.html
<p>a</p><!--# include virtual="/ssi/part.html" --><p>b</p>
>>> part.html
<i>part</i>
--- request
GET /ssi/page.html
--- response_body eval
"<p>a</p><i>part</i>
<p>b</p>
$::Tag"
--- no_error_log
[error]



=== TEST 18: an add_before_body part is a subrequest: not injected
--- config
    location /add/ {
        alias html/;
        chatport_inject on;
        add_before_body /parts/before.html;
    }

    location /parts/ {
        alias html/;
        chatport_inject on;
    }
--- user_files
>>> page.html
<body>main</body>
>>> before.html
<b>before</b></body>
--- request
GET /add/page.html
--- response_headers
!Content-Length
--- response_body eval
"<b>before</b></body>
<body>main$::Tag</body>
"
--- no_error_log
[error]



=== TEST 19: an add_after_body part is a subrequest: not injected, the page sent once
The addition filter turns the page's last_buf into last_in_chain and then
calls ngx_http_send_special(NGX_HTTP_LAST) from inside the body filter
chain, so the injection filter is entered again while its own output call
is still on the stack.
--- config
    location /add/ {
        alias html/;
        chatport_inject on;
        add_after_body /parts/after.html;
    }

    location /parts/ {
        alias html/;
        chatport_inject on;
    }
--- user_files
>>> page.html
<body>main</body>
>>> after.html
<i>after</i></body>
--- request
GET /add/page.html
--- response_headers
!Content-Length
--- response_body eval
"<body>main$::Tag</body>
<i>after</i></body>
"
--- no_error_log
[error]



=== TEST 20: add_before_body and add_after_body together, page without </body>
--- config
    location /add/ {
        alias html/;
        chatport_inject on;
        add_before_body /parts/before.html;
        add_after_body /parts/after.html;
    }

    location /parts/ {
        alias html/;
    }
--- user_files
>>> page.html
<p>main</p>
>>> before.html
<b>before</b>
>>> after.html
<i>after</i>
--- request
GET /add/page.html
--- response_body eval
"<b>before</b>
<p>main</p>
$::Tag<i>after</i>
"
--- no_error_log
[error]



=== TEST 21: gunzip on the injecting location cannot help: a gzip'd upstream is left as it is
gunzip runs after chatport in the filter chain; chatport sees
Content-Encoding: gzip and leaves the body alone, gunzip then unzips it
for a client without gzip.
--- config
    location /front/ {
        chatport_inject on;
        gunzip on;
        proxy_set_header Accept-Encoding gzip;
        add_header X-Upstream-Encoding $upstream_http_content_encoding;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
    }

    location /backend/ {
        alias html/;
        gzip on;
        gzip_http_version 1.0;
        gzip_types text/html;
        gzip_min_length 0;
    }
--- user_files
>>> p.html
<html><body>zipped</body></html>
--- request
GET /front/p.html
--- response_headers
!Content-Encoding
X-Upstream-Encoding: gzip
--- response_body
<html><body>zipped</body></html>
--- no_error_log
[error]



=== TEST 22: a Range request gets the whole injected page, with its exact length
--- config
    chatport_inject on;
--- user_files
>>> p.html
<body>ranged</body>
--- request
GET /p.html
--- more_headers
Range: bytes=0-5
--- response_headers
Content-Length: 83
!Content-Range
!Accept-Ranges
--- response_body
<body>ranged<script src="/chatport/widget.js" defer data-chatport></script></body>
--- no_error_log
[error]
