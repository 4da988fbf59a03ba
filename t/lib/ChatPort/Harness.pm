package ChatPort::Harness;

# A small harness for ChatPort's tests that Test::Nginx cannot express:
# several concurrent connections, a cookie carried between requests, a
# second nginx, a Redis restart. Core Perl only.
#
#   use lib 't/lib';
#   use ChatPort::Harness;
#   require_env();                         # skip_all without the variables
#   my $ngx = start_nginx(server => '...', workers => 4);
#   my $v = visitor(port => $ngx->port);
#   my $res = $v->post('hello');           # carries chatport_vid from now on
#   my $b = open_requests([ map { $v->poll_request($res->{json}{id}) } 1..50 ]);
#   ...                                    # post something meanwhile
#   my $answers = $b->collect(timeout => 5);
#   my $redis = start_redis(appendonly => 1);   # private, ->stop, ->start
#
# CHATPORT_KEEP=1 keeps the temporary nginx and Redis directories;
# CHATPORT_LOG_LEVEL=debug sets nginx's error_log level.
# TEST_NGINX_USE_VALGRIND=1 (or valgrind's options) runs every nginx under
# valgrind as the Test::Nginx files do; its reports are shown at the end.
#
# Every process started here is stopped by its pid, also when a test dies
# (END block); every wait is bounded; everything listens on 127.0.0.1.

use strict;
use warnings;

use Exporter 'import';
use File::Temp ();
use IO::Select;
use IO::Socket::INET;
use JSON::PP ();
use MIME::Base64 qw(encode_base64);
use POSIX qw(WNOHANG _exit);
use Time::HiRes qw(time sleep);
use Digest::SHA qw(sha1_hex);
use Test2::API qw(test2_add_callback_testing_done);

our @EXPORT = qw(require_env free_port start_nginx start_redis start_sentinel
                 redis_cmd
                 http_request open_requests visitor background reap
                 wait_until conv_key cid_of worker_pids pid_alive
                 shared_redis_port rss_kb site_state operators);

my $main_pid = $$;
my $json = JSON::PP->new->utf8->canonical;

# pid => { kind => 'nginx'|'redis'|'child'|'other', obj => ... }
my %running;

# every nginx started, for the error-log check at done_testing()
my @nginxes;


# --------------------------------------------------------------- general

sub require_env {
    my @missing = grep { !$ENV{$_} }
                  qw(TEST_NGINX_LOAD_MODULES TEST_NGINX_REDIS_PORT);

    if (@missing) {
        Test::More::plan(skip_all => "needs @missing (run it with make test)");
    }

    for my $bin ($ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx') {
        Test::More::plan(skip_all => "no nginx binary $bin") unless -x $bin;
    }
}

sub shared_redis_port { $ENV{TEST_NGINX_REDIS_PORT} }

sub nginx_binary { $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx' }

# valgrind's command line before nginx's, as in t/lib/Test/Nginx/Util.pm:
# empty without TEST_NGINX_USE_VALGRIND
sub valgrind_cmd {
    my $v = $ENV{TEST_NGINX_USE_VALGRIND} or return ();
    my @opts = $v =~ /^\d+$/
               ? qw(-q --tool=memcheck --leak-check=full
                    --show-possibly-lost=no)
               : split ' ', $v;
    push @opts, '--suppressions=valgrind.suppress' if -f 'valgrind.suppress';
    return ('valgrind', @opts);
}

# nginx under valgrind starts and stops many times slower
sub slow { valgrind_cmd() ? 6 : 1 }

sub free_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                  LocalPort => 0, ReuseAddr => 1)
        or die "no free port: $!\n";
    my $port = $s->sockport;
    close $s;
    return $port;
}

# calls $cond every $interval seconds until it returns true or $timeout
# seconds passed; returns its last value
sub wait_until {
    my ($cond, $timeout, $interval) = @_;
    $interval ||= 0.05;
    my $deadline = time + $timeout;

    while (1) {
        my $v = $cond->();
        return $v if $v;
        return $v if time >= $deadline;
        sleep $interval;
    }
}

sub pid_alive {
    my ($pid) = @_;
    return 0 unless $pid;
    # a zombie is not alive for our purposes
    open my $fh, '<', "/proc/$pid/stat" or return 0;
    my $stat = <$fh>;
    close $fh;
    return 0 unless defined $stat;
    my ($state) = $stat =~ /\)\s+(\S)/;
    return defined $state && $state ne 'Z';
}

# the live children of a process (nginx workers of a master)
sub worker_pids {
    my ($ppid) = @_;
    my @pids;

    opendir my $dh, '/proc' or return ();
    for my $pid (grep { /^\d+$/ } readdir $dh) {
        open my $fh, '<', "/proc/$pid/stat" or next;
        my $stat = <$fh>;
        close $fh;
        next unless defined $stat;
        my ($state, $parent) = $stat =~ /\)\s+(\S)\s+(\d+)/ or next;
        push @pids, $pid if $parent == $ppid && $state ne 'Z';
    }
    closedir $dh;

    @pids = sort { $a <=> $b } @pids;
    return wantarray ? @pids : scalar @pids;
}

