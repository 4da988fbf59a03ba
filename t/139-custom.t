# Customisation without forking, as GET P config answers it: each form
# field's label in the widget's language (the location's chatport_lang,
# or with "auto" the ?lang= the widget asks with; a label for any
# language otherwise), the offline and thank-you texts, the launcher's
# side and offset, the privacy URL; none of them when not set (the
# answer stays as before). The directives' nginx -t cases are in
# t/138-custom-conf.t, the owners' mail and the console's data in
# t/140-custom-mail.t.

use Test::Nginx::Socket 'no_plan';
use lib 't/lib';
use ChatPort::ErrorLog;

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

=== TEST 1: labels with chatport_lang auto: the widget's ?lang= picks one, the label for any language otherwise
--- config
    location /chatport/ {
        chatport;
        chatport_form_field name;
        chatport_form_field order_no required "label=Order number" "label:ja=注文番号";
        chatport_form_field size "label:ja=サイズ";
        chatport_form_field colour "label:en=Colour";
    }
--- request eval
["GET /chatport/config?lang=ja", "GET /chatport/config?lang=en",
 "GET /chatport/config", "GET /chatport/config?lang=fr",
 "GET /chatport/config?x=1&lang=ja"]
--- response_body eval
[qq({"site":"localhost","online":false,"title":null,"greeting":null,"color":"#2563eb","lang":"auto","max_message":2048,"reply_wait":120,"form":{"fields":[{"name":"name","type":"text","required":false,"max":1000},{"name":"order_no","type":"text","required":true,"max":1000,"label":"注文番号"},{"name":"size","type":"text","required":false,"max":1000,"label":"サイズ"},{"name":"colour","type":"text","required":false,"max":1000}]}}\n),
 qq({"site":"localhost","online":false,"title":null,"greeting":null,"color":"#2563eb","lang":"auto","max_message":2048,"reply_wait":120,"form":{"fields":[{"name":"name","type":"text","required":false,"max":1000},{"name":"order_no","type":"text","required":true,"max":1000,"label":"Order number"},{"name":"size","type":"text","required":false,"max":1000},{"name":"colour","type":"text","required":false,"max":1000,"label":"Colour"}]}}\n),
 qq({"site":"localhost","online":false,"title":null,"greeting":null,"color":"#2563eb","lang":"auto","max_message":2048,"reply_wait":120,"form":{"fields":[{"name":"name","type":"text","required":false,"max":1000},{"name":"order_no","type":"text","required":true,"max":1000,"label":"Order number"},{"name":"size","type":"text","required":false,"max":1000},{"name":"colour","type":"text","required":false,"max":1000}]}}\n),
 qq({"site":"localhost","online":false,"title":null,"greeting":null,"color":"#2563eb","lang":"auto","max_message":2048,"reply_wait":120,"form":{"fields":[{"name":"name","type":"text","required":false,"max":1000},{"name":"order_no","type":"text","required":true,"max":1000,"label":"Order number"},{"name":"size","type":"text","required":false,"max":1000},{"name":"colour","type":"text","required":false,"max":1000}]}}\n),
 qr/"name":"order_no","type":"text","required":true,"max":1000,"label":"注文番号"\}/]
--- no_error_log
[error]



=== TEST 2: a location's chatport_lang wins over the widget's ?lang=
--- config
    location /chatport/ {
        chatport;
        chatport_lang ja;
        chatport_form_field order_no "label=Order number" "label:ja=注文番号";
    }

    location /en/chatport/ {
        chatport;
        chatport_lang en;
        chatport_form_field order_no "label=Order number" "label:ja=注文番号";
    }
--- request eval
["GET /chatport/config?lang=en", "GET /en/chatport/config?lang=ja"]
--- response_body_like eval
[qr/"lang":"ja".*"fields":\[\{"name":"order_no","type":"text","required":false,"max":1000,"label":"注文番号"\}\]\}\}$/,
 qr/"lang":"en".*"fields":\[\{"name":"order_no","type":"text","required":false,"max":1000,"label":"Order number"\}\]\}\}$/]
--- no_error_log
[error]



=== TEST 3: texts, position and privacy URL; JSON-escaped; inherited from the server level
--- config
    chatport_offline_text "We answer \"soon\" \\ 営業時間外です";
    chatport_thanks_text "Thanks! <b>not HTML</b>";
    chatport_privacy_url https://shop.example/privacy?from=chat;
    chatport_position left 96px;

    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config
--- response_body
{"site":"localhost","online":false,"title":null,"greeting":null,"color":"#2563eb","lang":"auto","max_message":2048,"reply_wait":120,"form":{"fields":[{"name":"name","type":"text","required":false,"max":200},{"name":"email","type":"email","required":true,"max":254},{"name":"message","type":"textarea","required":true,"max":5000}]},"offline":"We answer \"soon\" \\ 営業時間外です","thanks":"Thanks! <b>not HTML</b>","privacy_url":"https://shop.example/privacy?from=chat","position":"left","bottom":96}
--- no_error_log
[error]



=== TEST 4: a location overrides each one; the position's offset comes with its side
--- config
    chatport_offline_text "server offline";
    chatport_position left 96;

    location /chatport/ {
        chatport;
    }

    location /two/chatport/ {
        chatport;
        chatport_offline_text "location offline";
        chatport_position right;
    }
--- request eval
["GET /chatport/config", "GET /two/chatport/config"]
--- response_body_like eval
[qr/\},"offline":"server offline","position":"left","bottom":96\}$/,
 qr/\},"offline":"location offline","position":"right","bottom":20\}$/]
--- no_error_log
[error]



=== TEST 5: nothing set: no new key (the answer is as it was)
--- config
    location /chatport/ {
        chatport;
    }
--- request
GET /chatport/config?lang=ja
--- response_body
{"site":"localhost","online":false,"title":null,"greeting":null,"color":"#2563eb","lang":"auto","max_message":2048,"reply_wait":120,"form":{"fields":[{"name":"name","type":"text","required":false,"max":200},{"name":"email","type":"email","required":true,"max":254},{"name":"message","type":"textarea","required":true,"max":5000}]}}
--- no_error_log
[error]
