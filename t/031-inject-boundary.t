# chatport_inject when "</body>" (or something that starts like it) is
# split across buffers. A static page is served with "sendfile off;
# output_buffers 1 N;", so the copy filter hands the injection filter N-byte
# buffers, for every N in @Sizes; each block with a "--- page" section is
# fetched once per size and must give "--- expected" ("@TAG@" stands for
# the widget tag) every time (from 18 bytes on, the SSE2 search runs over
# the buffer before its last 17 bytes). Further blocks go through
# proxy_pass with small and chunked upstream pieces.

use Test::Nginx::Socket 'no_plan';
use lib 't/lib';
use ChatPort::ErrorLog;

our $Tag = '<script src="/chatport/widget.js" defer data-chatport></script>';
our @Sizes = (1, 2, 3, 4, 5, 6, 7, 8, 16, 17, 18, 19, 33);

add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->http_config) {
        $block->set_value("http_config",
                          "    chatport_redis 127.0.0.1:\$TEST_NGINX_REDIS_PORT;\n");
    }

    my $page = $block->page;
    return unless defined $page;

    my $expected = $block->expected;
    $expected =~ s/\@TAG\@/$Tag/g;

    my $config = "    chatport_inject on;\n";
    for my $n (@Sizes) {
        $config .= "    location /s$n/ {\n"
                 . "        alias html/;\n"
                 . "        sendfile off;\n"
                 . "        output_buffers 1 $n;\n"
                 . "    }\n";
    }

    $block->set_value("config", $config);
    $block->set_value("user_files", [["p.html", $page]]);
    $block->set_value("request", [map { "GET /s$_/p.html" } @Sizes]);
    $block->set_value("response_body", [map { $expected } @Sizes]);

    if (!defined $block->no_error_log) {
        $block->set_value("no_error_log", "[error]\n");
    }
});

no_shuffle();
repeat_each(2);

run_tests();

__DATA__

=== TEST 1: an ordinary page
--- page
<html><body>
<p>text</p>
</body></html>
--- expected
<html><body>
<p>text</p>
@TAG@</body></html>



=== TEST 2: upper and mixed case
--- page
<HTML><BODY>x</BoDy></HTML>
--- expected
<HTML><BODY>x@TAG@</BoDy></HTML>



=== TEST 3: "</bo" then "</body>"
--- page
<body>x</bo</body>
--- expected
<body>x</bo@TAG@</body>



=== TEST 4: "<" then "</body>"
--- page
<body>x<</body>
--- expected
<body>x<@TAG@</body>



=== TEST 5: "</b" then "</body>"
--- page
<body>x</b</body>
--- expected
<body>x</b@TAG@</body>



=== TEST 6: "</body" then "</body>" (the failed match ends at a "<")
--- page
<body>x</body</body>
--- expected
<body>x</body@TAG@</body>



=== TEST 7: "</body " and "</bodyx" then "</body>"
--- page
<body>x</body </bodyx</BODYX</body>
--- expected
<body>x</body </bodyx</BODYX@TAG@</body>



=== TEST 8: a run of "<" before "</body>"
--- page
<body><<<<<<<<<<<</body>
--- expected
<body><<<<<<<<<<<@TAG@</body>



=== TEST 9: prefixes of "</body>" one after another
--- page
<body><</</b</bo</bod</body</body>
--- expected
<body><</</b</bo</bod</body@TAG@</body>



=== TEST 10: "</body" at the very end of the file, no ">": the tag goes after it
--- page chomp
<html><body>x</body
--- expected chomp
<html><body>x</body@TAG@



=== TEST 11: a page ending in "</bo": the held-back bytes come out, then the tag
--- page chomp
<html><body>x</bo
--- expected chomp
<html><body>x</bo@TAG@



=== TEST 12: a page ending in "<"
--- page chomp
<p>x<
--- expected chomp
<p>x<@TAG@



=== TEST 13: a page that is just "<"
--- page chomp
<
--- expected chomp
<@TAG@



=== TEST 14: a page that is just "</body>"
--- page chomp
</body>
--- expected chomp
@TAG@</body>



=== TEST 15: "</body>" first thing in the page
--- page
</body> and then text
--- expected
@TAG@</body> and then text



=== TEST 16: "</body>" as the last bytes of the page
--- page chomp
<body>x</body>
--- expected chomp
<body>x@TAG@</body>



=== TEST 17: a second "</body>" after the first passes through untouched
--- page
<body>a</body><body>b</body><</bo</body>
--- expected
<body>a@TAG@</body><body>b</body><</bo</body>



=== TEST 18: no "</body>" and no "<" at all
--- page
just text, no markup at all
--- expected eval
"just text, no markup at all\n$::Tag"



=== TEST 19: markup but no "</body>": the tag at the very end
--- page
<html><head></head><div></div></html>
--- expected eval
"<html><head></head><div></div></html>\n$::Tag"



=== TEST 20: "</body" then a newline, then "</body>"
--- page
<body>x</body
</body>
--- expected
<body>x</body
@TAG@</body>



=== TEST 21: "</body>" straddling nginx's default 32k output buffer (sendfile off)
--- config
    location /big/ {
        alias html/;
        sendfile off;
        chatport_inject on;
    }
--- user_files eval
[["p.html", ("x" x 32765) . "</body></html>\n"]]
--- request
GET /big/p.html
--- response_body eval
("x" x 32765) . $::Tag . "</body></html>\n"
--- no_error_log
[error]



