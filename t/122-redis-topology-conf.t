# The Redis topology directives (README "Redis topologies"):
# chatport_redis_sentinel, chatport_redis_sentinel_password,
# chatport_redis_cluster and chatport_redis_wait accepted in http, and
# every bad value, a missing sentinel or node, two topologies together
# (chatport_redis, chatport_redis_sentinel, chatport_redis_cluster), a
# database other than 0 with a cluster, a duplicate or a wrong context
# makes nginx -t fail with a message naming the directive.

use Test::Nginx::Socket 'no_plan';
use lib 't/lib';
use ChatPort::ErrorLog;

no_shuffle();

run_tests();

__DATA__

=== TEST 1: Sentinel and WAIT directives accepted (no sentinel listens)
--- http_config
    chatport_redis_sentinel chat-master 127.0.0.1:1 127.0.0.1:2;
    chatport_redis_sentinel_password s3cret;
    chatport_redis_password m4ster;
    chatport_redis_wait 1 250ms;
--- config
    chatport_site t122;

    location /chatport/ {
        chatport;
    }

    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- error_code: 200
--- response_body
ok
--- no_error_log
[emerg]
[alert]



=== TEST 2: chatport_redis_wait without a timeout
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_redis_wait 2;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- error_code: 200
--- no_error_log
[emerg]



=== TEST 3: chatport_redis and chatport_redis_sentinel together
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_redis_sentinel chat-master 127.0.0.1:26379;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
"chatport_redis" and "chatport_redis_sentinel" exclude each other



=== TEST 4: a sentinel without a port
--- http_config
    chatport_redis_sentinel chat-master 127.0.0.1:26379 127.0.0.1;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
invalid sentinel "127.0.0.1" in "chatport_redis_sentinel" directive, it must be "host:port"



=== TEST 5: a master name without sentinels
--- http_config
    chatport_redis_sentinel chat-master;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
invalid number of arguments in "chatport_redis_sentinel" directive



=== TEST 6: chatport_redis_sentinel_password without a sentinel
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_redis_sentinel_password s3cret;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
"chatport_redis_sentinel_password" is set without "chatport_redis_sentinel"



=== TEST 7: chatport_redis_wait 0
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_redis_wait 0;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
invalid value "0" in "chatport_redis_wait" directive, it must be a number of replicas above 0



=== TEST 8: chatport_redis_wait with a bad timeout
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_redis_wait 1 soon;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
invalid timeout "soon" in "chatport_redis_wait" directive, it must be a time above 0



=== TEST 9: chatport_redis_wait twice
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_redis_wait 1;
    chatport_redis_wait 2;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
"chatport_redis_wait" directive is duplicate



=== TEST 10: chatport_redis_sentinel in a server
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    chatport_redis_sentinel chat-master 127.0.0.1:26379;

    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
"chatport_redis_sentinel" directive is not allowed here



=== TEST 11: a master name with a space
--- http_config
    chatport_redis_sentinel "chat master" 127.0.0.1:26379;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
invalid value "chat master" in "chatport_redis_sentinel" directive, it must be a master name without spaces



=== TEST 12: chatport_redis_cluster accepted (no node listens)
--- http_config
    chatport_redis_cluster 127.0.0.1:1 127.0.0.1:2 127.0.0.1:3;
    chatport_redis_password m4ster;
    chatport_redis_wait 1 250ms;
--- config
    chatport_site t122;

    location /chatport/ {
        chatport;
    }

    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- error_code: 200
--- response_body
ok
--- no_error_log
[emerg]
[alert]



=== TEST 13: chatport_redis and chatport_redis_cluster together
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_redis_cluster 127.0.0.1:7000;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
"chatport_redis_cluster" and "chatport_redis" exclude each other



=== TEST 14: chatport_redis_sentinel and chatport_redis_cluster together
--- http_config
    chatport_redis_sentinel chat-master 127.0.0.1:26379;
    chatport_redis_cluster 127.0.0.1:7000;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
"chatport_redis_cluster" and "chatport_redis_sentinel" exclude each other



=== TEST 15: a cluster node without a port
--- http_config
    chatport_redis_cluster 127.0.0.1:7000 127.0.0.1;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
invalid node "127.0.0.1" in "chatport_redis_cluster" directive, it must be "host:port"



=== TEST 16: chatport_redis_cluster without nodes
--- http_config
    chatport_redis_cluster;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
invalid number of arguments in "chatport_redis_cluster" directive



=== TEST 17: chatport_redis_cluster twice
--- http_config
    chatport_redis_cluster 127.0.0.1:7000;
    chatport_redis_cluster 127.0.0.1:7001;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
"chatport_redis_cluster" directive is duplicate



=== TEST 18: a database other than 0 with a cluster
--- http_config
    chatport_redis_cluster 127.0.0.1:7000;
    chatport_redis_db 2;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
"chatport_redis_db" must be 0 with "chatport_redis_cluster"



=== TEST 19: chatport_redis_cluster in a server
--- config
    chatport_redis_cluster 127.0.0.1:7000;
--- request
GET /t
--- must_die
--- error_log
"chatport_redis_cluster" directive is not allowed here
