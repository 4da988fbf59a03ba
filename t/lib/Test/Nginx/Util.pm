package Test::Nginx::Util;

# Fallback implementation of the parts of openresty's Test::Nginx that
# ChatPort's tests use (see /work/shared/test-nginx.md, "the doc" below).
# This file holds the settings, the environment handling, the nginx.conf
# skeleton and the nginx start/stop cycle.  Test::Nginx::Socket holds the
# block runner, the HTTP client and the checks.
#
# Written from the behaviour described in the doc, not from the real source.

use strict;
use warnings;

use Cwd ();
use File::Path ();
use File::Spec ();
use IO::Socket::INET ();
use POSIX ();
use Time::HiRes ();
use Test::More ();

use Exporter 'import';
our @EXPORT = qw(
    repeat_each no_shuffle log_level no_long_string master_on workers
    worker_connections no_root_location env_to_nginx check_accum_error_log
    add_block_preprocessor server_port server_root html_dir
);
our @EXPORT_OK = qw(
    expand_env rand_port verbose bail_out check_nginx_binary prepare_servroot
    write_user_files write_nginx_conf start_nginx stop_nginx nginx_is_running
    read_error_log_from error_log_size
);

# ---------------------------------------------------------------------------
# Settings (setters are called from the .t file before run_tests()).

our $RepeatEach        = 1;
our $NoShuffle         = $ENV{TEST_NGINX_NO_SHUFFLE} ? 1 : 0;
our $LogLevel          = $ENV{TEST_NGINX_LOG_LEVEL} || 'debug';
our $NoLongString      = 0;
our $MasterProcessEnabled =
    (($ENV{TEST_NGINX_MASTER_PROCESS} // '') eq 'on') ? 1 : 0;
our $Workers           = 1;
our $WorkerConnections = 64;
our $NoRootLocation    = 0;
our @EnvToNginx;
our $CheckAccumErrLog  = 0;
our @BlockPreprocessors;

our $NginxBinary = $ENV{TEST_NGINX_BINARY} || 'nginx';
our $NginxVersion;              # e.g. "1.22.1", from `nginx -V`
our $Timeout     = $ENV{TEST_NGINX_TIMEOUT} || 3;
our $Sleep       = $ENV{TEST_NGINX_SLEEP} || 0.015;
our $UseValgrind = $ENV{TEST_NGINX_USE_VALGRIND};
our $NoClean     = $ENV{TEST_NGINX_NO_CLEAN};
our $Randomize   = $ENV{TEST_NGINX_RANDOMIZE};
our $Verbose     = $ENV{TEST_NGINX_VERBOSE};

# Filled in by init_paths() (called by run_tests, or lazily by the helpers).
our ($ServerPort, $ServerPortForClient, $ServRoot, $HtmlDir, $ConfDir,
     $LogDir, $ErrLogFile, $PidFile, $ConfFile);

# Runtime state.
our $NginxPid;          # pid of the running nginx (master or single process)
our $NginxIsChild = 0;  # true when nginx is our direct child (valgrind mode)

sub repeat_each { $RepeatEach = shift if @_; $RepeatEach }
sub no_shuffle  { $NoShuffle = 1 }
sub log_level   { $LogLevel = shift if @_; $LogLevel }
sub no_long_string { $NoLongString = 1 }
sub master_on   { $MasterProcessEnabled = 1 }
# workers(n) implies master_process on (a single process has no workers).
sub workers     { $Workers = shift; $MasterProcessEnabled = 1 if $Workers > 1 }
sub worker_connections { $WorkerConnections = shift }
sub no_root_location   { $NoRootLocation = 1 }
sub env_to_nginx       { push @EnvToNginx, @_ }
sub check_accum_error_log { $CheckAccumErrLog = 1 }
# the last one added runs first, as in the real Test::Nginx
sub add_block_preprocessor { unshift @BlockPreprocessors, @_ }

sub verbose { Test::More::diag(@_) if $Verbose }

# Test::Builder's BAIL_OUT prints "Bail out!  <reason>" and exits 255.
sub bail_out { Test::More::BAIL_OUT(join '', @_) }

# ---------------------------------------------------------------------------
# Ports and paths.

# A random port in 20000..29999 (below Linux's ephemeral range) that we can
# bind on loopback right now.
sub rand_port {
    for (1 .. 100) {
        my $port = 20000 + int(rand 10000);
        my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                      LocalPort => $port, Proto => 'tcp',
                                      Listen => 1, ReuseAddr => 1)
            or next;
        close $s;
        return $port;
    }
    bail_out("cannot find a free port");
}

sub init_paths {
    return if defined $ServerPort;
    if ($Randomize) {
        $ServerPort = rand_port();
        $ServRoot   = "t/servroot_$ServerPort";
    } else {
        $ServerPort = $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT}
                      || 1984;
        $ServRoot   = $ENV{TEST_NGINX_SERVROOT} || 't/servroot';
    }
    $ServerPortForClient = $ENV{TEST_NGINX_CLIENT_PORT} || $ServerPort;
    # Absolute paths in nginx.conf, so the prefix (-p) does not matter.
    $ServRoot   = File::Spec->rel2abs($ServRoot);
    $ServRoot   =~ s{/+$}{};
    $HtmlDir    = "$ServRoot/html";
    $ConfDir    = "$ServRoot/conf";
    $LogDir     = "$ServRoot/logs";
    $ErrLogFile = "$LogDir/error.log";
    $PidFile    = "$LogDir/nginx.pid";
    $ConfFile   = "$ConfDir/nginx.conf";
    # Exported so configs can say proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT
    $ENV{TEST_NGINX_SERVER_PORT} = $ServerPort;
    $ENV{TEST_NGINX_SERVER_ROOT} = $ServRoot;
}