=== TEST 22: "</body>" straddling 1k output buffers, many buffers before it
--- config
    location /big/ {
        alias html/;
        sendfile off;
        output_buffers 2 1k;
        chatport_inject on;
    }
--- user_files eval
[["p.html", ("<p>" x 3412) . "a</body></html>\n"]]
--- request
GET /big/p.html
--- response_body eval
("<p>" x 3412) . "a" . $::Tag . "</body></html>\n"
--- no_error_log
[error]



=== TEST 23: proxy_pass, unbuffered, content-length upstream sent in 3-byte pieces
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
        postpone_output 0;
    }
--- user_files
>>> p.html
<html><body>x</bo<</body></html>
--- request
GET /front/p.html
--- response_headers
Content-Length: 96
--- response_body eval
"<html><body>x</bo<$::Tag</body></html>\n"
--- no_error_log
[error]



=== TEST 24: proxy_pass, HTTP/1.1 chunked upstream (ssi clears its length), buffered
--- config
    location /front/ {
        chatport_inject on;
        proxy_http_version 1.1;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
    }

    location /backend/ {
        alias html/;
        ssi on;
        chunked_transfer_encoding on;
    }
--- user_files
>>> p.html
<html><body>
chunked
</body></html>
--- request eval
["GET /backend/p.html", "GET /front/p.html"]
--- response_headers eval
["Transfer-Encoding: chunked\n!Content-Length",
 "Transfer-Encoding: chunked\n!Content-Length"]
--- response_body eval
["<html><body>\nchunked\n</body></html>\n",
 "<html><body>\nchunked\n$::Tag</body></html>\n"]
--- no_error_log
[error]



=== TEST 25: proxy_pass, chunked upstream in 3-byte pieces, unbuffered
--- config
    location /front/ {
        chatport_inject on;
        proxy_http_version 1.1;
        proxy_buffering off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
    }

    location /backend/ {
        alias html/;
        ssi on;
        sendfile off;
        output_buffers 1 3;
        postpone_output 0;
    }
--- user_files
>>> p.html
<html><body>x</b<</body></html>
--- request
GET /front/p.html
--- response_headers
!Content-Length
Transfer-Encoding: chunked
--- response_body eval
"<html><body>x</b<$::Tag</body></html>\n"
--- no_error_log
[error]



=== TEST 26: proxy_pass, chunked upstream in 3-byte pieces, page ending in "</bo"
--- config
    location /front/ {
        chatport_inject on;
        proxy_http_version 1.1;
        proxy_buffering off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
    }

    location /backend/ {
        alias html/;
        ssi on;
        sendfile off;
        output_buffers 1 3;
        postpone_output 0;
    }
--- user_files eval
[["p.html", "<html><body>x</bo"]]
--- request
GET /front/p.html
--- response_body eval
"<html><body>x</bo$::Tag"
--- no_error_log
[error]



=== TEST 27: proxy_pass, buffered, small proxy buffers and a 100 KB page
--- config
    location /front/ {
        chatport_inject on;
        proxy_http_version 1.1;
        proxy_buffer_size 1k;
        proxy_buffers 4 1k;
        proxy_busy_buffers_size 2k;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
    }

    location /backend/ {
        alias html/;
    }
--- user_files eval
[["p.html", "<html><body>\n" . ("<p>0123456789</p>\n" x 5400) . "</body></html>\n"]]
--- request
GET /front/p.html
--- response_body eval
"<html><body>\n" . ("<p>0123456789</p>\n" x 5400) . "$::Tag</body></html>\n"
--- no_error_log
[error]



=== TEST 28: proxy_pass, buffered, the upstream response spills to a temporary file (slow client)
--- config
    location /front/ {
        chatport_inject on;
        limit_rate 64k;
        proxy_buffer_size 1k;
        proxy_buffers 2 1k;
        proxy_busy_buffers_size 1k;
        proxy_temp_file_write_size 1k;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
    }

    location /backend/ {
        alias html/;
    }
--- user_files eval
[["p.html", "<html><body>\n" . ("<p>0123456789</p>\n" x 2000) . "</body></html>\n"]]
--- request
GET /front/p.html
--- response_body eval
"<html><body>\n" . ("<p>0123456789</p>\n" x 2000) . "$::Tag</body></html>\n"
--- error_log
an upstream response is buffered to a temporary file
--- no_error_log
[error]
--- timeout: 10



=== TEST 29: a slow client (limit_rate) and small output buffers: the buffers are recycled
--- config
    location /slow/ {
        alias html/;
        chatport_inject on;
        sendfile off;
        output_buffers 2 4k;
        limit_rate 64k;
    }
--- user_files eval
[["p.html", "<html><body>\n" . ("<p>0123456789</p>\n" x 2000) . "</bo</body></html>\n"]]
--- request
GET /slow/p.html
--- response_body eval
"<html><body>\n" . ("<p>0123456789</p>\n" x 2000) . "</bo$::Tag</body></html>\n"
--- no_error_log
[error]
--- timeout: 10



=== TEST 30: near-misses of "</b" in the 16-byte blocks of the SSE2 search, at every offset
"</b>", "</BR>", "</bo", "</bod", "</BODY " and "</b" at the end of a
block come before the real "</Body>"; every buffer size cuts them
differently.
--- page
<html><body><p>one <b>two</b> three</p><br></BR></bo x</bod y</BODY z</b
<table><tr><td>cell</td></tr></table></blockquote></button></Body></html>
--- expected
<html><body><p>one <b>two</b> three</p><br></BR></bo x</bod y</BODY z</b
<table><tr><td>cell</td></tr></table></blockquote></button>@TAG@</Body></html>
