# Every bad value makes nginx refuse the configuration, with a message that
# names the directive and the value (SPEC: "Every directive is validated when
# nginx reads the configuration").  One block per bad value or context.

use Test::Nginx::Socket 'no_plan';
use lib 't/lib';
use ChatPort::ErrorLog;

no_shuffle();

run_tests();

__DATA__

=== TEST 1: chatport_inject maybe (location)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_inject maybe;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "maybe" in "chatport_inject" directive
it must be "on" or "off"



=== TEST 2: chatport_site a/b (server)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    chatport_site a/b;

    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "a/b" in "chatport_site" directive



=== TEST 3: chatport_site "" (server)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    chatport_site "";

    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "" in "chatport_site" directive



=== TEST 4: chatport_site of 65 characters (server)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    chatport_site aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;

    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" in "chatport_site" directive



=== TEST 5: chatport_site "shop example"
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_site "shop example";
--- config
    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "shop example" in "chatport_site" directive



=== TEST 6: chatport_redis 127.0.0.1
--- http_config
    chatport_redis 127.0.0.1;
--- config
    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "127.0.0.1" in "chatport_redis" directive



=== TEST 7: chatport_redis localhost
--- http_config
    chatport_redis localhost;
--- config
    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "localhost" in "chatport_redis" directive



=== TEST 8: chatport_redis "bad host:6379"
--- http_config
    chatport_redis "bad host:6379";
--- config
    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "bad host:6379" in "chatport_redis" directive



=== TEST 9: chatport_redis unix:
--- http_config
    chatport_redis unix:;
--- config
    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "unix:" in "chatport_redis" directive



=== TEST 10: chatport_redis unix:relative.sock
--- http_config
    chatport_redis unix:relative.sock;
--- config
    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "unix:relative.sock" in "chatport_redis" directive



=== TEST 11: chatport_redis 127.0.0.1:99999
--- http_config
    chatport_redis 127.0.0.1:99999;
--- config
    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "127.0.0.1:99999" in "chatport_redis" directive



=== TEST 12: chatport_redis 127.0.0.1:6379/1
--- http_config
    chatport_redis 127.0.0.1:6379/1;
--- config
    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "127.0.0.1:6379/1" in "chatport_redis" directive



=== TEST 13: chatport_redis_db -1
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_redis_db -1;
--- config
    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "-1" in "chatport_redis_db" directive



=== TEST 14: chatport_redis_db abc
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_redis_db abc;
--- config
    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "abc" in "chatport_redis_db" directive



=== TEST 15: chatport_redis_timeout 0
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_redis_timeout 0;
--- config
    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "0" in "chatport_redis_timeout" directive



=== TEST 16: chatport_redis_timeout -1s
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_redis_timeout -1s;
--- config
    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "-1s" in "chatport_redis_timeout" directive



=== TEST 17: chatport_redis_timeout abc
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_redis_timeout abc;
--- config
    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "abc" in "chatport_redis_timeout" directive



=== TEST 18: chatport_max_message -1 (location)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_max_message -1;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "-1" in "chatport_max_message" directive



=== TEST 19: chatport_max_message 0 (server)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    chatport_max_message 0;

    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "0" in "chatport_max_message" directive



=== TEST 20: chatport_max_message 12q
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_max_message 12q;
--- config
    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "12q" in "chatport_max_message" directive



=== TEST 21: chatport_history 0 (location)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_history 0;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "0" in "chatport_history" directive



=== TEST 22: chatport_history -5
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_history -5;
--- config
    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "-5" in "chatport_history" directive



=== TEST 23: chatport_history 1.5 (server)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    chatport_history 1.5;

    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "1.5" in "chatport_history" directive



=== TEST 24: chatport_retention abc (server)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    chatport_retention abc;

    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "abc" in "chatport_retention" directive



=== TEST 25: chatport_retention 0 (location)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_retention 0;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "0" in "chatport_retention" directive



=== TEST 26: chatport_poll_timeout 0 (location)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_poll_timeout 0;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "0" in "chatport_poll_timeout" directive



=== TEST 27: chatport_poll_timeout 10x
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_poll_timeout 10x;
--- config
    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "10x" in "chatport_poll_timeout" directive



