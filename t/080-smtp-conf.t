# chatport_smtp and its settings (SPEC "One conversation", Email): good
# values are accepted, every bad one makes nginx -t fail with a message that
# names the directive (and the value, where it is no secret).  No mail is
# sent here: nothing sends one before the outbox.

use Test::Nginx::Socket 'no_plan';
use lib 't/lib';
use ChatPort::ErrorLog;

no_shuffle();

run_tests();

__DATA__

=== TEST 1: every directive, smtp:// with an address and the default port
--- http_config
    chatport_smtp smtp://127.0.0.1;
    chatport_smtp_user alice;
    chatport_smtp_password secret;
    chatport_smtp_ca $TEST_NGINX_SERVER_ROOT/html/ca.pem;
    chatport_smtp_timeout 10s;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- user_files
>>> ca.pem
-----BEGIN CERTIFICATE-----
--- request
GET /t
--- response_body
ok
--- no_error_log
[emerg]
[error]



=== TEST 2: smtps:// with a host name, a port, a password file relative to the configuration
--- http_config
    chatport_smtp smtps://localhost:4650;
    chatport_smtp_user alice@example.com;
    chatport_smtp_password_file ../html/pw.txt;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- user_files
>>> pw.txt
secret
--- request
GET /t
--- response_body
ok
--- no_error_log
[emerg]
[error]



=== TEST 3: an IPv6 address, no user (a local MTA), upper-case scheme
--- http_config
    chatport_smtp SMTP://[::1]:2525;
    chatport_smtp_timeout 500ms;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- response_body
ok
--- no_error_log
[emerg]
[error]



=== TEST 4: chatport_smtp ftp://127.0.0.1
--- http_config
    chatport_smtp ftp://127.0.0.1;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
invalid value "ftp://127.0.0.1" in "chatport_smtp" directive, it must be smtp://host[:port] or smtps://host[:port]



=== TEST 5: chatport_smtp 127.0.0.1:25
--- http_config
    chatport_smtp 127.0.0.1:25;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
invalid value "127.0.0.1:25" in "chatport_smtp" directive, it must be smtp://host[:port] or smtps://host[:port]



=== TEST 6: chatport_smtp smtp://
--- http_config
    chatport_smtp smtp://;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
invalid value "smtp://" in "chatport_smtp" directive, it must be smtp://host[:port] or smtps://host[:port]



=== TEST 7: chatport_smtp smtps://
--- http_config
    chatport_smtp smtps://;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
invalid value "smtps://" in "chatport_smtp" directive, it must be smtp://host[:port] or smtps://host[:port]



=== TEST 8: chatport_smtp smtp://127.0.0.1/path
--- http_config
    chatport_smtp smtp://127.0.0.1/path;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
invalid value "smtp://127.0.0.1/path" in "chatport_smtp" directive, it must be smtp://host[:port] or smtps://host[:port], with no path



=== TEST 9: chatport_smtp smtp://127.0.0.1:25/
--- http_config
    chatport_smtp smtp://127.0.0.1:25/;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
invalid value "smtp://127.0.0.1:25/" in "chatport_smtp" directive, it must be smtp://host[:port] or smtps://host[:port], with no path



=== TEST 10: chatport_smtp smtp://127.0.0.1?a=b
--- http_config
    chatport_smtp smtp://127.0.0.1?a=b;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
invalid value "smtp://127.0.0.1?a=b" in "chatport_smtp" directive, it must be smtp://host[:port] or smtps://host[:port], with no path



=== TEST 11: chatport_smtp smtp://127.0.0.1:0
--- http_config
    chatport_smtp smtp://127.0.0.1:0;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
invalid value "smtp://127.0.0.1:0" in "chatport_smtp" directive, it must be smtp://host[:port] or smtps://host[:port], with no path



=== TEST 12: chatport_smtp smtp://127.0.0.1:65536
--- http_config
    chatport_smtp smtp://127.0.0.1:65536;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
invalid value "smtp://127.0.0.1:65536" in "chatport_smtp" directive, it must be smtp://host[:port] or smtps://host[:port], with no path



=== TEST 13: chatport_smtp smtp://127.0.0.1:x
--- http_config
    chatport_smtp smtp://127.0.0.1:x;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
invalid value "smtp://127.0.0.1:x" in "chatport_smtp" directive, it must be smtp://host[:port] or smtps://host[:port], with no path



=== TEST 14: chatport_smtp smtps://:465
--- http_config
    chatport_smtp smtps://:465;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
invalid value "smtps://:465" in "chatport_smtp" directive, it must be smtp://host[:port] or smtps://host[:port], with no path



=== TEST 15: chatport_smtp with user info
--- http_config
    chatport_smtp smtp://alice:secret@127.0.0.1;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
invalid value "smtp://alice:secret@127.0.0.1" in "chatport_smtp" directive, it must be a URL without a user name or password



=== TEST 16: chatport_smtp with a host name that does not resolve
--- http_config
    chatport_smtp smtp://no-such-host.invalid;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
invalid value "smtp://no-such-host.invalid" in "chatport_smtp" directive, it must be a URL whose host name resolves



=== TEST 17: chatport_smtp twice
--- http_config
    chatport_smtp smtp://127.0.0.1;
    chatport_smtp smtp://127.0.0.2;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
