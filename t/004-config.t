# GET P config: what the widget shows, with http / server / location
# inheritance, the default site (the server's first server_name), the
# per-language default texts, and the errors of the visitor router.

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
});

no_shuffle();

run_tests();

__DATA__

=== TEST 1: defaults: site from server_name, offline, widget texts, 2k messages
--- config
    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- response_headers
Content-Type: application/json; charset=utf-8
Content-Length: 332
!Set-Cookie
!ETag
--- response_body
{"site":"localhost","online":false,"title":null,"greeting":null,"color":"#2563eb","lang":"auto","max_message":2048,"reply_wait":120,"form":{"fields":[{"name":"name","type":"text","required":false,"max":200},{"name":"email","type":"email","required":true,"max":254},{"name":"message","type":"textarea","required":true,"max":5000}]}}
--- no_error_log
[error]



=== TEST 2: http-level settings reach every server and location
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_site acme;
    chatport_title "ACME support";
    chatport_greeting "How can we help?";
    chatport_color "#123456";
    chatport_lang en;
    chatport_max_message 1k;
--- config
    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- response_body
{"site":"acme","online":false,"title":"ACME support","greeting":"How can we help?","color":"#123456","lang":"en","max_message":1024,"reply_wait":120,"form":{"fields":[{"name":"name","type":"text","required":false,"max":200},{"name":"email","type":"email","required":true,"max":254},{"name":"message","type":"textarea","required":true,"max":5000}]}}
--- no_error_log
[error]



=== TEST 3: server overrides http, location overrides server, the rest is inherited
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_site http-site;
    chatport_title "http title";
    chatport_greeting "http greeting";
    chatport_color "#111111";
    chatport_lang en;
    chatport_max_message 1k;
--- config
    chatport_site server-site;
    chatport_title "server title";
    chatport_color "#222";

    location /chatport/ {
        chatport;
    }

    location /shop/chat/ {
        chatport;
        chatport_title "location title";
        chatport_greeting "location greeting";
        chatport_lang ja;
        chatport_max_message 300;
    }
--- request eval
["GET /chatport/config", "GET /shop/chat/config"]
--- response_body eval
[qq({"site":"server-site","online":false,"title":"server title","greeting":"http greeting","color":"#222","lang":"en","max_message":1024,"reply_wait":120,"form":{"fields":[{"name":"name","type":"text","required":false,"max":200},{"name":"email","type":"email","required":true,"max":254},{"name":"message","type":"textarea","required":true,"max":5000}]}}\n),
 qq({"site":"server-site","online":false,"title":"location title","greeting":"location greeting","color":"#222","lang":"ja","max_message":300,"reply_wait":120,"form":{"fields":[{"name":"name","type":"text","required":false,"max":200},{"name":"email","type":"email","required":true,"max":254},{"name":"message","type":"textarea","required":true,"max":5000}]}}\n)]
--- no_error_log
[error]



=== TEST 4: the default site is the server's first server_name
--- server_name: shop.example.com
--- config
    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- response_body_like: ^\{"site":"shop\.example\.com","online":false,
--- no_error_log
[error]



=== TEST 5: first of several names; a wildcard or regex name becomes a valid site name; no name
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;

    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        server_name www.shop.example shop.example;

        location /chatport/ {
            chatport;
        }
    }

    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_2;
        server_name *.example.org;

        location /chatport/ {
            chatport;
        }
    }

    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_3;
        server_name ~^(www\.)?blog\.example\.net$;

        location /chatport/ {
            chatport;
        }
    }

    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_4;

        location /chatport/ {
            chatport;
        }
    }
--- config
    location /s1/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/chatport/;
    }

    location /s2/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_2/chatport/;
    }

    location /s3/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_3/chatport/;
    }

    location /s4/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_4/chatport/;
    }
