# chatport_inject keeps an exact Content-Length (the old one plus the
# tag's): keep-alive framing holds (pipelined requests), HEAD announces what
# a GET sends, Content-Length: 0 stays, a 304 has no body. Range requests:
# a static page gets the whole injected page with 200 (ranges are off), a
# proxied upstream's 206 is passed on untouched. Upstream encoding and
# short upstream bodies: t/034-inject-upstream.t.

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

=== TEST 1: pipelined on one connection: each injected page is framed by its exact length
A length that is off by one byte would shift the second answer.
--- config
    chatport_inject on;
--- user_files
>>> a.html
<html><body>first</body></html>
>>> b.html
<p>second, no body tag</p>
--- pipelined_requests eval
["GET /a.html", "GET /b.html", "GET /a.html"]
--- response_headers eval
["Content-Length: 95\n!Transfer-Encoding",
 "Content-Length: 90\n!Transfer-Encoding",
 "Content-Length: 95\n!Transfer-Encoding"]
--- response_body eval
["<html><body>first$::Tag</body></html>\n",
 "<p>second, no body tag</p>\n$::Tag",
 "<html><body>first$::Tag</body></html>\n"]
--- no_error_log
[error]



=== TEST 2: pipelined through proxy_pass (content-length upstream, buffered and unbuffered)
--- config
    location /front/ {
        chatport_inject on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
    }

    location /raw/ {
        chatport_inject on;
        proxy_buffering off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
    }

    location /backend/ {
        alias html/;
        sendfile off;
        output_buffers 1 5;
    }
--- user_files
>>> p.html
<html><body>proxied</body></html>
--- pipelined_requests eval
["GET /front/p.html", "GET /raw/p.html", "GET /front/p.html"]
--- response_headers eval
["Content-Length: 97", "Content-Length: 97", "Content-Length: 97"]
--- response_body eval
["<html><body>proxied$::Tag</body></html>\n",
 "<html><body>proxied$::Tag</body></html>\n",
 "<html><body>proxied$::Tag</body></html>\n"]
--- no_error_log
[error]



=== TEST 3: HEAD announces the length a GET sends, static and proxied
--- config
    location /front/ {
        chatport_inject on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
    }

    location /backend/ {
        alias html/;
    }

    location /static/ {
        alias html/;
        chatport_inject on;
    }
--- user_files
>>> p.html
<body>head</body>
--- request eval
["HEAD /static/p.html", "GET /static/p.html", "HEAD /front/p.html",
 "GET /front/p.html"]
--- response_headers eval
["Content-Length: 81", "Content-Length: 81", "Content-Length: 81",
 "Content-Length: 81"]
--- response_body eval
["", "<body>head$::Tag</body>\n", "", "<body>head$::Tag</body>\n"]
--- no_error_log
[error]



=== TEST 4: Content-Length: 0 from an upstream stays 0, with no tag
--- config
    location /front/ {
        chatport_inject on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
    }

    location = /backend/empty {
        default_type text/html;
        return 200 "";
    }
--- request eval
["GET /front/empty", "HEAD /front/empty"]
--- response_headers eval
["Content-Length: 0", "Content-Length: 0"]
--- response_body eval
["", ""]
--- no_error_log
[error]



=== TEST 5: a 304 (If-Modified-Since) has no body and no grown length
--- config
    chatport_inject on;
    if_modified_since before;
--- user_files
>>> p.html
<body>p</body>
--- request
GET /p.html
--- more_headers
If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT
--- error_code: 304
--- response_headers
!Content-Length
!Transfer-Encoding
--- response_body:
--- no_error_log
[error]



=== TEST 6: a control: without chatport_inject the same Range request gets a 206 slice
This shows the range filter is active here; with chatport_inject on
(next test) it is not.
--- config
    location /plain/ {
        alias html/;
    }
--- user_files
>>> p.html
<body>ranged</body>
--- request
GET /plain/p.html
--- more_headers
Range: bytes=0-5
--- error_code: 206
--- response_headers
Content-Range: bytes 0-5/20
Content-Length: 6
--- response_body chomp
<body>
--- no_error_log
[error]



=== TEST 7: a Range request on a static page gets the whole injected page with 200, never a slice
--- config
    location /on/ {
        alias html/;
        chatport_inject on;
    }
--- user_files
>>> p.html
<body>ranged</body>
--- request
GET /on/p.html
--- more_headers
Range: bytes=0-5
--- response_headers
Content-Length: 83
!Content-Range
!Accept-Ranges
--- response_body eval
"<body>ranged$::Tag</body>\n"
--- no_error_log
[error]



=== TEST 8: a suffix range: the whole injected page
--- config
    location /on/ {
        alias html/;
        chatport_inject on;
    }
--- user_files
>>> p.html
<body>ranged</body>
--- request
GET /on/p.html
--- more_headers
Range: bytes=-3
--- response_headers
Content-Length: 83
!Content-Range
!Accept-Ranges
--- response_body eval
"<body>ranged$::Tag</body>\n"
--- no_error_log
[error]



=== TEST 9: several ranges: the whole injected page, not multipart
--- config
    location /on/ {
        alias html/;
        chatport_inject on;
    }
--- user_files
>>> p.html
<body>ranged</body>
--- request
GET /on/p.html
--- more_headers
Range: bytes=0-1,4-6
--- response_headers
Content-Length: 83
!Content-Range
!Accept-Ranges
--- response_body eval
"<body>ranged$::Tag</body>\n"
--- no_error_log
[error]



=== TEST 10: a range with If-Range: the whole injected page
--- config
    location /on/ {
        alias html/;
        chatport_inject on;
    }
--- user_files
>>> p.html
<body>ranged</body>
--- request
GET /on/p.html
--- more_headers
Range: bytes=5-
If-Range: Fri, 01 Jan 2100 00:00:00 GMT
--- response_headers
Content-Length: 83
!Content-Range
!Accept-Ranges
--- response_body eval
"<body>ranged$::Tag</body>\n"
--- no_error_log
[error]



=== TEST 11: a proxied Range request: the upstream's 206 slice is passed on untouched
The upstream answers the range of its own page (status 206, its own
strong ETag): that is a correct slice, not a slice of the injected page,
and chatport only changes 200 answers.
--- config
    location /front/ {
        chatport_inject on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
    }

    location /backend/ {
        alias html/;
    }
--- user_files
>>> p.html
<body>ranged</body>
--- request
GET /front/p.html
--- more_headers
Range: bytes=6-11
--- error_code: 206
--- response_headers
Content-Range: bytes 6-11/20
Content-Length: 6
--- response_body chomp
ranged
--- no_error_log
[error]