=== TEST 28: chatport_hours "Mon-Fri" (location)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_hours "Mon-Fri";
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "Mon-Fri" in "chatport_hours" directive



=== TEST 29: chatport_hours "Foo 09:00-10:00" (location)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_hours "Foo 09:00-10:00";
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "Foo 09:00-10:00" in "chatport_hours" directive



=== TEST 30: chatport_hours "Mon 25:00-26:00" (location)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_hours "Mon 25:00-26:00";
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "Mon 25:00-26:00" in "chatport_hours" directive



=== TEST 31: chatport_hours "Mon 09:00" (location)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_hours "Mon 09:00";
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "Mon 09:00" in "chatport_hours" directive



=== TEST 32: chatport_hours "Mon 10:00-10:00" (location)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_hours "Mon 10:00-10:00";
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "Mon 10:00-10:00" in "chatport_hours" directive



=== TEST 33: chatport_hours "Mon 09:00-10:00 Tue" (location)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_hours "Mon 09:00-10:00 Tue";
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "Mon 09:00-10:00 Tue" in "chatport_hours" directive



=== TEST 34: chatport_hours "09:00-18:00" (location)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_hours "09:00-18:00";
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "09:00-18:00" in "chatport_hours" directive



=== TEST 35: chatport_hours "Mon 9:00-18:00" (location)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_hours "Mon 9:00-18:00";
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "Mon 9:00-18:00" in "chatport_hours" directive



=== TEST 36: chatport_hours "Mon 09:60-10:00" (location)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_hours "Mon 09:60-10:00";
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "Mon 09:60-10:00" in "chatport_hours" directive



=== TEST 37: chatport_hours "Mon-Sunday 09:00-10:00" (location)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_hours "Mon-Sunday 09:00-10:00";
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "Mon-Sunday 09:00-10:00" in "chatport_hours" directive



=== TEST 38: chatport_hours Mon-Fri 09:00 (several arguments)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_hours Mon-Fri 09:00;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "Mon-Fri 09:00" in "chatport_hours" directive



=== TEST 39: chatport_timezone Mars/Olympus (server)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    chatport_timezone Mars/Olympus;

    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "Mars/Olympus" in "chatport_timezone" directive



=== TEST 40: chatport_timezone "../etc/passwd"
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_timezone "../etc/passwd";
--- config
    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "../etc/passwd" in "chatport_timezone" directive



=== TEST 41: chatport_timezone /etc/localtime
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_timezone /etc/localtime;
--- config
    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "/etc/localtime" in "chatport_timezone" directive



=== TEST 42: chatport_timezone Asia (server)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    chatport_timezone Asia;

    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "Asia" in "chatport_timezone" directive



=== TEST 43: chatport_color red (location)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_color red;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "red" in "chatport_color" directive



=== TEST 44: chatport_color "#12345" (server)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    chatport_color "#12345";

    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "#12345" in "chatport_color" directive



=== TEST 45: chatport_color "#ggg"
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_color "#ggg";
--- config
    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "#ggg" in "chatport_color" directive



=== TEST 46: chatport_color "#1234567" (location)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_color "#1234567";
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "#1234567" in "chatport_color" directive



=== TEST 47: chatport_lang fr (location)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_lang fr;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "fr" in "chatport_lang" directive



=== TEST 48: chatport_lang english
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_lang english;
--- config
    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "english" in "chatport_lang" directive



=== TEST 49: chatport_title of 513 bytes (location)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_title aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" in "chatport_title" directive



=== TEST 50: chatport_greeting "line\tbreak" (a control character)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    chatport_greeting "line\tbreak";

    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log eval
[qr/invalid value "line\tbreak" in "chatport_greeting" directive/]



=== TEST 51: chatport_inject_src "x y" (location)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_inject_src "x y";
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "x y" in "chatport_inject_src" directive



=== TEST 52: chatport_inject_src chat/widget.js (server)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    chatport_inject_src chat/widget.js;

    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "chat/widget.js" in "chatport_inject_src" directive



=== TEST 53: chatport_inject_src '/chat/wid"get.js'
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_inject_src '/chat/wid"get.js';
--- config
    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "/chat/wid"get.js" in "chatport_inject_src" directive



=== TEST 54: chatport_inject_src "/chat/wid'get.js" (location)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_inject_src "/chat/wid'get.js";
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "/chat/wid'get.js" in "chatport_inject_src" directive



