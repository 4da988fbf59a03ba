# chatport_inject: the widget tag goes before the first </body> (any letter
# case) of a main-request 200 text/html response, or at the very end when
# there is none; once only. A Content-Length grows by the tag's length,
# Accept-Ranges goes, the ETag becomes weak. Static files, return,
# proxy_pass, inheritance, the src. Lengths and ranges in more cases:
# t/033-inject-length.t.
# Split buffers: t/031-inject-boundary.t; what is left alone:
# t/032-inject-skip.t.

use Test::Nginx::Socket 'no_plan';
use lib 't/lib';
use ChatPort::ErrorLog;

# the filter never talks to Redis, but every config names it (no chatport
# location here, so the module does not connect)
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

=== TEST 1: </body> in a static file: the tag goes just before it
--- config
    chatport_inject on;
--- user_files
>>> index.html
<html>
<head><title>t</title></head>
<body>
<p>hello</p>
</body>
</html>
--- request
GET /index.html
--- response_headers
Content-Type: text/html
Content-Length: 136
!Accept-Ranges
--- raw_response_headers_like: \r\nETag: W/"[0-9a-f]+-[0-9a-f]+"\r\n
--- response_body
<html>
<head><title>t</title></head>
<body>
<p>hello</p>
<script src="/chatport/widget.js" defer data-chatport></script></body>
</html>
--- no_error_log
[error]



=== TEST 2: the index module's internal redirect to index.html is still the main request
--- config
    chatport_inject on;
--- user_files
>>> index.html
<body>home</body>
--- request
GET /
--- response_headers
Content-Length: 81
--- response_body
<body>home<script src="/chatport/widget.js" defer data-chatport></script></body>
--- no_error_log
[error]



=== TEST 3: upper-case </BODY>
--- config
    chatport_inject on;
--- user_files
>>> index.html
<HTML><BODY>
<P>HELLO</P>
</BODY></HTML>
--- request
GET /index.html
--- response_headers
Content-Length: 104
--- response_body
<HTML><BODY>
<P>HELLO</P>
<script src="/chatport/widget.js" defer data-chatport></script></BODY></HTML>
--- no_error_log
[error]



=== TEST 4: mixed case </bOdY>
--- config
    chatport_inject on;
--- user_files
>>> index.html
<body>x</bOdY>
--- request
GET /index.html
--- response_body
<body>x<script src="/chatport/widget.js" defer data-chatport></script></bOdY>
--- no_error_log
[error]



=== TEST 5: "</Body >" (a space before the ">") is not matched: the tag goes at the end
The filter looks for the exact 7 bytes "</body>" in any case; browsers
accept "</body >" but the filter does not (as sub_filter would not).
--- config
    chatport_inject on;
--- user_files
>>> index.html
<html><body>
x
</Body >
</html>
--- request
GET /index.html
--- response_headers
Content-Length: 95
--- response_body eval
"<html><body>
x
</Body >
</html>
<script src=\"/chatport/widget.js\" defer data-chatport></script>"
--- no_error_log
[error]



=== TEST 6: no </body> at all: the tag goes at the very end
--- config
    chatport_inject on;
--- user_files
>>> index.html
<p>a fragment, no body tag</p>
--- request
GET /index.html
--- response_headers
Content-Type: text/html
Content-Length: 94
!Accept-Ranges
--- response_body eval
"<p>a fragment, no body tag</p>
<script src=\"/chatport/widget.js\" defer data-chatport></script>"
--- no_error_log
[error]



=== TEST 7: two </body>: only the first gets the tag
--- config
    chatport_inject on;
--- user_files
>>> index.html
<body>one</body>
<body>two</body>
</BODY>
--- request
GET /index.html
--- response_body
<body>one<script src="/chatport/widget.js" defer data-chatport></script></body>
<body>two</body>
</BODY>
--- no_error_log
[error]



=== TEST 8: near-misses before the real </body> are text
--- config
    chatport_inject on;
--- user_files
>>> index.html
<body><b>a</b> </bod> </bo dy> </body </b></body> tail
--- request
GET /index.html
--- response_body
<body><b>a</b> </bod> </bo dy> </body </b><script src="/chatport/widget.js" defer data-chatport></script></body> tail
--- no_error_log
[error]



=== TEST 9: a page that already carries a tag gets one more (no marker check)
chatport does not look for data-chatport in the page; it injects once per
response.
--- config
    chatport_inject on;