"chatport_smtp" directive is duplicate



=== TEST 18: chatport_smtp in a server
--- http_config

--- config
    chatport_smtp smtp://127.0.0.1;

    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
"chatport_smtp" directive is not allowed here



=== TEST 19: chatport_smtp_user without a password
--- http_config
    chatport_smtp smtp://127.0.0.1;
    chatport_smtp_user alice;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
"chatport_smtp_user" and a password ("chatport_smtp_password" or "chatport_smtp_password_file") go together



=== TEST 20: chatport_smtp_password without a user
--- http_config
    chatport_smtp smtp://127.0.0.1;
    chatport_smtp_password secret;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
"chatport_smtp_user" and a password ("chatport_smtp_password" or "chatport_smtp_password_file") go together



=== TEST 21: chatport_smtp_password and chatport_smtp_password_file
--- http_config
    chatport_smtp smtp://127.0.0.1;
    chatport_smtp_user alice;
    chatport_smtp_password secret;
    chatport_smtp_password_file $TEST_NGINX_SERVER_ROOT/html/pw.txt;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- user_files
>>> pw.txt
secret
--- request
GET /t
--- must_die
--- error_log
the SMTP password is given once, with either "chatport_smtp_password" or "chatport_smtp_password_file"



=== TEST 22: chatport_smtp_password_file, then chatport_smtp_password
--- http_config
    chatport_smtp smtp://127.0.0.1;
    chatport_smtp_user alice;
    chatport_smtp_password_file $TEST_NGINX_SERVER_ROOT/html/pw.txt;
    chatport_smtp_password secret;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- user_files
>>> pw.txt
secret
--- request
GET /t
--- must_die
--- error_log
the SMTP password is given once, with either "chatport_smtp_password" or "chatport_smtp_password_file"



=== TEST 23: chatport_smtp_user twice
--- http_config
    chatport_smtp smtp://127.0.0.1;
    chatport_smtp_user alice;
    chatport_smtp_user bob;
    chatport_smtp_password secret;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
"chatport_smtp_user" directive is duplicate



=== TEST 24: chatport_smtp_user ""
--- http_config
    chatport_smtp smtp://127.0.0.1;
    chatport_smtp_user "";
    chatport_smtp_password secret;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
invalid value "" in "chatport_smtp_user" directive, it must be not empty



=== TEST 25: chatport_smtp_password ""
--- http_config
    chatport_smtp smtp://127.0.0.1;
    chatport_smtp_user alice;
    chatport_smtp_password "";
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
invalid value "" in "chatport_smtp_password" directive, it must be not empty



=== TEST 26: chatport_smtp_password_file that does not exist
--- http_config
    chatport_smtp smtp://127.0.0.1;
    chatport_smtp_user alice;
    chatport_smtp_password_file $TEST_NGINX_SERVER_ROOT/html/none.txt;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
"chatport_smtp_password_file" cannot read "



=== TEST 27: chatport_smtp_password_file that is a folder
--- http_config
    chatport_smtp smtp://127.0.0.1;
    chatport_smtp_user alice;
    chatport_smtp_password_file $TEST_NGINX_SERVER_ROOT/html;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
/html": not a file



=== TEST 28: chatport_smtp_password_file with only a newline
--- http_config
    chatport_smtp smtp://127.0.0.1;
    chatport_smtp_user alice;
    chatport_smtp_password_file $TEST_NGINX_SERVER_ROOT/html/pw.txt;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- user_files
>>> pw.txt

--- request
GET /t
--- must_die
--- error_log
must hold a password of one line, up to 4095 bytes



=== TEST 29: chatport_smtp_password_file of two lines
--- http_config
    chatport_smtp smtp://127.0.0.1;
    chatport_smtp_user alice;
    chatport_smtp_password_file $TEST_NGINX_SERVER_ROOT/html/pw.txt;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- user_files
>>> pw.txt
secret
more
--- request
GET /t
--- must_die
--- error_log
must hold a password of one line, up to 4095 bytes



=== TEST 30: chatport_smtp_ca that does not exist
--- http_config
    chatport_smtp smtp://127.0.0.1;
    chatport_smtp_ca $TEST_NGINX_SERVER_ROOT/html/none.pem;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
"chatport_smtp_ca" cannot read "



=== TEST 31: chatport_smtp_ca that is a folder
--- http_config
    chatport_smtp smtp://127.0.0.1;
    chatport_smtp_ca $TEST_NGINX_SERVER_ROOT/html;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
"chatport_smtp_ca" cannot read "



=== TEST 32: chatport_smtp_timeout 0
--- http_config
    chatport_smtp smtp://127.0.0.1;
    chatport_smtp_timeout 0;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
invalid value "0" in "chatport_smtp_timeout" directive, it must be a time above 0



=== TEST 33: chatport_smtp_timeout abc
--- http_config
    chatport_smtp smtp://127.0.0.1;
    chatport_smtp_timeout abc;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
invalid value "abc" in "chatport_smtp_timeout" directive, it must be a time above 0



=== TEST 34: chatport_smtp_timeout -1s
--- http_config
    chatport_smtp smtp://127.0.0.1;
    chatport_smtp_timeout -1s;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- must_die
--- error_log
invalid value "-1s" in "chatport_smtp_timeout" directive, it must be a time above 0