=== TEST 55: chatport_inject_src /chat/<script>.js (location)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_inject_src /chat/<script>.js;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "/chat/<script>.js" in "chatport_inject_src" directive



=== TEST 56: chatport_inject_src "javascript:alert(1)" (location)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_inject_src "javascript:alert(1)";
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "javascript:alert(1)" in "chatport_inject_src" directive



=== TEST 57: chatport_notify relative (location)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_notify relative;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "relative" in "chatport_notify" directive



=== TEST 58: chatport_notify http://hooks.example.com/x (server)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    chatport_notify http://hooks.example.com/x;

    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "http://hooks.example.com/x" in "chatport_notify" directive



=== TEST 59: duplicate chatport_redis
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_redis 127.0.0.1:6380;
--- config
    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
"chatport_redis" directive is duplicate



=== TEST 60: duplicate chatport_redis_password
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_redis_password a;
    chatport_redis_password b;
--- config
    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
"chatport_redis_password" directive is duplicate



=== TEST 61: duplicate chatport_redis_db
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_redis_db 1;
    chatport_redis_db 2;
--- config
    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
"chatport_redis_db" directive is duplicate



=== TEST 62: duplicate chatport_redis_timeout
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_redis_timeout 1s;
    chatport_redis_timeout 2s;
--- config
    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
"chatport_redis_timeout" directive is duplicate



=== TEST 63: duplicate chatport_site
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    chatport_site a;
    chatport_site b;

    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
"chatport_site" directive is duplicate



=== TEST 64: duplicate chatport_timezone
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    chatport_timezone UTC;
    chatport_timezone Asia/Tokyo;

    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
"chatport_timezone" directive is duplicate



=== TEST 65: duplicate chatport
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
"chatport" directive is duplicate



=== TEST 66: duplicate chatport_agent
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/agent/ {
        auth_basic "ops";
        auth_basic_user_file ../html/htpasswd;
        chatport_agent;
        chatport_agent;
    }
--- user_files
>>> htpasswd
ops:{PLAIN}ops-pw
--- request
GET /chatport/config
--- must_die
--- error_log
"chatport_agent" directive is duplicate



=== TEST 67: duplicate chatport_inject
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_inject on;
        chatport_inject off;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
"chatport_inject" directive is duplicate



=== TEST 68: duplicate chatport_inject_src
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_inject_src /a.js;
        chatport_inject_src /b.js;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
"chatport_inject_src" directive is duplicate



=== TEST 69: duplicate chatport_poll_timeout
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_poll_timeout 1s;
        chatport_poll_timeout 2s;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
"chatport_poll_timeout" directive is duplicate



=== TEST 70: duplicate chatport_max_message
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_max_message 1k;
        chatport_max_message 2k;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
"chatport_max_message" directive is duplicate



=== TEST 71: duplicate chatport_history
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_history 10;
        chatport_history 20;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
"chatport_history" directive is duplicate



=== TEST 72: duplicate chatport_retention
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_retention 1d;
        chatport_retention 2d;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
"chatport_retention" directive is duplicate



=== TEST 73: duplicate chatport_hours
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_hours "Mon 09:00-10:00";
        chatport_hours "Tue 09:00-10:00";
    }
--- request
GET /chatport/config
--- must_die
--- error_log
"chatport_hours" directive is duplicate



=== TEST 74: duplicate chatport_title
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_title A;
        chatport_title B;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
"chatport_title" directive is duplicate



=== TEST 75: duplicate chatport_greeting
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_greeting A;
        chatport_greeting B;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
"chatport_greeting" directive is duplicate



=== TEST 76: duplicate chatport_color
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_color "#000";
        chatport_color "#fff";
    }
--- request
GET /chatport/config
--- must_die
--- error_log
"chatport_color" directive is duplicate



=== TEST 77: duplicate chatport_lang
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_lang ja;
        chatport_lang en;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
"chatport_lang" directive is duplicate



=== TEST 78: duplicate chatport_notify
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_notify /n1;
        chatport_notify /n2;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
"chatport_notify" directive is duplicate



=== TEST 79: chatport in a regex location
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location ~ ^/chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
"chatport" cannot be used in a regex location