# a process's resident memory in KB (from /proc), 0 when it is gone
sub rss_kb {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/status" or return 0;
    my ($kb) = map { /^VmRSS:\s+(\d+)/ ? $1 : () } <$fh>;
    close $fh;
    return $kb // 0;
}

# waits for a child process of ours to exit, at most $timeout seconds;
# true when it exited, and then $? is its wait status
sub reap {
    my ($pid, $timeout) = @_;
    my $deadline = time + ($timeout // 10);

    while (1) {
        my $r = waitpid($pid, WNOHANG);
        if ($r == $pid || $r == -1) {
            delete $running{$pid};
            return 1;
        }
        return 0 if time >= $deadline;
        sleep 0.02;
    }
}

sub stop_pid {
    my ($pid, $sig, $timeout) = @_;
    return 1 unless $running{$pid};
    kill $sig, $pid;
    return 1 if reap($pid, $timeout);
    kill 'KILL', $pid;
    reap($pid, 5);
    return 0;
}

# runs $code in a child process; its exit status is its return value
sub background {
    my ($code) = @_;
    my $pid = fork;
    die "fork: $!" unless defined $pid;

    if ($pid == 0) {
        my $rc = eval { $code->(); 1 } ? 0 : 1;
        warn $@ if $rc;
        _exit($rc);
    }

    $running{$pid} = { kind => 'child' };
    return $pid;
}

# a process another helper started with spawn() (ChatPort::Mail's SMTP
# server): $obj->stop at the END, stop_pid() and reap() know it
sub track {
    my ($pid, $obj) = @_;
    $running{$pid} = { kind => 'other', obj => $obj };
}

# a throwaway certificate for localhost and 127.0.0.1 in $dir, its own
# CA: (cert.pem, key.pem)
sub self_signed_cert {
    my ($dir) = @_;
    my ($cert, $key) = ("$dir/cert.pem", "$dir/key.pem");

    my $pid = spawn("$dir/openssl.log", 'openssl', 'req', '-x509',
                    '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
                    '-nodes', '-keyout', $key, '-out', $cert, '-days', '2',
                    '-subj', '/CN=localhost', '-batch', '-addext',
                    'subjectAltName=DNS:localhost,IP:127.0.0.1');

    reap($pid, 30) && $? == 0
        or die "openssl could not make a certificate:\n"
               . slurp("$dir/openssl.log");

    return ($cert, $key);
}

# Operators for auth_basic: an htpasswd file of the logins and passwords
# given (login => password), in a folder of its own removed at exit. Its
# path, and each login's Authorization header (login => 'Basic ...').
sub operators {
    my (%password) = @_;
    my $dir = File::Temp::tempdir(TMPDIR => 1,
                                  CLEANUP => !$ENV{CHATPORT_KEEP});
    my $file = "$dir/htpasswd";
    open my $fh, '>', $file or die "$file: $!";
    print $fh map { "$_:{PLAIN}$password{$_}\n" } sort keys %password;
    close $fh or die "$file: $!";
    my %auth = map { $_ => 'Basic ' . encode_base64("$_:$password{$_}", '') }
               keys %password;
    return ($file, \%auth);
}

# What a site has stored, to compare before and after what must store
# nothing: its keys (the operators' presence aside), each stream's length,
# each hash, each other key's type. Taken once the worker has indexed the
# messages it queued, a second after them (src/ngx_http_chatport_index.c).
sub site_state {
    my ($port, $site) = @_;
    wait_until(sub { !redis_cmd($port, 'EXISTS',
                                "chatport:{$site}:index-queue") }, 10);
    my $all = redis_cmd($port, 'KEYS', "chatport:{$site}:*");
    my @keys = grep { !/:(?:conns|seen|status)$/ } sort @{ $all || [] };
    my %state = (keys => join(' ', @keys));
    for my $k (@keys) {
        my $type = redis_cmd($port, 'TYPE', $k);
        $state{$k} = $type eq 'stream' ? redis_cmd($port, 'XLEN', $k)
                   : $type eq 'hash'
                     ? join(',', @{ redis_cmd($port, 'HGETALL', $k) })
                   : $type;
    }
    return \%state;
}

# the conversation id of a visitor id
sub cid_of {
    my ($vid) = @_;
    return substr(sha1_hex("chatport conversation " . $vid), 0, 32);
}

# "chatport:{site}:conv:CID" of a visitor id
sub conv_key {
    my ($site, $vid) = @_;
    return "chatport:{$site}:conv:" . cid_of($vid);
}

sub spawn {
    my ($out, @cmd) = @_;
    my $pid = fork;
    die "fork: $!" unless defined $pid;

    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', $out;
        open STDERR, '>&', \*STDOUT;
        exec @cmd or _exit(127);
    }

    return $pid;
}

