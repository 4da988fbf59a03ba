# The module loads (only through TEST_NGINX_LOAD_MODULES) and leaves
# locations that do not use it alone.

use Test::Nginx::Socket 'no_plan';
use lib 't/lib';
use ChatPort::ErrorLog;

no_shuffle();

run_tests();

__DATA__

=== TEST 1: the module loads: its directives are known, / still serves files
--- config
    chatport_inject off;
--- request
GET /
--- response_body chomp
<html><head><title>It works!</title></head><body>It works!</body></html>
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 2: a location without chatport answers as it would without the module
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location = /t {
        return 200 "plain\n";
    }
--- request
GET /t
--- response_headers
Content-Type: text/plain
Content-Length: 6
!ETag
!X-Content-Type-Options
--- response_body
plain
--- no_error_log
[error]
[alert]



=== TEST 3: a static HTML page next to a chatport location is untouched
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
    }

    location /site/ {
        root html;
    }
--- user_files
>>> site/index.html
<html><body><p>Hello</p></body></html>
--- request
GET /site/index.html
--- response_headers
Content-Type: text/html
Content-Length: 39
--- response_body
<html><body><p>Hello</p></body></html>
--- no_error_log
[error]
[alert]



=== TEST 4: a path that only looks like the chatport prefix is not taken by it
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
    }

    location /chatportal/ {
        return 200 "portal\n";
    }
--- request
GET /chatportal/config
--- response_body
portal
--- no_error_log
[error]



=== TEST 5: chatport_inject on does not change a text/plain response
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_inject on;
--- config
    location = /t {
        return 200 "text </body>\n";
    }
--- request
GET /t
--- response_body
text </body>
--- no_error_log
[error]



=== TEST 6: no chatport location: no Redis connection is attempted
--- http_config
    chatport_redis 127.0.0.1:1;
    chatport_site unused;
--- config
    location = /t {
        return 200 "idle\n";
    }
--- request
GET /t
--- response_body
idle
--- wait: 0.2
--- no_error_log
[error]
redis