=== TEST 80: chatport_agent in a regex location
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location ~* ^/ops/ {
        auth_basic "ops";
        auth_basic_user_file ../html/htpasswd;
        chatport_agent;
    }
--- user_files
>>> htpasswd
ops:{PLAIN}ops-pw
--- request
GET /chatport/config
--- must_die
--- error_log
"chatport_agent" cannot be used in a regex location



=== TEST 81: chatport and chatport_agent in the same location
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_agent;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
"chatport_agent" location "/chatport/" already has a content handler



=== TEST 82: chatport in a location that already proxies
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        proxy_pass http://127.0.0.1:1;
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
"chatport" location "/chatport/" already has a content handler



=== TEST 83: chatport with an argument
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport on;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid number of arguments in "chatport" directive



=== TEST 84: chatport at server level
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    chatport;

    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
"chatport" directive is not allowed here



=== TEST 85: chatport_site in location context
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_site shop;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
"chatport_site" directive is not allowed here



=== TEST 86: chatport_timezone in location context
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_timezone UTC;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
"chatport_timezone" directive is not allowed here



=== TEST 87: chatport_redis in server context
--- config
    chatport_redis 127.0.0.1:6380;

    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
"chatport_redis" directive is not allowed here



=== TEST 88: chatport_redis_password in location context
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_redis_password pw;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
"chatport_redis_password" directive is not allowed here



=== TEST 89: chatport_redis_db in server context
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    chatport_redis_db 1;

    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
"chatport_redis_db" directive is not allowed here



=== TEST 90: chatport_redis_timeout in location context
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_redis_timeout 1s;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
"chatport_redis_timeout" directive is not allowed here



=== TEST 91: chatport_notify in http context
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_notify /n;
--- config
    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
"chatport_notify" directive is not allowed here



=== TEST 92: chatport_hours without an argument
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_hours;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid number of arguments in "chatport_hours" directive



=== TEST 93: chatport_title with two arguments
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_title Ask us;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid number of arguments in "chatport_title" directive



=== TEST 94: chatport_form_field "Bad Name"
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_form_field "Bad Name";
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "Bad Name" in "chatport_form_field" directive
it must be a name of 1 to 32 of a-z 0-9 _



=== TEST 95: chatport_form_field page (reserved)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_form_field page;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "page" in "chatport_form_field" directive
it must be a name other than "page", "referrer", "key" and "website"



=== TEST 96: chatport_form_field website (the honeypot)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_form_field website;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "website" in "chatport_form_field" directive
a name other than



=== TEST 97: chatport_form_field declared twice
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_form_field email;
        chatport_form_field email required;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "email" in "chatport_form_field" directive
it must be a field not declared yet



=== TEST 98: chatport_form_field max=0
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_form_field email max=0;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "email" in "chatport_form_field" directive
followed by a max= of 1 to 64k



=== TEST 99: chatport_form_field max=100k
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_form_field email max=100k;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
in "chatport_form_field" directive
followed by a max= of 1 to 64k



=== TEST 100: chatport_form_field type=date
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_form_field when type=date;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "when" in "chatport_form_field" directive
followed by a type= of text, textarea, email or tel



=== TEST 101: chatport_form_field optional (unknown word)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_form_field email optional;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
in "chatport_form_field" directive
followed by "required", "max=SIZE", "type=TYPE" or "label=TEXT"



=== TEST 102: chatport_form_rate 5 (no window)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_form_rate 5;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "5" in "chatport_form_rate" directive
it must be "COUNT/TIME", as "5/10m"



=== TEST 103: chatport_form_rate 0/10m
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_form_rate 0/10m;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "0/10m" in "chatport_form_rate" directive
"COUNT/TIME"



=== TEST 104: chatport_form_rate 5/100ms (under a second)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_form_rate 5/100ms;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "5/100ms" in "chatport_form_rate" directive
"COUNT/TIME"



=== TEST 105: chatport_form_rate 5/soon
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_form_rate 5/soon;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "5/soon" in "chatport_form_rate" directive
"COUNT/TIME"



=== TEST 106: chatport_form_rate twice
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_form_rate 5/10m;
        chatport_form_rate 6/10m;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
"chatport_form_rate" directive is duplicate



=== TEST 107: chatport_form_field key (the retry key)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_form_field key;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "key" in "chatport_form_field" directive
a name other than