sub server_port { init_paths(); $ServerPort }
sub server_root { init_paths(); $ServRoot }
sub html_dir    { init_paths(); $HtmlDir }

# ---------------------------------------------------------------------------
# $TEST_NGINX_* expansion (doc 2.3).  $TEST_NGINX_RAND_PORT_<n> is a random
# free port, stable within one block: the caller passes the block's cache.

sub expand_env {
    my ($text, $rand_ports) = @_;
    return $text unless defined $text && !ref $text;
    $rand_ports ||= {};
    $text =~ s{\$(TEST_NGINX_[A-Z0-9_]+)}{
        my $var = $1;
        if ($var =~ /^TEST_NGINX_RAND_PORT_\d+$/) {
            $rand_ports->{$var} //= rand_port();
        } elsif (defined $ENV{$var}) {
            $ENV{$var};
        } else {
            bail_out("No environment $var defined.");
        }
    }ge;
    return $text;
}

# ---------------------------------------------------------------------------
# Process helpers.

# fork + exec with optional stdout/stderr redirection to files; returns pid.
sub spawn {
    my ($cmd, $out, $err) = @_;
    my $pid = fork;
    bail_out("fork failed: $!") unless defined $pid;
    return $pid if $pid;
    open STDIN, '<', '/dev/null';
    if (defined $out) { open STDOUT, '>', $out or POSIX::_exit(126) }
    if (defined $err) { open STDERR, '>', $err or POSIX::_exit(126) }
    { no warnings 'exec'; exec @$cmd; }
    print STDERR "exec $cmd->[0] failed: $!\n";
    POSIX::_exit(127);      # never run our END blocks in the child
}

sub slurp {
    my $file = shift;
    open my $fh, '<', $file or return '';
    local $/;
    my $s = <$fh>;
    return $s // '';
}

# Run `nginx -V` once; a failure is a bail-out (doc 2.8).
sub check_nginx_binary {
    return $NginxVersion if defined $NginxVersion;
    my $tmp = File::Spec->catfile(File::Spec->tmpdir, "tnginx-V.$$");
    my $pid = spawn([$NginxBinary, '-V'], $tmp, $tmp);
    waitpid $pid, 0;
    my ($rc, $out) = ($?, slurp($tmp));
    unlink $tmp;
    bail_out("failed to run \"$NginxBinary -V\": $out") if $rc != 0;
    ($NginxVersion) = $out =~ m{nginx/(\d+(?:\.\d+)*)};
    $NginxVersion //= '0';
    verbose("nginx version $NginxVersion");
    return $NginxVersion;
}

# ---------------------------------------------------------------------------
# servroot layout and nginx.conf (doc 2.3).

sub prepare_servroot {
    init_paths();
    File::Path::make_path($ServRoot);
    opendir my $dh, $ServRoot or bail_out("cannot open $ServRoot: $!");
    for my $e (readdir $dh) {
        next if $e =~ /^\.\.?$/;
        if ($e =~ /^(?:conf|logs|html|cache)$/ || $e =~ /_(?:temp|cache)$/) {
            File::Path::remove_tree("$ServRoot/$e");
        }
    }
    closedir $dh;
    File::Path::make_path($LogDir, $HtmlDir, $ConfDir);
    # the real scaffold's index page, byte for byte
    write_file("$HtmlDir/index.html",
               "<html><head><title>It works!</title></head>"
               . "<body>It works!</body></html>");
}

sub write_file {
    my ($path, $content, $mtime) = @_;
    my ($vol, $dir) = File::Spec->splitpath($path);
    File::Path::make_path($dir) if length $dir && !-d $dir;
    open my $fh, '>', $path or bail_out("cannot write $path: $!");
    binmode $fh;
    print $fh $content;
    close $fh;
    utime $mtime, $mtime, $path if defined $mtime;
}