--- user_files
>>> index.html
<body><script src="/chatport/widget.js" defer data-chatport></script></body>
--- request
GET /index.html
--- response_body
<body><script src="/chatport/widget.js" defer data-chatport></script><script src="/chatport/widget.js" defer data-chatport></script></body>
--- no_error_log
[error]



=== TEST 10: a charset parameter on text/html
--- config
    location /cs/ {
        alias html/;
        charset utf-8;
        chatport_inject on;
    }
--- user_files
>>> a.html
<body>é</body>
--- request
GET /cs/a.html
--- response_headers
Content-Type: text/html; charset=utf-8
Content-Length: 79
--- response_body
<body>é<script src="/chatport/widget.js" defer data-chatport></script></body>
--- no_error_log
[error]



=== TEST 11: default_type text/html with a charset, from "return"
--- config
    location = /r {
        default_type "text/html; charset=iso-8859-1";
        chatport_inject on;
        return 200 "<html><body>r</body></html>";
    }
--- request
GET /r
--- response_headers
Content-Type: text/html; charset=iso-8859-1
Content-Length: 90
--- response_body chomp
<html><body>r<script src="/chatport/widget.js" defer data-chatport></script></body></html>
--- no_error_log
[error]



=== TEST 12: chatport_inject at http level, inherited by every location
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_inject on;
--- config
    location /a/ {
        alias html/;
    }
--- user_files
>>> p.html
<body>p</body>
--- request eval
["GET /a/p.html", "GET /p.html"]
--- response_body eval
["<body>p<script src=\"/chatport/widget.js\" defer data-chatport></script></body>\n",
 "<body>p<script src=\"/chatport/widget.js\" defer data-chatport></script></body>\n"]
--- no_error_log
[error]



=== TEST 13: location level only: other locations are untouched
--- config
    location /on/ {
        alias html/;
        chatport_inject on;
    }
--- user_files
>>> p.html
<body>p</body>
--- request eval
["GET /on/p.html", "GET /p.html"]
--- response_body eval
["<body>p<script src=\"/chatport/widget.js\" defer data-chatport></script></body>\n",
 "<body>p</body>\n"]
--- no_error_log
[error]



=== TEST 14: chatport_inject off in a nested location
--- config
    location /site/ {
        alias html/;
        chatport_inject on;

        location /site/raw/ {
            alias html/;
            chatport_inject off;
        }
    }
--- user_files
>>> p.html
<body>p</body>
--- request eval
["GET /site/p.html", "GET /site/raw/p.html"]
--- response_body eval
["<body>p<script src=\"/chatport/widget.js\" defer data-chatport></script></body>\n",
 "<body>p</body>\n"]
--- response_headers eval
["Content-Length: 78", "Content-Length: 15"]
--- no_error_log
[error]



=== TEST 15: chatport_inject off at server level, on in one location
--- config
    chatport_inject off;

    location /on/ {
        alias html/;
        chatport_inject on;
    }
--- user_files
>>> p.html
<body>p</body>
--- request eval
["GET /on/p.html", "GET /p.html"]
--- response_body eval
["<body>p<script src=\"/chatport/widget.js\" defer data-chatport></script></body>\n",
 "<body>p</body>\n"]
--- no_error_log
[error]



=== TEST 16: chatport_inject_src with an absolute URL
--- config
    location /cdn/ {
        alias html/;
        chatport_inject on;
        chatport_inject_src https://cdn.example/w.js;
    }
--- user_files
>>> p.html
<body>p</body>
--- request
GET /cdn/p.html
--- response_body
<body>p<script src="https://cdn.example/w.js" defer data-chatport></script></body>
--- no_error_log
[error]



=== TEST 17: chatport_inject_src is inherited and can be overridden
--- config
    chatport_inject on;
    chatport_inject_src /static/chat.js;

    location /other/ {
        alias html/;
        chatport_inject_src /x.js;
    }
--- user_files
>>> p.html
<body>p</body>
--- request eval
["GET /p.html", "GET /other/p.html"]
--- response_body eval
["<body>p<script src=\"/static/chat.js\" defer data-chatport></script></body>\n",
 "<body>p<script src=\"/x.js\" defer data-chatport></script></body>\n"]
--- no_error_log
[error]