=== TEST 108: chatport_chat_rate 10 (no window)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_chat_rate 10;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "10" in "chatport_chat_rate" directive
it must be "COUNT/TIME", as "10/10m"



=== TEST 109: chatport_chat_rate 0/10m
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_chat_rate 0/10m;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "0/10m" in "chatport_chat_rate" directive
"COUNT/TIME"



=== TEST 110: chatport_chat_rate 10/100ms (under a second)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_chat_rate 10/100ms;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "10/100ms" in "chatport_chat_rate" directive
"COUNT/TIME"



=== TEST 111: chatport_chat_rate -1/10m
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_chat_rate -1/10m;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "-1/10m" in "chatport_chat_rate" directive



=== TEST 112: chatport_chat_rate 10/10m 100/10m (no site=)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_chat_rate 10/10m 100/10m;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "100/10m" in "chatport_chat_rate" directive
it must be "site=COUNT/TIME", as "site=1000/10m"



=== TEST 113: chatport_chat_rate 10/10m site=
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_chat_rate 10/10m site=;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "site=" in "chatport_chat_rate" directive
"site=COUNT/TIME"



=== TEST 114: chatport_chat_rate 10/10m site=0/1m
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_chat_rate 10/10m site=0/1m;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "site=0/1m" in "chatport_chat_rate" directive
"site=COUNT/TIME"



=== TEST 115: chatport_chat_rate 10/10m site=5/later
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_chat_rate 10/10m site=5/later;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "site=5/later" in "chatport_chat_rate" directive
"site=COUNT/TIME"



=== TEST 116: chatport_chat_rate with three values
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_chat_rate 10/10m site=100/10m 5/1m;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid number of arguments in "chatport_chat_rate" directive



=== TEST 117: chatport_chat_rate twice
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_chat_rate 10/10m;
        chatport_chat_rate 20/10m;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
"chatport_chat_rate" directive is duplicate



=== TEST 118: "*.wild.test" and "_.wild.test" would both be the site "_.wild.test"
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;

    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        server_name *.wild.test;

        location /chatport/ {
            chatport;
        }
    }

    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        server_name _.wild.test;

        location /chatport/ {
            chatport;
        }
    }
--- config
--- request
GET /
--- must_die
--- error_log
servers "*.wild.test" and "_.wild.test" would share the chatport site "_.wild.test" derived from their names: set "chatport_site" in each of them



=== TEST 119: two servers without a name would both be the site "default"
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;

    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;

        location /chatport/agent/ {
            auth_basic "operators";
            auth_basic_user_file /dev/null;
            chatport_agent;
        }
    }

    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_2;

        location /chatport/ {
            chatport;
        }
    }
--- config
--- request
GET /
--- must_die
--- error_log
servers "" and "" would share the chatport site "default"



=== TEST 120: two long names alike in their first 64 bytes
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;

    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        server_name aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.one.test;

        location /chatport/ {
            chatport;
        }
    }

    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        server_name aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.two.test;

        location /chatport/ {
            chatport;
        }
    }
--- config
--- request
GET /
--- must_die
--- error_log
would share the chatport site "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"



=== TEST 121: chatport_console_url /relative (server)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    chatport_console_url /chatport/agent/;

    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "/chatport/agent/" in "chatport_console_url" directive, it must be an http:// or https:// URL



=== TEST 122: chatport_console_url with a quote (server)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    chatport_console_url "https://ops.example/a\"b";

    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
in "chatport_console_url" directive, it must be a URI without spaces, quotes or angle brackets



=== TEST 123: chatport_console_url in a location
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_console_url https://ops.example/;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
"chatport_console_url" directive is not allowed here



=== TEST 124: chatport_max_upload 0 (location)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_max_upload 0;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "0" in "chatport_max_upload" directive



=== TEST 125: chatport_max_upload 4x (http)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_max_upload 4x;
--- config
    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "4x" in "chatport_max_upload" directive



=== TEST 126: chatport_upload_quota -5m (server)
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    chatport_upload_quota -5m;

    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "-5m" in "chatport_upload_quota" directive



=== TEST 127: chatport_upload_quota twice
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_upload_quota 1000m;
        chatport_upload_quota 2000m;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
"chatport_upload_quota" directive is duplicate
