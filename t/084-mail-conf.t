# The mail directives (SPEC "One conversation", Email; README "Email"):
# every one accepted where its context allows, and every bad value, a
# missing chatport_smtp or chatport_mail_from, a duplicate or a wrong
# context makes nginx -t fail with a message naming the directive.

use Test::Nginx::Socket 'no_plan';
use lib 't/lib';
use ChatPort::ErrorLog;

no_shuffle();

run_tests();

__DATA__

=== TEST 1: every mail directive in its contexts
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_smtp smtp://127.0.0.1:2525;
    chatport_mail_from chat@shop.test;
    chatport_mail_retry 2h;
    chatport_mail_visitor off;
    chatport_mail_delay 30s;
--- config
    chatport_site t084;
    chatport_mail_from desk@shop.test;
    chatport_mail_to owner@shop.test boss@shop.test;
    chatport_mail_delay 5s;

    location /chatport/ {
        chatport;
        chatport_mail_to other@shop.test;
        chatport_mail_visitor on;
        chatport_mail_delay 2m;
    }
--- request
GET /chatport/config
--- error_code: 200
--- no_error_log
[emerg]
[error]



=== TEST 2: chatport_mail_from that is not an address
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_smtp smtp://127.0.0.1;
    chatport_mail_from "chat at shop";
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
invalid value "chat at shop" in "chatport_mail_from" directive, it must be an email address



=== TEST 3: chatport_mail_from without a dot in its domain
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_smtp smtp://127.0.0.1;
    chatport_mail_from chat@localhost;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
invalid value "chat@localhost" in "chatport_mail_from" directive, it must be an email address



=== TEST 4: chatport_mail_to with one bad address among good ones
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_smtp smtp://127.0.0.1;
    chatport_mail_from chat@shop.test;
--- config
    chatport_mail_to owner@shop.test "boss@shop.test, evil@x.test";
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
invalid address "boss@shop.test, evil@x.test" in "chatport_mail_to": an email address is expected



=== TEST 5: chatport_mail_to without chatport_smtp
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_mail_from chat@shop.test;
--- config
    chatport_mail_to owner@shop.test;
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
"chatport_mail_to" needs "chatport_smtp"



=== TEST 6: chatport_mail_to without chatport_mail_from
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_smtp smtp://127.0.0.1;
--- config
    chatport_mail_to owner@shop.test;
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
"chatport_mail_to" needs "chatport_mail_from"



=== TEST 7: chatport_mail_to twice at one level
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_smtp smtp://127.0.0.1;
    chatport_mail_from chat@shop.test;
--- config
    chatport_mail_to owner@shop.test;
    chatport_mail_to boss@shop.test;
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
"chatport_mail_to" directive is duplicate



=== TEST 8: chatport_mail_delay 0
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_mail_delay 0;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
invalid value "0" in "chatport_mail_delay" directive, it must be a time above 0



=== TEST 9: chatport_mail_retry abc
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_mail_retry abc;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
invalid value "abc" in "chatport_mail_retry" directive, it must be a time above 0



=== TEST 10: chatport_mail_visitor maybe
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_mail_visitor maybe;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
invalid value "maybe" in "chatport_mail_visitor" directive, it must be "on" or "off"



=== TEST 11: chatport_mail_from in a location
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_smtp smtp://127.0.0.1;
--- config
    location = /t {
        chatport_mail_from chat@shop.test;
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
"chatport_mail_from" directive is not allowed here



=== TEST 12: chatport_mail_retry in a server
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    chatport_mail_retry 1h;
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
"chatport_mail_retry" directive is not allowed here



=== TEST 13: chatport_mail_to at the http level
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_smtp smtp://127.0.0.1;
    chatport_mail_from chat@shop.test;
    chatport_mail_to owner@shop.test;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
"chatport_mail_to" directive is not allowed here