=== TEST 18: proxy_pass, content-length upstream (buffered)
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
<html><body>
proxied
</body></html>
--- request eval
["GET /backend/p.html", "GET /front/p.html"]
--- response_headers eval
["Content-Length: 36", "Content-Length: 99\n!Transfer-Encoding\nContent-Type: text/html"]
--- response_body eval
["<html><body>
proxied
</body></html>
",
"<html><body>
proxied
<script src=\"/chatport/widget.js\" defer data-chatport></script></body></html>
"]
--- no_error_log
[error]



=== TEST 19: proxy_pass, content-length upstream, HTTP/1.0 client: the same exact length
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
<body>proxied</body>
--- request
GET /front/p.html HTTP/1.0
--- response_headers
Content-Length: 84
!Transfer-Encoding
--- response_body
<body>proxied<script src="/chatport/widget.js" defer data-chatport></script></body>
--- no_error_log
[error]



=== TEST 20: proxy_pass, content-length upstream, unbuffered
--- config
    location /front/ {
        chatport_inject on;
        proxy_buffering off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
    }

    location /backend/ {
        alias html/;
        sendfile off;
        output_buffers 1 3;
    }
--- user_files
>>> p.html
<html><body>
unbuffered
</body></html>
--- request
GET /front/p.html
--- response_headers
Content-Length: 102
--- response_body
<html><body>
unbuffered
<script src="/chatport/widget.js" defer data-chatport></script></body></html>
--- no_error_log
[error]



=== TEST 21: together with sub_filter on </body>: one tag, and sub_filter's replacement too
sub_filter runs after chatport in the chain, so it sees the tag too; its
own replacement of </body> still applies.
--- config
    location /both/ {
        alias html/;
        chatport_inject on;
        sub_filter '</body>' '<!-- sub --></body>';
    }
--- user_files
>>> p.html
<html><body>
both
</body></html>
--- request
GET /both/p.html
--- response_headers
!Content-Length
--- response_body
<html><body>
both
<script src="/chatport/widget.js" defer data-chatport></script><!-- sub --></body></html>
--- no_error_log
[error]



=== TEST 22: together with sub_filter, split buffers
--- config
    location /both/ {
        alias html/;
        sendfile off;
        output_buffers 1 3;
        chatport_inject on;
        sub_filter '</body>' '<!-- sub --></body>';
    }
--- user_files
>>> p.html
<html><body>
both
</body></html>
--- request
GET /both/p.html
--- response_body
<html><body>
both
<script src="/chatport/widget.js" defer data-chatport></script><!-- sub --></body></html>
--- no_error_log
[error]



=== TEST 23: together with sub_filter on a page without </body>
--- config
    location /both/ {
        alias html/;
        chatport_inject on;
        sub_filter 'frag' 'FRAG';
    }
--- user_files
>>> p.html
<p>frag</p>
--- request
GET /both/p.html
--- response_body eval
"<p>FRAG</p>
<script src=\"/chatport/widget.js\" defer data-chatport></script>"
--- no_error_log
[error]



=== TEST 24: a large page (200 KB) with sendfile on: read into memory, tag placed once
--- config
    location /big/ {
        alias html/;
        chatport_inject on;
    }
--- user_files eval
[["p.html", "<html><body>\n" . ("0123456789abcde\n" x 12800) . "</body></html>\n"]]
--- request
GET /big/p.html
--- response_body eval
"<html><body>\n" . ("0123456789abcde\n" x 12800)
. "<script src=\"/chatport/widget.js\" defer data-chatport></script></body></html>\n"
--- no_error_log
[error]



=== TEST 25: an upstream's ETag becomes weak: "abc" gives W/"abc"; an already weak one stays as it is
--- config
    location /front/ {
        chatport_inject on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
    }

    location = /backend/strong {
        default_type text/html;
        add_header ETag '"abc"';
        return 200 "<body>p</body>";
    }

    location = /backend/weak {
        default_type text/html;
        add_header ETag 'W/"xyz"';
        return 200 "<body>p</body>";
    }
--- request eval
["GET /front/strong", "GET /front/weak"]
--- response_headers eval
["ETag: W/\"abc\"\nContent-Length: 77", "ETag: W/\"xyz\"\nContent-Length: 77"]
--- response_body eval
["<body>p<script src=\"/chatport/widget.js\" defer data-chatport></script></body>",
 "<body>p<script src=\"/chatport/widget.js\" defer data-chatport></script></body>"]
--- no_error_log
[error]



=== TEST 26: a conditional GET (If-None-Match: *) still gets its 304, without a body
--- config
    chatport_inject on;
--- user_files
>>> p.html
<body>p</body>
--- request
GET /p.html
--- more_headers
If-None-Match: *
--- error_code: 304
--- response_body:
--- no_error_log
[error]