sub touch_time {
    my ($t) = @_;
    return undef unless defined $t;
    my ($digits, $ss) = split /\./, $t;
    my @now = localtime;
    my ($cc, $yy);
    if (length $digits == 12) {
        ($cc, $yy) = (substr($digits, 0, 2), substr($digits, 2, 2));
        $digits = substr $digits, 4;
    } elsif (length $digits == 10) {
        $yy = substr $digits, 0, 2;
        $cc = $yy < 69 ? 20 : 19;
        $digits = substr $digits, 2;
    } else {
        ($cc, $yy) = (int(($now[5] + 1900) / 100), ($now[5] + 1900) % 100);
    }
    my ($mo, $dd, $hh, $mi) = unpack 'A2A2A2A2', $digits;
    return POSIX::mktime($ss // 0, $mi, $hh, $dd, $mo - 1, $cc * 100 + $yy - 1900);
}

# user_files: either the ">>> path" text form of the real scaffold, where a
# line ">>> path [mtime]" starts a new file (relative to html/), or (with
# eval) an array of [path, content, mtime?] entries.
sub write_user_files {
    my ($files) = @_;
    return unless defined $files;
    my @list;
    if (ref $files eq 'ARRAY') {
        @list = @$files;
    } else {
        my $cur;
        for my $line (split /^/m, $files) {
            # the mtime is touch -t's [[CC]YY]MMDDhhmm[.ss], as the real one
            if ($line =~ /^>>> (\S+)(?:\s+(\d{8,12}(?:\.\d\d)?))?\s*$/) {
                push @list, $cur = [$1, '', touch_time($2)];
            } elsif ($cur) {
                $cur->[1] .= $line;
            }
        }
    }
    for my $f (@list) {
        my ($name, $body, $mtime) = @$f;
        (my $rel = $name) =~ s{^/+}{};
        write_file("$HtmlDir/$rel", $body // '', $mtime);
    }
}

# Fixed env names the real scaffold passes through (mockeagain, sanitizers).
my @FixedEnv = qw(MOCKEAGAIN_VERBOSE MOCKEAGAIN MOCKEAGAIN_WRITE_TIMEOUT_PATTERN
                  LD_PRELOAD LD_LIBRARY_PATH DYLD_INSERT_LIBRARIES
                  DYLD_FORCE_FLAT_NAMESPACE ASAN_OPTIONS MOCKNOEAGAIN);

# %s: already env-expanded sections (main_config, http_config, config,
# post_main_config, server_name) plus log_level.
sub write_nginx_conf {
    my (%s) = @_;
    my $r = $ServRoot;
    my $level  = $s{log_level} // $LogLevel;
    my $daemon = $UseValgrind ? 'off' : 'on';
    my $master = $MasterProcessEnabled ? 'on' : 'off';
    my $modules = '';
    for my $so (split ' ', $ENV{TEST_NGINX_LOAD_MODULES} // '') {
        $modules .= "load_module " . File::Spec->rel2abs($so) . ";\n";
    }
    my $env = join '', map { "env $_;\n" } @FixedEnv, @EnvToNginx;
    my $temp = join '', map { "    ${_}_temp_path $r/${_}_temp;\n" }
                        qw(client_body proxy fastcgi uwsgi scgi);
    my $root_loc = $NoRootLocation ? '' : <<"_EOC_";
        location / {
            root $HtmlDir;
            index index.html index.htm;
        }
_EOC_
    my $server_name = $s{server_name} // 'localhost';
    my $user = $> == 0 ? "user root;\n" : '';
    my ($main, $http, $config, $post) =
        map { $_ // '' } @s{qw(main_config http_config config post_main_config)};

    write_file($ConfFile, <<"_EOC_");
worker_processes  $Workers;
daemon $daemon;
master_process $master;
error_log $ErrLogFile $level;
pid       $PidFile;
$env
$modules
$main

http {
    access_log $LogDir/access.log;
$temp
    default_type text/plain;
    keepalive_timeout  68000ms;

$http

    server {
        listen          127.0.0.1:$ServerPort;   # loopback only (real: all addresses)
        server_name     '$server_name';

        client_max_body_size 30M;
        #client_body_buffer_size 4k;

        # Begin test case config...
$config
        # End test case config.

$root_loc    }
}

$post

events {
    accept_mutex off;
    worker_connections  $WorkerConnections;
}
$user
_EOC_
}

# ---------------------------------------------------------------------------
# Start / stop (doc 2.3).

sub nginx_is_running { $NginxPid && pid_alive_pid($NginxPid) }

sub can_connect {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $ServerPort, Proto => 'tcp',
                                  Timeout => 1);
    return 0 unless $s;
    close $s;
    return 1;
}

sub valgrind_cmd {
    my @opts = (defined $UseValgrind && $UseValgrind !~ /^\d+$/)
        ? split(' ', $UseValgrind)
        : qw(-q --tool=memcheck --leak-check=full --show-possibly-lost=no);
    push @opts, '--suppressions=valgrind.suppress' if -f 'valgrind.suppress';
    return ('valgrind', @opts);
}

# Starts nginx.  Returns (1, '') on success, (0, $stderr_text) when nginx
# exited with an error (the caller decides: must_die or bail out).
# Retries a few times when the listen port is still held by a dying nginx.
sub start_nginx {
    my @cmd = ($NginxBinary, '-p', "$ServRoot/", '-c', $ConfFile,
               '-e', $ErrLogFile);
    my $errf = "$LogDir/stderr.out";
    my $delay = 0.1;
    for my $try (1 .. 8) {
        verbose("starting nginx: @cmd");
        if ($UseValgrind) {
            # daemon off, nginx runs in the background as our child.
            $NginxIsChild = 1;
            my $pid = $NginxPid = spawn([valgrind_cmd(), @cmd]);
            my $deadline = Time::HiRes::time() + 60;
            while (Time::HiRes::time() < $deadline) {
                my $r = waitpid $pid, POSIX::WNOHANG();
                if ($r == $pid) {           # exited: failure
                    undef $NginxPid;
                    return (0, "nginx (valgrind) exited with status "
                                . ($? >> 8) . "\n" . slurp($ErrLogFile));
                }
                return (1, '') if can_connect();
                Time::HiRes::sleep(0.1);
            }
            return (1, '');
        }
        $NginxIsChild = 0;
        my $pid = spawn(\@cmd, $errf, $errf);
        waitpid $pid, 0;
        my $rc = $? >> 8;
        my $err = slurp($errf);
        if ($? == 0) {
            # The daemon has written its pid file before the parent exits.
            for (1 .. 100) {
                last if -s $PidFile;
                Time::HiRes::sleep(0.01);
            }
            ($NginxPid) = slurp($PidFile) =~ /(\d+)/;
            return (1, '');
        }
        # Only a busy port is worth retrying; a config error is final.
        return (0, $err || "nginx exited with status $rc")
            unless $err =~ /Address already in use/;
        Time::HiRes::sleep($delay);
        $delay *= 2;
    }
    return (0, slurp($errf));
}

# SIGQUIT and wait for the process to go away (SIGKILL after a while).
sub stop_nginx {
    my $pid = $NginxPid;
    undef $NginxPid;
    return unless $pid && pid_alive_pid($pid);
    verbose("stopping nginx $pid");
    kill 'QUIT', $pid;
    my $deadline = Time::HiRes::time() + ($UseValgrind ? 60 : 10);
    while (Time::HiRes::time() < $deadline) {
        return unless pid_alive_pid($pid);
        Time::HiRes::sleep(0.01);
    }
    Test::More::diag("nginx $pid did not exit on SIGQUIT; sending SIGKILL");
    kill 'KILL', $pid;
    waitpid $pid, 0 if $NginxIsChild;
}

sub pid_alive_pid {
    my $pid = shift;
    if ($NginxIsChild) {
        my $r = waitpid $pid, POSIX::WNOHANG();
        return 0 if $r == $pid || $r == -1;
        return 1;
    }
    return 0 unless kill 0, $pid;
    # A daemon is reparented to pid 1, which may reap it late: a zombie has
    # already exited (and released the port).
    return slurp("/proc/$pid/stat") =~ /^\d+ \(.*\) Z/s ? 0 : 1;
}

# An nginx left over from an earlier run with the same servroot (for example
# TEST_NGINX_NO_CLEAN) would hold the port: stop it, if it really is nginx.
sub kill_stale_nginx {
    init_paths();
    my ($pid) = slurp($PidFile) =~ /(\d+)/;
    return unless $pid && pid_alive_pid($pid);
    return unless slurp("/proc/$pid/cmdline") =~ /nginx/;
    local $NginxIsChild = 0;
    local $NginxPid = $pid;
    stop_nginx();
}

# ---------------------------------------------------------------------------
# Error log reading (doc 2.6).

sub error_log_size { -s $ErrLogFile || 0 }

# Returns (\@lines, $new_pos) for the text appended since $pos.
sub read_error_log_from {
    my ($pos) = @_;
    open my $fh, '<', $ErrLogFile or return ([], $pos);
    binmode $fh;
    seek $fh, $pos, 0;
    local $/;
    my $text = <$fh> // '';
    my $end = tell $fh;
    close $fh;
    return ([split /\n/, $text], $end);
}

1;