sub port_open {
    my ($port) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => 1);
    return 0 unless $s;
    close $s;
    return 1;
}

sub slurp {
    my ($file, $offset) = @_;
    open my $fh, '<', $file or return '';
    binmode $fh;
    seek $fh, $offset, 0 if $offset;
    local $/;
    my $text = <$fh>;
    close $fh;
    return $text // '';
}

END {
    return unless $$ == $main_pid;
    local $?;

    for my $pid (sort { $a <=> $b } keys %running) {
        my $p = $running{$pid} or next;

        if ($p->{obj}) {
            $p->{obj}->stop;
        } else {
            stop_pid($pid, 'KILL', 5);
        }
    }
}

$SIG{INT} = $SIG{TERM} = sub { die "killed by a signal\n" };

# At done_testing(), every nginx still running is stopped and each one's
# error log is read whole: an [alert], an [emerg] or a worker that "exited
# on signal" fails the file, unless that nginx was started with a
# log_allow pattern matching the line (a test that kills a worker itself).
test2_add_callback_testing_done(sub {
    return unless $$ == $main_pid;

    for my $ngx (@nginxes) {
        $ngx->stop;

        my @bad = grep { /\[(?:alert|emerg)\]|exited on signal/
                         && !($ngx->{log_allow} && /$ngx->{log_allow}/) }
                  split /\n/, $ngx->error_log;

        Test::More::ok(!@bad, "error log of nginx $ngx->{dir} has no alert,"
                              . " emerg or crash")
            or Test::More::diag(join "\n", @bad);

        # valgrind writes to nginx's stderr, each line "==PID== ..."
        my @reports = grep { /^==\d+==/ }
                      split /\n/, slurp("$ngx->{dir}/logs/stderr.log");
        Test::More::diag("valgrind, nginx $ngx->{dir}:\n"
                         . join "\n", @reports)
            if @reports;
    }
});


# ---------------------------------------------------------------- nginx

# start_nginx(
#     server  => text inside server {} (default: a chatport location),
#     http    => more http-level text (chatport_redis is added unless
#                it is given here),
#     main    => more top-level text,
#     conf    => the whole nginx.conf instead (load_module, user, pid,
#                error_log, daemon are still added),
#     port    => listen port (default: a free one),
#     listen  => listen parameters, e.g. "reuseport",
#     workers => N (master_process on when N > 1 or master => 1),
#     redis_port, log_level (info), worker_connections (1024),
#     load_modules => [ .so paths ] (default: TEST_NGINX_LOAD_MODULES),
#     log_allow => qr// for [alert]/[emerg]/"exited on signal" lines the
#                  test causes on purpose)
#
# The object: ->port, ->dir, ->pid, ->error_log, ->log_size,
# ->log_since(OFFSET), ->bad_lines(OFFSET), ->workers, ->fds, ->rss,
# ->signal(SIG), ->stop, ->alive.

sub start_nginx {
    my (%o) = @_;
    return ChatPort::Harness::Nginx->start(%o);
}


package ChatPort::Harness::Nginx;

use strict;
use warnings;
use POSIX qw(WNOHANG);
use Time::HiRes qw(time sleep);

