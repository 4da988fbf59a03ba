# Every directive is accepted with good values in every context it allows
# (SPEC "Directives"); where the value is visible in GET /chatport/config it
# is checked there too.

use Test::Nginx::Socket 'no_plan';
use lib 't/lib';
use ChatPort::ErrorLog;

no_shuffle();

run_tests();

__DATA__

=== TEST 1: chatport_redis with a host name and port
--- http_config
    chatport_redis localhost:6379;
--- config
    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/widget.js
--- response_body_like: ^\(function\(\)\{"use strict";
--- no_error_log
[emerg]



=== TEST 2: chatport_redis with a unix socket path
--- http_config
    chatport_redis unix:/tmp/x.sock;
--- config
    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/widget.js
--- response_body_like: ^\(function\(\)\{"use strict";
--- no_error_log
[emerg]



=== TEST 3: no chatport directive at all: the defaults (127.0.0.1:6379, site = server_name)
--- config
    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- response_body
{"site":"localhost","online":false,"title":null,"greeting":null,"color":"#2563eb","lang":"auto","max_message":2048,"reply_wait":120,"form":{"fields":[{"name":"name","type":"text","required":false,"max":200},{"name":"email","type":"email","required":true,"max":254},{"name":"message","type":"textarea","required":true,"max":5000}]}}
--- no_error_log
[emerg]



=== TEST 4: chatport_hours as several arguments, past midnight, wrapping day ranges
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_hours Mon-Fri 09:00-18:00 Sat 10:00-14:00;
--- config
    chatport_hours "Fri 22:00-02:00 sat-mon 00:00-24:00";

    location /chatport/ {
        chatport;
        chatport_hours Mon,Wed-Thu,Sun 08:00-12:00 13:00-17:30;
    }

    location /chatport2/ {
        chatport;
        chatport_hours "MON 00:00-23:59";
    }
--- request
GET /chatport2/config
--- response_body_like: ^\{"site":"localhost",
--- no_error_log
[error]
[emerg]



=== TEST 5: other time zones, including one with a "+" in its name
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_timezone UTC;

    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        server_name tz.test;
        chatport_timezone Etc/GMT+9;

        location /chatport/ {
            chatport;
        }
    }
--- config
    chatport_timezone America/New_York;

    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- response_body_like: ^\{"site":"localhost",
--- no_error_log
[error]
[emerg]



=== TEST 6: sizes and times in every unit nginx knows
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_redis_timeout 3;
    chatport_poll_timeout 1m;
    chatport_retention 30d;
    chatport_max_message 1m;
--- config
    chatport_poll_timeout 90s;
    chatport_retention 2w;
    chatport_max_message 8K;

    location /chatport/ {
        chatport;
        chatport_poll_timeout 1500ms;
        chatport_retention 1y;
        chatport_max_message 100;
    }

    location /chatport2/ {
        chatport;
    }
--- request eval
["GET /chatport/config", "GET /chatport2/config"]
--- response_body_like eval
[qr/,"max_message":100,/, qr/,"max_message":8192,/]
--- no_error_log
[error]
[emerg]



=== TEST 7: chatport and chatport_agent in locations with and without a trailing slash
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chat {
        chatport;
    }

    location ^~ /ops/ {
        auth_basic "operators";
        auth_basic_user_file ../html/htpasswd;
        chatport_agent;
    }
--- user_files
>>> htpasswd
agent:{PLAIN}agent-pw
--- request
GET /chat/config
--- response_body_like: ^\{"site":"localhost","online":false,
--- no_error_log
[error]
[emerg]



=== TEST 8: site names at the limits: 1 and 64 characters, all allowed characters
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_site A;

    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        server_name long.test;
        chatport_site aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;

        location /chatport/ {
            chatport;
        }
    }
--- config
    chatport_site Zz09._-;

    location /chatport/ {
        chatport;
    }

    location /long/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/chatport/;
    }
--- request eval
["GET /chatport/config", "GET /long/config"]
--- response_body_like eval
[qr/^\{"site":"Zz09\._-",/,
 qr/^\{"site":"a{64}",/]
--- no_error_log
[error]
[emerg]



=== TEST 9: title and greeting in UTF-8 (Japanese) with every colour form
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_color "#FFF";
--- config
    location /chatport/ {
        chatport;
        chatport_title "お問い合わせ";
        chatport_greeting "ご質問はお気軽にどうぞ。";
    }
--- request
GET /chatport/config
--- response_body_like: ^\{"site":"localhost","online":false,"title":"お問い合わせ","greeting":"ご質問はお気軽にどうぞ。","color":"#FFF","lang":"auto",
--- no_error_log
[error]
[emerg]



=== TEST 10: every directive allowed at http level
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_redis_db 2;
    chatport_redis_timeout 500ms;
    chatport_site shop.example-1_a;
    chatport_timezone Asia/Tokyo;
    chatport_inject on;
    chatport_inject_src /chatport/widget.js;
    chatport_poll_timeout 1m;
    chatport_max_message 4k;
    chatport_history 50;
    chatport_retention 30d;
    chatport_hours "Mon-Fri 09:00-18:00 Sat 10:00-14:00";
    chatport_title "Ask us";
    chatport_greeting "Hello there";
    chatport_color "#ff8800";
    chatport_lang en;
--- config
    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- response_body
{"site":"shop.example-1_a","online":false,"title":"Ask us","greeting":"Hello there","color":"#ff8800","lang":"en","max_message":4096,"reply_wait":120,"form":{"fields":[{"name":"name","type":"text","required":false,"max":200},{"name":"email","type":"email","required":true,"max":254},{"name":"message","type":"textarea","required":true,"max":5000}]}}
--- no_error_log
[error]
[emerg]



=== TEST 11: every directive allowed at server level
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    chatport_site srv-site;
    chatport_timezone Europe/Berlin;
    chatport_inject on;
    chatport_inject_src https://cdn.example.com/chatport/widget.js;
    chatport_poll_timeout 45s;
    chatport_max_message 1k;
    chatport_history 10;
    chatport_retention 12h;
    chatport_hours Mon,Wed 08:00-12:00 13:00-17:00;
    chatport_title "Server title";
    chatport_greeting "Server greeting";
    chatport_color "#0a0";
    chatport_lang ja;
    chatport_notify /_chatport_notify;

    location = /_chatport_notify {
        internal;
        return 204;
    }

    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- response_body
{"site":"srv-site","online":false,"title":"Server title","greeting":"Server greeting","color":"#0a0","lang":"ja","max_message":1024,"reply_wait":120,"form":{"fields":[{"name":"name","type":"text","required":false,"max":200},{"name":"email","type":"email","required":true,"max":254},{"name":"message","type":"textarea","required":true,"max":5000}]}}
--- no_error_log
[error]
[emerg]



=== TEST 12: every directive allowed at location level
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location = /_chatport_notify {
        internal;
        return 204;
    }

    location /chatport/ {
        chatport;
        chatport_inject off;
        chatport_inject_src /static/chat.js?v=2;
        chatport_poll_timeout 500ms;
        chatport_max_message 512;
        chatport_history 1;
        chatport_retention 1h;
        chatport_hours always;
        chatport_title "Location title";
        chatport_greeting "Location greeting";
        chatport_color "#ABCDEF";
        chatport_lang auto;
        chatport_notify /_chatport_notify;
    }

    location /chatport/agent/ {
        auth_basic "operators";
        auth_basic_user_file ../html/htpasswd;
        chatport_agent;
        chatport_inject off;
        chatport_poll_timeout 25s;
    }
--- user_files
>>> htpasswd
agent:{PLAIN}agent-pw
--- request
GET /chatport/config
--- response_body
{"site":"localhost","online":false,"title":"Location title","greeting":"Location greeting","color":"#ABCDEF","lang":"auto","max_message":512,"reply_wait":120,"form":{"fields":[{"name":"name","type":"text","required":false,"max":200},{"name":"email","type":"email","required":true,"max":254},{"name":"message","type":"textarea","required":true,"max":5000}]}}
--- no_error_log
[error]
[emerg]



=== TEST 13: plain ASCII title and greeting, with spaces and punctuation
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_title "Chat with ACME, Inc.";
        chatport_greeting 'Hi! Ask us "anything".';
    }
--- request
GET /chatport/config
--- response_body_like: ^\{"site":"localhost","online":false,"title":"Chat with ACME, Inc\.","greeting":"Hi! Ask us \\"anything\\"\.","color":"#2563eb",
--- no_error_log
[error]
[emerg]



=== TEST 14: mixed ASCII and Japanese title
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_title "ACME お問い合わせ";
        chatport_lang ja;
    }
--- request
GET /chatport/config
--- response_body_like: ^\{"site":"localhost","online":false,"title":"ACME お問い合わせ","greeting":"ご質問はお気軽にどうぞ。","color":"#2563eb","lang":"ja",
--- no_error_log
[error]
[emerg]



=== TEST 15: chatport_redis_password is accepted and sent with AUTH
(the test Redis has no password, so it refuses the AUTH)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_redis_password "s3cret pw";
--- config
    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/widget.js
--- response_body_like: ^\(function\(\)\{"use strict";
--- wait: 0.2
--- error_log
AUTH or SELECT failed
--- no_error_log
[emerg]



=== TEST 16: chatport_chat_rate in every context, with and without site=
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_chat_rate 10/10m site=1000/1h;
--- config
    chatport_chat_rate 5/1m;

    location /chatport/ {
        chatport;
        chatport_chat_rate 20/30s site=200/10m;
    }
--- request
GET /chatport/widget.js
--- response_body_like: ^\(function\(\)\{"use strict";
--- no_error_log
[error]
[emerg]