--- request eval
["GET /s1/config", "GET /s2/config", "GET /s3/config", "GET /s4/config"]
--- response_body_like eval
[qr/^\{"site":"www\.shop\.example","online":false,/,
 qr/^\{"site":"_\.example\.org","online":false,/,
 qr/^\{"site":"[A-Za-z0-9._-]{1,64}","online":false,/,
 qr/^\{"site":"[A-Za-z0-9._-]{1,64}","online":false,/]
--- no_error_log
[error]



=== TEST 6: two servers with different chatport_site give different sites
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;

    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        server_name b.example;
        chatport_site tenant-b;
        chatport_title "Tenant B";

        location /chatport/ {
            chatport;
        }
    }
--- config
    chatport_site tenant-a;

    location /chatport/ {
        chatport;
    }

    location /b/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/chatport/;
    }
--- request eval
["GET /chatport/config", "GET /b/config"]
--- response_body_like eval
[qr/^\{"site":"tenant-a","online":false,"title":null,/,
 qr/^\{"site":"tenant-b","online":false,"title":"Tenant B",/]
--- no_error_log
[error]



=== TEST 7: an http-level chatport_site is shared by servers that do not set their own
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_site shared;

    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        server_name other.example;

        location /chatport/ {
            chatport;
        }
    }
--- config
    location /chatport/ {
        chatport;
    }

    location /other/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/chatport/;
    }
--- request eval
["GET /chatport/config", "GET /other/config"]
--- response_body_like eval
[qr/^\{"site":"shared",/, qr/^\{"site":"shared",/]
--- no_error_log
[error]



=== TEST 8: lang ja gives the Japanese default title and greeting
--- config
    location /chatport/ {
        chatport;
        chatport_lang ja;
    }
--- request
GET /chatport/config
--- response_body
{"site":"localhost","online":false,"title":"お問い合わせ","greeting":"ご質問はお気軽にどうぞ。","color":"#2563eb","lang":"ja","max_message":2048,"reply_wait":120,"form":{"fields":[{"name":"name","type":"text","required":false,"max":200},{"name":"email","type":"email","required":true,"max":254},{"name":"message","type":"textarea","required":true,"max":5000}]}}
--- no_error_log
[error]



=== TEST 9: lang en gives the English defaults; a set title keeps the default greeting
--- config
    location /chatport/ {
        chatport;
        chatport_lang en;
    }

    location /ja/ {
        chatport;
        chatport_lang ja;
        chatport_title "ACME";
    }
--- request eval
["GET /chatport/config", "GET /ja/config"]
--- response_body_like eval
[qr/^\{"site":"localhost","online":false,"title":"Chat with us","greeting":"Hi! How can we help you\?","color":"#2563eb","lang":"en",/,
 qr/^\{"site":"localhost","online":false,"title":"ACME","greeting":"ご質問はお気軽にどうぞ。","color":"#2563eb","lang":"ja",/]
--- no_error_log
[error]



=== TEST 10: lang auto gives null texts (the widget's own) unless they are set
--- config
    chatport_lang en;

    location /chatport/ {
        chatport;
        chatport_lang auto;
    }

    location /titled/ {
        chatport;
        chatport_lang auto;
        chatport_greeting "Hello";
    }
--- request eval
["GET /chatport/config", "GET /titled/config"]
--- response_body_like eval
[qr/^\{"site":"localhost","online":false,"title":null,"greeting":null,"color":"#2563eb","lang":"auto",/,
 qr/^\{"site":"localhost","online":false,"title":null,"greeting":"Hello","color":"#2563eb","lang":"auto",/]
--- no_error_log
[error]



=== TEST 11: texts are JSON-escaped
--- config
    location /chatport/ {
        chatport;
        chatport_title 'Say "hi" \\ now';
        chatport_greeting "</script><b>x</b>";
    }
--- request
GET /chatport/config
--- response_body_like: ^\{"site":"localhost","online":false,"title":"Say \\"hi\\" \\\\ now","greeting":"<\\?/script><b>x<\\?/b>","color":
--- no_error_log
[error]



=== TEST 12: HEAD gives the headers of GET and no body
--- config
    location /chatport/ {
        chatport;
    }
--- request
HEAD /chatport/config
--- response_headers
Content-Type: application/json; charset=utf-8
Content-Length: 332
--- response_body:
--- no_error_log
[error]



=== TEST 13: POST, PUT and DELETE are refused with 405 and Allow
--- config
    location /chatport/ {
        chatport;
    }
--- request eval
["POST /chatport/config\n{\"title\":\"x\"}", "PUT /chatport/config", "DELETE /chatport/config"]
--- error_code eval
[405, 405, 405]
--- response_headers eval
["Allow: GET, HEAD\nContent-Type: application/json; charset=utf-8",
 "Allow: GET, HEAD\nContent-Type: application/json; charset=utf-8",
 "Allow: GET, HEAD\nContent-Type: application/json; charset=utf-8"]
--- response_body eval
["{\"error\":\"method_not_allowed\",\"message\":\"this method is not allowed here\"}\n",
 "{\"error\":\"method_not_allowed\",\"message\":\"this method is not allowed here\"}\n",
 "{\"error\":\"method_not_allowed\",\"message\":\"this method is not allowed here\"}\n"]
--- no_error_log
[error]



=== TEST 14: unknown paths below the prefix are 404 JSON
--- config
    location /chatport/ {
        chatport;
    }
--- request eval
["GET /chatport/nope", "GET /chatport/", "GET /chatport/config/", "GET /chatport/configs", "POST /chatport/nope"]
--- error_code eval
[404, 404, 404, 404, 404]
--- response_headers eval
["Content-Type: application/json; charset=utf-8\n!Allow",
 "Content-Type: application/json; charset=utf-8\n!Allow",
 "Content-Type: application/json; charset=utf-8\n!Allow",
 "Content-Type: application/json; charset=utf-8\n!Allow",
 "Content-Type: application/json; charset=utf-8\n!Allow"]
--- response_body eval
["{\"error\":\"not_found\",\"message\":\"no such endpoint\"}\n",
 "{\"error\":\"not_found\",\"message\":\"no such endpoint\"}\n",
 "{\"error\":\"not_found\",\"message\":\"no such endpoint\"}\n",
 "{\"error\":\"not_found\",\"message\":\"no such endpoint\"}\n",
 "{\"error\":\"not_found\",\"message\":\"no such endpoint\"}\n"]
--- no_error_log
[error]



=== TEST 15: a nested chatport location inherits the outer location's settings
--- config
    location /chatport/ {
        chatport;
        chatport_title "Outer";
        chatport_color "#abc";

        location /chatport/ja/ {
            chatport;
            chatport_lang ja;
        }
    }
--- request eval
["GET /chatport/config", "GET /chatport/ja/config"]
--- response_body_like eval
[qr/^\{"site":"localhost","online":false,"title":"Outer","greeting":null,"color":"#abc","lang":"auto",/,
 qr/^\{"site":"localhost","online":false,"title":"Outer","greeting":"ご質問はお気軽にどうぞ。","color":"#abc","lang":"ja",/]
--- no_error_log
[error]



=== TEST 16: a location without "chatport" inside a chatport location is not served by the module
--- config
    location /chatport/ {
        chatport;

        location /chatport/static/ {
            return 200 "static\n";
        }
    }
--- request eval
["GET /chatport/static/config", "GET /chatport/config"]
--- response_body_like eval
[qr/^static\n\z/, qr/^\{"site":"localhost",/]
--- no_error_log
[error]



=== TEST 17: a body sent with GET config is read off the connection; the next request is answered
--- config
    location /chatport/ {
        chatport;
    }
--- pipelined_requests eval
["GET /chatport/config\nGET /chatport/nope HTTP/1.0", "HEAD /chatport/config"]
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/^\{"site":"localhost",/, qr/^$/]
--- no_error_log
[error]



=== TEST 18: the same first server_name in two servers (http and another port) is the same site, as meant
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;

    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        server_name localhost;

        location /chatport/ {
            chatport;
        }
    }
--- config
    location /chatport/ {
        chatport;
    }

    location /other/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/chatport/;
    }
--- request eval
["GET /chatport/config", "GET /other/config"]
--- response_body_like eval
[qr/^\{"site":"localhost",/, qr/^\{"site":"localhost",/]
--- no_error_log
[error]



=== TEST 19: a chatport_site equal to another server's derived site, or set alike in two servers, is allowed; so are unnamed servers without ChatPort
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;

    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        server_name other.example;
        chatport_site localhost;

        location /chatport/ {
            chatport;
        }
    }

    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_2;
        server_name *.wild.test;
        chatport_site shared-wild;

        location /chatport/ {
            chatport;
        }
    }

    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_2;
        server_name _.wild.test;
        chatport_site shared-wild;

        location /chatport/ {
            chatport;
        }
    }

    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_3;
    }

    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_4;
    }
--- config
    location /chatport/ {
        chatport;
    }

    location /other/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/chatport/;
    }

    location /wild/ {
        proxy_set_header Host x.wild.test;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_2/chatport/;
    }
--- request eval
["GET /chatport/config", "GET /other/config", "GET /wild/config"]
--- response_body_like eval
[qr/^\{"site":"localhost",/, qr/^\{"site":"localhost",/,
 qr/^\{"site":"shared-wild",/]
--- no_error_log
[error]