sub start {
    my ($class, %o) = @_;

    my $self = bless {}, $class;
    my $dir = File::Temp::tempdir('chatport-nginx-XXXXXX', TMPDIR => 1,
                                  CLEANUP => !$ENV{CHATPORT_KEEP});
    $self->{dir} = $dir;
    $self->{port} = $o{port} || ChatPort::Harness::free_port();
    $self->{log_allow} = $o{log_allow};

    mkdir "$dir/$_" for qw(conf logs html);

    my $workers = $o{workers} || 1;
    my $master = ($o{master} // ($workers > 1)) ? 'on' : 'off';
    my $redis = $o{redis_port} || $ENV{TEST_NGINX_REDIS_PORT};
    my $level = $o{log_level} || $ENV{CHATPORT_LOG_LEVEL} || 'info';
    my $wc = $o{worker_connections} || 1024;
    my $port = $self->{port};
    my $listen = "127.0.0.1:$port" . ($o{listen} ? " $o{listen}" : '');

    my $head = '';
    $head .= "load_module $_;\n"
        for @{ $o{load_modules}
               || [ split ' ', ($ENV{TEST_NGINX_LOAD_MODULES} || '') ] };
    # as root, workers as root too (as Test::Nginx does): as nobody they
    # could not enter $dir (0700) or a checkout only root may read
    $head .= "user root;\n" if $> == 0;
    $head .= "daemon off;\n"
           . "master_process $master;\n"
           . "worker_processes $workers;\n"
           . "pid logs/nginx.pid;\n"
           . "error_log logs/error.log $level;\n";

    my $conf;

    if (defined $o{conf}) {
        $conf = $head . $o{conf};

    } else {
        my $http = $o{http} // '';
        $http = "chatport_redis 127.0.0.1:$redis;\n$http"
            unless $http =~ /chatport_redis(?:_sentinel|_cluster)?\s/;

        my $server = $o{server} // <<'_EOC_';
        location /chatport/ {
            chatport;
            chatport_poll_timeout 2s;
        }
_EOC_

        $conf = $head . ($o{main} // '') . <<"_EOC_";
events {
    worker_connections $wc;
    accept_mutex off;
}

http {
    access_log off;
    default_type text/plain;
    keepalive_timeout 60s;
    client_body_temp_path $dir/client_body_temp;
    proxy_temp_path $dir/proxy_temp;
    fastcgi_temp_path $dir/fastcgi_temp;
    uwsgi_temp_path $dir/uwsgi_temp;
    scgi_temp_path $dir/scgi_temp;

$http

    server {
        listen $listen;
        server_name localhost;

$server

        location / {
            root html;
        }
    }
}
_EOC_
    }

    $self->{conf} = $conf;

    open my $fh, '>', "$dir/conf/nginx.conf" or die "$dir: $!";
    print $fh $conf;
    close $fh;

    push @nginxes, $self;

    my $pid = ChatPort::Harness::spawn("$dir/logs/stderr.log",
                                       ChatPort::Harness::valgrind_cmd(),
                                       ChatPort::Harness::nginx_binary(),
                                       '-p', "$dir/", '-c', 'conf/nginx.conf',
                                       '-e', 'logs/error.log');
    $self->{pid} = $pid;
    $running{$pid} = { kind => 'nginx', obj => $self };

    my $wait = 10 * ChatPort::Harness::slow();
    my $deadline = time + $wait;

    while (!ChatPort::Harness::port_open($port)) {
        local $?;
        if (waitpid($pid, WNOHANG) == $pid) {
            delete $running{$pid};
            die "nginx did not start:\n"
                . ChatPort::Harness::slurp("$dir/logs/error.log")
                . ChatPort::Harness::slurp("$dir/logs/stderr.log")
                . "\n--- nginx.conf\n$conf";
        }

        if (time > $deadline) {
            $self->stop;
            die "nginx did not listen on $port within $wait s:\n"
                . ChatPort::Harness::slurp("$dir/logs/error.log");
        }

        sleep 0.02;
    }

    # with master_process on, wait for every worker
    if ($master eq 'on') {
        ChatPort::Harness::wait_until(
            sub { ChatPort::Harness::worker_pids($pid) >= $workers }, $wait);
    }

    # give the workers' Redis connections a moment to come up
    sleep 0.2 * ChatPort::Harness::slow();

    return $self;
}

sub port { $_[0]{port} }
sub dir  { $_[0]{dir} }
sub pid  { $_[0]{pid} }

sub error_log_file { "$_[0]{dir}/logs/error.log" }

sub error_log { ChatPort::Harness::slurp($_[0]->error_log_file) }

sub log_size { -s $_[0]->error_log_file || 0 }

sub log_since { ChatPort::Harness::slurp($_[0]->error_log_file, $_[1]) }

sub workers { ChatPort::Harness::worker_pids($_[0]{pid}) }

sub alive { ChatPort::Harness::pid_alive($_[0]{pid}) }

# the workers' open file descriptors, and their resident memory (KB)
sub fds {
    my ($self) = @_;
    my $n = 0;
    for my $w ($self->workers) {
        opendir my $dh, "/proc/$w/fd" or next;
        $n += grep { /^\d+$/ } readdir $dh;
        closedir $dh;
    }
    return $n;
}

sub rss {
    my ($self) = @_;
    my $kb = 0;
    $kb += ChatPort::Harness::rss_kb($_) for $self->workers;
    return $kb;
}

# the lines that always mean trouble since OFFSET: [alert], [crit],
# [emerg], and a process that "exited on signal"
sub bad_lines {
    my ($self, $offset) = @_;
    return grep { /\[(?:alert|crit|emerg)\]|exited on signal/ }
           split /\n/, $self->log_since($offset // 0);
}

sub signal {
    my ($self, $sig) = @_;
    kill $sig, $self->{pid};
}

# SIGQUIT, then wait; true when it exited gracefully within $timeout s
sub stop {
    my ($self, $timeout) = @_;
    my $pid = $self->{pid};
    return 1 unless $running{$pid};

    my @workers = ChatPort::Harness::worker_pids($pid);

    kill 'QUIT', $pid;
    my $ok = ChatPort::Harness::reap($pid, ($timeout // 10)
                                           * ChatPort::Harness::slow());

    unless ($ok) {
        kill 'KILL', $pid;
        ChatPort::Harness::reap($pid, 5);
    }

    # workers orphaned by a killed master
    for my $w (@workers) {
        if (ChatPort::Harness::pid_alive($w)) {
            sleep 0.2;
            kill 'KILL', $w if ChatPort::Harness::pid_alive($w);
        }
    }

    return $ok;
}

# waits until nginx (a child of ours) exited, at most $timeout s
sub wait_exit {
    my ($self, $timeout) = @_;
    return ChatPort::Harness::reap($self->{pid}, $timeout);
}


# ---------------------------------------------------------------- redis

package ChatPort::Harness;

# start_redis(appendonly => 1, port => P, dir => D): a private
# redis-server on 127.0.0.1; ->stop and ->start again keep port and data
# directory; ->crash (SIGKILL); ->pause / ->resume (SIGSTOP / SIGCONT);
# ->cmd(@args)

sub start_redis {
    my (%o) = @_;
    my $self = bless {
        port => $o{port} || free_port(),
        dir => $o{dir} || File::Temp::tempdir('chatport-redis-XXXXXX',
                                              TMPDIR => 1,
                                              CLEANUP => !$ENV{CHATPORT_KEEP}),
        appendonly => $o{appendonly} ? 1 : 0,
        args => $o{args} || [],         # more redis-server options
    }, 'ChatPort::Harness::Redis';

    $self->start;
    return $self;
}

# start_sentinel(master => PORT, name => 'NAME', down_after => MS,
# failover_timeout => MS): a redis-sentinel watching 127.0.0.1:PORT
# with a quorum of 2, as a Redis object (->stop, ->crash, ->cmd)
sub start_sentinel {
    my (%o) = @_;
    my $self = bless {
        port => free_port(),
        dir => File::Temp::tempdir('chatport-sentinel-XXXXXX', TMPDIR => 1,
                                   CLEANUP => !$ENV{CHATPORT_KEEP}),
    }, 'ChatPort::Harness::Redis';

    my $name = $o{name};

    # the sentinel rewrites its file: it must be its own, and writable
    open my $fh, '>', "$self->{dir}/sentinel.conf" or die "sentinel: $!";
    print $fh "sentinel monitor $name 127.0.0.1 $o{master} 2\n",
              "sentinel down-after-milliseconds $name ",
              $o{down_after} // 1000, "\n",
              "sentinel failover-timeout $name ",
              $o{failover_timeout} // 5000, "\n";
    close $fh;

    $self->{sentinel} = "$self->{dir}/sentinel.conf";
    $self->start;
    return $self;
}

sub redis_cmd {
    my ($port, @args) = @_;
    return ChatPort::Harness::Redis::command($port, @args);
}


package ChatPort::Harness::Redis;

use strict;
use warnings;
use POSIX qw(WNOHANG);
use Time::HiRes qw(time sleep);

sub port { $_[0]{port} }
sub dir  { $_[0]{dir} }
sub pid  { $_[0]{pid} }

sub start {
    my ($self) = @_;

    die "redis already running" if $self->{pid} && $running{$self->{pid}};

    my @cmd = $self->{sentinel}
        ? ('redis-sentinel', $self->{sentinel}, '--bind', '127.0.0.1',
           '--port', $self->{port}, '--dir', $self->{dir},
           '--daemonize', 'no', '--logfile', "$self->{dir}/redis.log")
        : ('redis-server', '--bind', '127.0.0.1',
           '--port', $self->{port}, '--dir', $self->{dir},
           '--daemonize', 'no', '--save', '',
           '--logfile', "$self->{dir}/redis.log",
           '--appendonly', $self->{appendonly} ? 'yes' : 'no',
           # as README recommends (later args may set it otherwise)
           '--stream-node-max-bytes', 1024,
           @{ $self->{args} });

    my $pid = ChatPort::Harness::spawn("$self->{dir}/redis.out", @cmd);
    $self->{pid} = $pid;
    $running{$pid} = { kind => 'redis', obj => $self };

    # start_loading(): up once it answers, even if only "LOADING"
    my $ok = ChatPort::Harness::wait_until(sub {
        my $r = eval { command($self->{port}, 'PING') };
        return 1 if $self->{loading} && $@ =~ /LOADING/;
        return 1 if $@ =~ /NOAUTH/;     # up, with a password
        return defined $r && $r eq 'PONG';
    }, 10);

    unless ($ok) {
        $self->stop;
        die "redis-server did not start on $self->{port}:\n"
            . ChatPort::Harness::slurp("$self->{dir}/redis.log");
    }

    return $self;
}

# SIGTERM: Redis writes its append-only file and exits
sub stop {
    my ($self) = @_;
    my $pid = $self->{pid} or return 1;
    return 1 unless $running{$pid};
    kill 'CONT', $pid;      # a paused Redis cannot act on SIGTERM
    return ChatPort::Harness::stop_pid($pid, 'TERM', 10);
}

# starts on a dataset it has to load first, and returns while it loads
sub start_loading {
    my ($self) = @_;
    local $self->{loading} = 1;
    return $self->start;
}

# kill -9: no chance to write anything more to its files
sub crash {
    my ($self) = @_;
    kill 'KILL', $self->{pid};
    return ChatPort::Harness::reap($self->{pid}, 10);
}

sub pause  { kill 'STOP', $_[0]{pid} }
sub resume { kill 'CONT', $_[0]{pid} }

sub cmd {
    my ($self, @args) = @_;
    return command($self->{port}, @args);
}

# several commands on one connection (AUTH, SELECT, then the one that
# matters); the last one's reply
sub command_many {
    my ($port, @cmds) = @_;
    my $reply;

    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => 2)
        or die "redis 127.0.0.1:$port: $!\n";

    for my $args (@cmds) {
        $reply = command($port, @$args, { socket => $s });
    }

    return $reply;
}

# one command over RESP; errors die, arrays come back as array refs
sub command {
    my ($port, @args) = @_;

    # a last hash argument may bring the connection to use
    my $o = ref $args[-1] eq 'HASH' ? pop @args : {};

    my $s = $o->{socket}
        || IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                 Proto => 'tcp', Timeout => 2)
        or die "redis 127.0.0.1:$port: $!\n";

    my $req = '*' . @args . "\r\n";
    $req .= '$' . length($_) . "\r\n$_\r\n" for @args;
    syswrite $s, $req;

    my $buf = '';
    my $deadline = time + 5;
    my $sel = IO::Select->new($s);

    my $reply;

    while (1) {
        my $pos = 0;
        my $r = eval { parse(\$buf, \$pos) };

        if (!$@) {
            $reply = $r;
            last;
        }

        die $@ unless $@ =~ /^short/;

        my $left = $deadline - time;
        die "redis 127.0.0.1:$port: no answer\n"
            if $left <= 0 || !$sel->can_read($left);
        my $n = sysread $s, $buf, 65536, length $buf;
        die "redis 127.0.0.1:$port: connection closed\n" unless $n;
    }

    close $s unless $o->{socket};

    die "redis error: $reply->{error}\n"
        if ref $reply eq 'HASH' && exists $reply->{error};

    return ref $reply eq 'SCALAR' ? $$reply : $reply;
}

# parses one RESP value at $$pos; dies "short" when more is needed;
# scalars come back as a scalar ref so that an empty or undef value
# is still a complete reply
sub parse {
    my ($buf, $pos) = @_;

    my $eol = index $$buf, "\r\n", $$pos;
    die "short\n" if $eol < 0;

    my $type = substr $$buf, $$pos, 1;
    my $line = substr $$buf, $$pos + 1, $eol - $$pos - 1;
    $$pos = $eol + 2;

    if ($type eq '+') { return \$line }
    if ($type eq '-') { return { error => $line } }
    if ($type eq ':') { my $v = $line + 0; return \$v }

    if ($type eq '$') {
        return \undef if $line < 0;
        die "short\n" if length($$buf) < $$pos + $line + 2;
        my $v = substr $$buf, $$pos, $line;
        $$pos += $line + 2;
        return \$v;
    }

    if ($type eq '*') {
        return \undef if $line < 0;
        my @items;
        for (1 .. $line) {
            my $item = parse($buf, $pos);
            push @items, ref $item eq 'SCALAR' ? $$item : $item;
        }
        return \@items;
    }

    die "bad RESP type '$type'\n";
}


# ----------------------------------------------------------------- http

package ChatPort::Harness;

# A request: { port, method (GET), path, headers => {..} or [[k, v]...],
# body, cookie => 'name=value', from (the client's loopback address,
# 127.0.0.1 unless given), timeout (for http_request), wait_close
# (the answer is complete only when the server closes the connection, as
# it must after Connection: close; otherwise an answer is complete at its
# Content-Length) }.
#
# A response: { status, headers => { lc name => value, repeated ones
# joined with ", " }, set_cookie => [...], body, json (decoded when the
# body is JSON), elapsed (seconds from the request's write to its
# complete answer; with wait_close, to the close), answered (seconds to
# the complete answer), closed (the server closed the connection), error
# (when there is no complete answer, or with wait_close a complete one on
# a connection left open) }.

sub build_request {
    my ($r) = @_;

    my $method = $r->{method} || 'GET';
    my $body = $r->{body};
    $body = $json->encode($body) if ref $body;

    my @given;

    if (ref $r->{headers} eq 'HASH') {
        @given = map { [$_, $r->{headers}{$_}] } sort keys %{ $r->{headers} };
    } elsif (ref $r->{headers} eq 'ARRAY') {
        @given = @{ $r->{headers} };
    }

    # Host and Connection: close unless given
    my %named = map { lc $_->[0] => 1 } @given;
    my @h;
    push @h, ['Host', 'localhost'] unless $named{host};
    push @h, ['Connection', 'close'] unless $named{connection};
    push @h, @given;

    push @h, ['Cookie', $r->{cookie}] if $r->{cookie};

    if (defined $body) {
        push @h, ['Content-Type', 'application/json']
            unless grep { lc $_->[0] eq 'content-type' } @h;
        push @h, ['Content-Length', length $body];
    }

    my $text = "$method $r->{path} HTTP/1.1\r\n";
    $text .= "$_->[0]: $_->[1]\r\n" for @h;
    $text .= "\r\n";
    $text .= $body if defined $body;

    return $text;
}

# a complete response in $buf? (undef: not yet)
sub parse_response {
    my ($buf, $eof) = @_;

    my $end = index $buf, "\r\n\r\n";
    return undef if $end < 0;

    my $head = substr $buf, 0, $end;
    my $rest = substr $buf, $end + 4;

    my ($status_line, @lines) = split /\r\n/, $head;
    my ($status) = $status_line =~ m{^HTTP/\d\.\d (\d{3})}
        or return { error => "bad status line: $status_line" };

    my (%h, @cookies);
    for (@lines) {
        my ($k, $v) = /^([^:]+):\s*(.*?)\s*$/ or next;
        $k = lc $k;
        push @cookies, $v if $k eq 'set-cookie';
        $h{$k} = exists $h{$k} ? "$h{$k}, $v" : $v;
    }

    my $body;

    if (($h{'transfer-encoding'} // '') =~ /chunked/i) {
        $body = '';
        my $p = 0;
        while (1) {
            my $e = index $rest, "\r\n", $p;
            return undef if $e < 0;
            my $size = hex substr $rest, $p, $e - $p;
            if ($size == 0) { last }
            return undef if length($rest) < $e + 2 + $size + 2;
            $body .= substr $rest, $e + 2, $size;
            $p = $e + 2 + $size + 2;
        }

    } elsif (defined $h{'content-length'}) {
        return undef if length($rest) < $h{'content-length'};
        $body = substr $rest, 0, $h{'content-length'};

    } else {
        return undef unless $eof;
        $body = $rest;
    }

    my $res = { status => $status + 0, headers => \%h,
                set_cookie => \@cookies, body => $body };

    if (($h{'content-type'} // '') =~ m{json}) {
        $res->{json} = eval { $json->decode($body) };
    }

    return $res;
}

# opens every request's connection and writes the request; the returned
# batch's ->collect(timeout => S) gathers the answers (in the same order)
sub open_requests {
    my ($reqs) = @_;
    return ChatPort::Harness::Batch->start($reqs);
}

sub http_request {
    my (%r) = @_;
    my $b = open_requests([\%r]);
    return $b->collect(timeout => $r{timeout} // 5)->[0];
}


package ChatPort::Harness::Batch;

use strict;
use warnings;
use IO::Select;
use IO::Socket::INET;
use Time::HiRes qw(time sleep);

sub start {
    my ($class, $reqs) = @_;
    my $self = bless { items => [] }, $class;

    for my $r (@$reqs) {
        my $item = { req => $r, buf => '' };
        push @{ $self->{items} }, $item;

        # from: another loopback source address, e.g. 127.0.0.2
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $r->{port},
                                      ($r->{from} ? (LocalAddr => $r->{from})
                                                  : ()),
                                      Proto => 'tcp', Timeout => 5);
        unless ($s) {
            $item->{res} = { error => "connect: $!", status => 0 };
            next;
        }

        my $text = ChatPort::Harness::build_request($r);
        my $off = 0;
        my $deadline = time + 5;

        # requests are small: a blocking write with a bound
        while ($off < length $text) {
            my $n = syswrite $s, $text, length($text) - $off, $off;
            if (!defined $n) {
                $item->{res} = { error => "write: $!", status => 0 };
                last;
            }
            $off += $n;
            last if time > $deadline;
        }

        $s->blocking(0);
        $item->{sock} = $s;
        $item->{sent} = time;
    }

    return $self;
}

sub size { scalar @{ $_[0]{items} } }

# reads what has arrived for at most $secs seconds (0: just what is
# there), completing answers; returns how many are still open
sub pump {
    my ($self, $secs) = @_;
    my $deadline = time + ($secs // 0);

    while (1) {
        my %by_fd;
        for my $it (@{ $self->{items} }) {
            $by_fd{ fileno $it->{sock} } = $it if $it->{sock};
        }
        return 0 unless %by_fd;

        my $sel = IO::Select->new(map { $_->{sock} } values %by_fd);
        my $left = $deadline - time;
        $left = 0 if $left < 0;

        my @ready = $sel->can_read($left);

        for my $s (@ready) {
            my $it = $by_fd{ fileno $s };
            my $n = sysread $s, $it->{buf}, 65536, length $it->{buf};

            next if !defined $n && ($!{EAGAIN} || $!{EWOULDBLOCK});

            my $eof = !$n;
            my $res = ChatPort::Harness::parse_response($it->{buf}, $eof);

            $it->{answered} //= time - $it->{sent} if $res;

            # wait_close: complete only when the server closes
            undef $res if $res && !$eof && $it->{req}{wait_close};

            if ($res) {
                $res->{closed} = $eof ? 1 : 0;
                $res->{answered} = $it->{answered};
                $res->{elapsed} = time - $it->{sent};
                $it->{res} = $res;
                close $it->{sock};
                delete $it->{sock};

            } elsif ($eof) {
                $it->{res} = { status => 0, body => $it->{buf},
                               error => length $it->{buf}
                                        ? 'incomplete answer'
                                        : 'connection closed without an '
                                          . 'answer',
                               elapsed => time - $it->{sent} };
                close $it->{sock};
                delete $it->{sock};
            }
        }

        my $open = grep { $_->{sock} } @{ $self->{items} };
        return $open if !$open || time >= $deadline;
    }
}

# waits at most $o{timeout} seconds for all answers; the ones still open
# then are closed and get { status => 0, error => 'timeout' }
sub collect {
    my ($self, %o) = @_;

    $self->pump($o{timeout} // 5);

    for my $it (@{ $self->{items} }) {
        next unless $it->{sock};
        close $it->{sock};
        delete $it->{sock};

        # a complete answer on a connection the server did not close
        my $res = $it->{req}{wait_close}
                  && ChatPort::Harness::parse_response($it->{buf}, 0);

        if ($res) {
            $res->{closed} = 0;
            $res->{answered} = $it->{answered};
            $res->{error} = 'not closed by the server';
        } else {
            $res = { status => 0, error => 'timeout', body => $it->{buf} };
        }

        $res->{elapsed} = time - $it->{sent};
        $it->{res} = $res;
    }

    return [ map { $_->{res} } @{ $self->{items} } ];
}

# the answers that are complete so far (undef for the others)
sub done {
    my ($self) = @_;
    return [ map { $_->{res} } @{ $self->{items} } ];
}

# closes every connection without waiting (client gone)
sub abandon {
    my ($self) = @_;
    for my $it (@{ $self->{items} }) {
        close $it->{sock} if $it->{sock};
        delete $it->{sock};
    }
}


# -------------------------------------------------------------- visitor

package ChatPort::Harness;

# visitor(port => P, prefix => '/chatport/'): a browser of one visitor;
# keeps the chatport_vid cookie the server sets
sub visitor {
    my (%o) = @_;
    return ChatPort::Harness::Visitor->new(%o);
}


package ChatPort::Harness::Visitor;

use strict;
use warnings;

sub new {
    my ($class, %o) = @_;
    return bless { port => $o{port}, prefix => $o{prefix} || '/chatport/',
                   vid => $o{vid}, ua => $o{ua} }, $class;
}

sub vid { $_[0]{vid} }

sub port {
    my ($self, $port) = @_;
    $self->{port} = $port if $port;
    return $self->{port};
}

sub cookie {
    my ($self) = @_;
    return $self->{vid} ? "chatport_vid=$self->{vid}" : undef;
}

# takes the chatport_vid a response sets
sub absorb {
    my ($self, $res) = @_;
    for (@{ $res->{set_cookie} || [] }) {
        $self->{vid} = $1 if /^chatport_vid=([^;]*)/;
    }
    return $res;
}

sub post_request {
    my ($self, $text, %o) = @_;
    my %h = %{ $o{headers} || {} };
    $h{'User-Agent'} = $self->{ua} if $self->{ua} && !$h{'User-Agent'};

    my %body = (text => $text,
                page => $o{page} // 'https://shop.test/products');
    $body{key} = $o{key} if exists $o{key};

    return { port => $o{port} || $self->{port}, method => 'POST',
             path => $self->{prefix} . 'messages',
             headers => \%h, cookie => $self->cookie,
             wait_close => $o{wait_close}, from => $o{from},
             body => \%body };
}

sub get_request {
    my ($self, $what, $after, %o) = @_;
    my $path = $self->{prefix} . $what;
    $path .= "?after=$after" if defined $after;
    return { port => $o{port} || $self->{port}, method => 'GET',
             path => $path, cookie => $self->cookie,
             headers => $o{headers} || {}, wait_close => $o{wait_close} };
}

sub poll_request    { my $s = shift; $s->get_request('poll', @_) }
sub history_request { my $s = shift; $s->get_request('messages', @_) }

sub post {
    my ($self, $text, %o) = @_;
    my $req = $self->post_request($text, %o);
    return $self->absorb(ChatPort::Harness::http_request(
        %$req, timeout => $o{timeout} // 5));
}

sub history {
    my ($self, $after, %o) = @_;
    return ChatPort::Harness::http_request(
        %{ $self->history_request($after, %o) },
        timeout => $o{timeout} // 5);
}

sub poll {
    my ($self, $after, %o) = @_;
    return ChatPort::Harness::http_request(
        %{ $self->poll_request($after, %o) }, timeout => $o{timeout} // 5);
}


1;
