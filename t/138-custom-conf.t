# Customisation without forking: nginx -t accepts chatport_offline_text,
# chatport_thanks_text, chatport_privacy_url, chatport_position and the
# form fields' labels (label=, label:en=, label:ja=) at every level, and
# refuses each bad value with a message naming the directive and the
# value. The config answers themselves are in t/139-custom.t.

use Test::Nginx::Socket 'no_plan';
use lib 't/lib';
use ChatPort::ErrorLog;

no_shuffle();

run_tests();

__DATA__

=== TEST 1: every new directive at the http level
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    chatport_offline_text "Back at nine";
    chatport_thanks_text "Got it";
    chatport_privacy_url https://shop.example/privacy;
    chatport_position left 80px;
--- config
    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- response_body_like: "offline":"Back at nine","thanks":"Got it","privacy_url":"https://shop\.example/privacy","position":"left","bottom":80\}$
--- no_error_log
[error]
[emerg]



=== TEST 2: at the server level, and a location overriding it
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    chatport_position left;
    chatport_offline_text "server";

    location /chatport/ {
        chatport;
        chatport_position right 0;
        chatport_thanks_text "location";
        chatport_privacy_url http://shop.example/p?a=1&b=2#x;
    }
--- request
GET /chatport/config
--- response_body_like: "offline":"server","thanks":"location","privacy_url":"http://shop\.example/p\?a=1&b=2#x","position":"right","bottom":0\}$
--- no_error_log
[error]
[emerg]



=== TEST 3: chatport_position at its largest offset
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_position right 1000;
    }
--- request
GET /chatport/config
--- response_body_like: "position":"right","bottom":1000\}$
--- no_error_log
[error]
[emerg]



=== TEST 4: labels: one for any language, one per language, UTF-8, at 128 bytes
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_form_field order_no required "label=Order number" "label:ja=注文番号";
        chatport_form_field note type=textarea label=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx;
        chatport_form_field email type=email 'label:en=Your email';
    }
--- request
GET /chatport/config
--- response_body_like: "fields":\[\{"name":"order_no","type":"text","required":true,"max":1000,"label":"Order number"\},\{"name":"note","type":"textarea","required":false,"max":1000,"label":"x{128}"\},\{"name":"email","type":"email","required":false,"max":1000\}\]\}\}$
--- no_error_log
[error]
[emerg]



=== TEST 5: texts of 512 bytes of UTF-8
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_offline_text "ああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああああab";
    }
--- request
GET /chatport/config
--- response_body_like: "offline":"(あ){170}ab"\}$
--- no_error_log
[error]
[emerg]



=== TEST 6: chatport_position up
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_position up;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "up" in "chatport_position" directive, it must be "right" or "left"



=== TEST 7: chatport_position with a negative offset
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_position left -5;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "-5" in "chatport_position" directive, it must be an offset from the bottom of 0 to 1000 pixels



=== TEST 8: chatport_position with an offset over 1000
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_position left 1001px;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "1001px" in "chatport_position" directive



=== TEST 9: chatport_position with an offset in em
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_position left 5em;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "5em" in "chatport_position" directive



=== TEST 10: chatport_position with an empty offset
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_position left px;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "px" in "chatport_position" directive



=== TEST 11: chatport_position three arguments
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_position left 5 6;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid number of arguments in "chatport_position" directive



=== TEST 12: duplicate chatport_position
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_position left;
        chatport_position right;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
"chatport_position" directive is duplicate



=== TEST 13: chatport_offline_text of 513 bytes
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_offline_text aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
in "chatport_offline_text" directive, it must be at most 512 bytes



=== TEST 14: chatport_thanks_text with a control character
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_thanks_text "a\tb";
    }
--- request
GET /chatport/config
--- must_die
--- error_log
in "chatport_thanks_text" directive, it must be UTF-8 text without control characters



=== TEST 15: chatport_thanks_text with DEL
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config eval
"    location /chatport/ {\n        chatport;\n        chatport_thanks_text \"a\x7fb\";\n    }\n"
--- request
GET /chatport/config
--- must_die
--- error_log
in "chatport_thanks_text" directive, it must be UTF-8 text without control characters



=== TEST 16: chatport_offline_text not UTF-8
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config eval
"    location /chatport/ {\n        chatport;\n        chatport_offline_text \"a\xff\xfeb\";\n    }\n"
--- request
GET /chatport/config
--- must_die
--- error_log
in "chatport_offline_text" directive, it must be UTF-8 text without control characters



=== TEST 17: duplicate chatport_offline_text
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_offline_text a;
        chatport_offline_text b;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
"chatport_offline_text" directive is duplicate



=== TEST 18: chatport_privacy_url relative
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_privacy_url /privacy;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "/privacy" in "chatport_privacy_url" directive, it must be an http:// or https:// URL



=== TEST 19: chatport_privacy_url javascript:
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_privacy_url javascript:alert(1);
    }
--- request
GET /chatport/config
--- must_die
--- error_log
in "chatport_privacy_url" directive, it must be an http:// or https:// URL



=== TEST 20: chatport_privacy_url with a quote
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_privacy_url "https://shop.example/a\"b";
    }
--- request
GET /chatport/config
--- must_die
--- error_log
in "chatport_privacy_url" directive, it must be a URI without spaces, quotes or angle brackets



=== TEST 21: chatport_privacy_url with a space
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_privacy_url "https://shop.example/a b";
    }
--- request
GET /chatport/config
--- must_die
--- error_log
in "chatport_privacy_url" directive, it must be a URI without spaces, quotes or angle brackets



=== TEST 22: chatport_privacy_url with an angle bracket
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_privacy_url "https://shop.example/<x>";
    }
--- request
GET /chatport/config
--- must_die
--- error_log
in "chatport_privacy_url" directive, it must be a URI without spaces, quotes or angle brackets



=== TEST 23: a label of 129 bytes
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_form_field order_no label=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "order_no" in "chatport_form_field" directive, it must be followed by a label of 1 to 128 bytes of UTF-8 text without control characters



=== TEST 24: an empty label
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_form_field order_no label=;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
it must be followed by a label of 1 to 128 bytes



=== TEST 25: a label with a line break
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_form_field order_no "label=a\nb";
    }
--- request
GET /chatport/config
--- must_die
--- error_log
it must be followed by a label of 1 to 128 bytes of UTF-8 text without control characters



=== TEST 26: a label not UTF-8
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config eval
"    location /chatport/ {\n        chatport;\n        chatport_form_field order_no \"label:ja=\xe6\xb3\";\n    }\n"
--- request
GET /chatport/config
--- must_die
--- error_log
it must be followed by a label of 1 to 128 bytes



=== TEST 27: a label in an unknown language
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_form_field order_no label:fr=Commande;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
invalid value "order_no" in "chatport_form_field" directive, it must be followed by a label=, label:en= or label:ja=



=== TEST 28: two labels for one language
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_form_field order_no label:ja=a label:ja=b;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
it must be followed by one label per language



=== TEST 29: a misspelt label
--- http_config
    chatport_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location /chatport/ {
        chatport;
        chatport_form_field order_no lable=Order;
    }
--- request
GET /chatport/config
--- must_die
--- error_log
it must be followed by "required", "max=SIZE", "type=TYPE" or "label=TEXT"
