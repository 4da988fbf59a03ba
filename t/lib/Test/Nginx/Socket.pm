package Test::Nginx::Socket;

# Fallback Test::Nginx::Socket: the subset of openresty's test-nginx that
# ChatPort's tests use, written from /work/shared/test-nginx.md ("the doc").
# `make test` only puts t/lib on @INC when the real scaffold is missing.
#
# Like the real module this is a Test::Base subclass: `use
# Test::Nginx::Socket 'no_plan'` goes through Test::Base::import, which
# makes us the default Test::Base class (so blocks() parses main::DATA with
# Test::Base's own rules and filters: norm, trim, chomp, chop, eval, lines,
# join, ...), passes the plan arguments to Test::More, turns on strict and
# warnings in the test file, and exports Test::More's functions together
# with our @EXPORT.

use strict;
use warnings;

use Test::Base ();      # loaded, not imported: its import() is inherited
use Test::More import => [qw(done_testing note explain subtest BAIL_OUT
                             new_ok require_ok)];
use Test::LongString ();
use List::Util qw(shuffle max);
use IO::Select ();
use IO::Socket::INET ();
use File::Path ();
use Time::HiRes ();

use Test::Nginx::Util qw(:DEFAULT expand_env verbose bail_out
    check_nginx_binary prepare_servroot write_user_files write_nginx_conf
    start_nginx stop_nginx nginx_is_running read_error_log_from
    error_log_size);

our @ISA = ('Test::Base');

our @EXPORT = (@Test::Nginx::Util::EXPORT, qw(
    run_tests run_test server_port_for_client
    done_testing note explain subtest BAIL_OUT new_ok require_ok
));

our $ErrLogPos = 0;         # read position in error.log (doc 2.6)
our $PendingShutdown;       # block whose shutdown_error_log is deferred

sub server_port_for_client {
    Test::Nginx::Util::init_paths();
    $Test::Nginx::Util::ServerPortForClient;
}

# ---------------------------------------------------------------------------
# run_tests: run every block of main::DATA (doc 2.3, 2.7).

sub run_tests {
    Test::Nginx::Util::init_paths();
    Test::More::plan('no_plan') unless Test::More->builder->has_plan;
    check_nginx_binary();
    Test::Nginx::Util::kill_stale_nginx();

    # Test::Base has already applied ONLY / SKIP / LAST, in file order.
    my @blocks = Test::Base::blocks();
    @blocks = shuffle(@blocks)
        unless $Test::Nginx::Util::NoShuffle || $ENV{TEST_NGINX_NO_SHUFFLE};

    for my $block (@blocks) {
        $_->($block) for @Test::Nginx::Util::BlockPreprocessors;
        run_test($block);
    }

    if ($Test::Nginx::Util::NoClean) {
        # Leave nginx and servroot behind for inspection; no shutdown checks.
        verbose("TEST_NGINX_NO_CLEAN: leaving nginx running");
        return;
    }
    stop_and_check_shutdown();
    File::Path::remove_tree($Test::Nginx::Util::ServRoot)
        if $Test::Nginx::Util::Randomize;
}

# Stop nginx when the script ends early (die, BAIL_OUT, skip_all).
END {
    local $?;
    stop_nginx() if !$Test::Nginx::Util::NoClean && nginx_is_running();
}

# ---------------------------------------------------------------------------
# Small helpers.

# An expectation is either one value for every request or an array with one
# entry per request (doc 2.4).
sub pick {
    my ($v, $i) = @_;
    return ref $v eq 'ARRAY' ? $v->[$i] : $v;
}

sub trim { my $s = shift; return undef unless defined $s;
           $s =~ s/^\s+|\s+$//g; $s }

# "each non-empty line" of a string, or the entries of an eval'd array
# (strings and qr// mixed), or a single qr//.
sub patterns {
    my $v = shift;
    return () unless defined $v;
    return grep { defined } @$v if ref $v eq 'ARRAY';
    return ($v) if ref $v;
    return grep { length } split /\n/, $v;
}

sub line_matches {
    my ($pat, $line) = @_;
    return ref $pat eq 'Regexp' ? $line =~ $pat : index($line, $pat) >= 0;
}

sub ver_cmp {
    my @a = split /\./, shift;
    my @b = split /\./, shift;
    for my $i (0 .. max($#a, $#b)) {
        my $c = ($a[$i] // 0) <=> ($b[$i] // 0);
        return $c if $c;
    }
    return 0;
}

# "5", "1.5s", "300ms" -> seconds
sub parse_time {
    my $t = trim(shift);
    return $t / 1000 if $t =~ s/ms$//;
    $t =~ s/s$//;
    return $t;
}

sub is_str {
    my ($got, $exp, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    return $Test::Nginx::Util::NoLongString
        ? Test::More::is($got, $exp, $name)
        : Test::LongString::is_string($got, $exp, $name);
}

# ---------------------------------------------------------------------------
# One block.

sub run_test {
    my ($block) = @_;
    my $name = "$0 " . $block->name;

    # --- skip_eval: <n>: <perl expr>   --- skip_nginx: <n>: <op> <version>
    if (defined(my $se = $block->skip_eval)) {
        my ($n, $expr) = $se =~ /^\s*(\d+)\s*:\s*(.*?)\s*$/s
            or bail_out("$name - bad skip_eval spec: $se");
        my $skip = eval "package main; no strict; $expr";
        bail_out("$name - skip_eval failed: $@") if $@;
        if ($skip) { SKIP: { Test::More::skip("$name - skip_eval", $n) } return }
    }
    if (defined(my $sn = $block->skip_nginx)) {
        my ($n, $op, $v, $why) =
            $sn =~ /^\s*(\d+)\s*:\s*([<>]=?|==|!=)\s*([\d.]+)\s*(.*)$/s
            or bail_out("$name - bad skip_nginx spec: $sn");
        my $c = ver_cmp(check_nginx_binary(), $v);
        my %ops = ('<' => $c < 0, '<=' => $c <= 0, '>' => $c > 0,
                   '>=' => $c >= 0, '==' => $c == 0, '!=' => $c != 0);
        if ($ops{$op}) {
            SKIP: { Test::More::skip("$name - $why" || "$name - nginx $op $v", $n) }
            return;
        }
    }
    my $tb = Test::More->builder;
    my $todo = $block->todo;
    $tb->todo_start(($todo =~ /^\s*\d+\s*:\s*(.*?)\s*$/s)[0] || 'todo')
        if defined $todo;

    run_test_body($block, $name);

    $tb->todo_end if defined $todo;
}

sub run_test_body {
    my ($block, $name) = @_;
    my %rand_ports;         # $TEST_NGINX_RAND_PORT_n, stable within the block
    my %conf = (server_name => trim(scalar $block->server_name),
                log_level   => trim(scalar $block->log_level));
    for my $s (qw(main_config http_config config post_main_config)) {
        $conf{$s} = expand_env(scalar $block->$s, \%rand_ports);
    }
    my $must_die = defined $block->must_die;

    # A block without --- config reuses the running nginx (doc 2.3); we also
    # restart for blocks that bring other server-side sections.
    my $restart = $must_die || !nginx_is_running()
        || grep { defined $block->$_ }
           qw(config http_config main_config post_main_config user_files);

    if ($restart) {
        stop_and_check_shutdown();
        prepare_servroot();
        my $uf = $block->user_files;
        $uf = ref $uf eq 'ARRAY'
            ? [map { [$_->[0], expand_env($_->[1], \%rand_ports), $_->[2]] } @$uf]
            : expand_env($uf, \%rand_ports);
        write_user_files($uf);
        write_nginx_conf(%conf);
        my ($ok, $err) = start_nginx();
        $ErrLogPos = 0;
        if ($must_die) {
            # nginx must refuse to start; error_log patterns are matched
            # against error.log and nginx's stderr.
            Test::More::ok(!$ok, "$name - die as expected");
            stop_nginx() if $ok;
            my ($lines) = read_error_log_from(0);
            push @$lines, split /\n/, Test::Nginx::Util::slurp(
                "$Test::Nginx::Util::LogDir/stderr.out");
            check_error_log($block, $name, $lines, 0, 1);
            return;
        }
        bail_out("Cannot start nginx using command \"$Test::Nginx::Util::NginxBinary"
                 . " -p $Test::Nginx::Util::ServRoot/ -c $Test::Nginx::Util::ConfFile"
                 . " -e $Test::Nginx::Util::ErrLogFile\": $err")
            unless $ok;
    } else {
        $ErrLogPos = error_log_size();
    }

    my $timeout = defined $block->timeout ? parse_time(scalar $block->timeout)
                                          : $Test::Nginx::Util::Timeout;
    my @reqs = build_requests($block, \%rand_ports);

    for my $k (0 .. $Test::Nginx::Util::RepeatEach - 1) {
        my @responses;
        for my $r (@reqs) {
            my ($raw, $timed_out) = send_request($block, $name, $r, $timeout);
            Test::More::fail("ERROR: client socket timed out - $name")
                if $timed_out && !defined $block->abort;
            push @responses, parse_responses($raw, $r->{count}, $r->{methods});
        }
        check_responses($block, $name, \@responses, $k)
            unless defined $block->ignore_response;

        Time::HiRes::sleep(parse_time(scalar $block->wait)) if defined $block->wait;
        Time::HiRes::sleep(3 * $Test::Nginx::Util::Sleep);     # ~45 ms
        my ($lines, $end) = read_error_log_from($ErrLogPos);
        # Each repetition sees only its own lines unless check_accum_error_log().
        $ErrLogPos = $end unless $Test::Nginx::Util::CheckAccumErrLog;
        check_error_log($block, $name, $lines, $k, 0);
    }

    if (defined $block->shutdown_error_log
        || defined $block->no_shutdown_error_log) {
        $PendingShutdown = [$block, $name];     # checked at the next stop
    }
}

# Stop nginx; then check the shutdown_error_log patterns of the block that
# ran last against the lines logged while it shut down (doc 2.6).
sub stop_and_check_shutdown {
    my $p = $PendingShutdown;
    undef $PendingShutdown;
    my $running = nginx_is_running();
    my $pos = $running ? error_log_size() : 0;
    stop_nginx();
    return unless $p && $running;
    my ($block, $name) = @$p;
    my ($lines) = read_error_log_from($pos);
    for my $pat (patterns(scalar $block->shutdown_error_log)) {
        Test::More::ok((grep { line_matches($pat, $_) } @$lines),
            "$name - pattern \"$pat\" matches a line in error.log (shutdown)");
    }
    for my $pat (patterns(scalar $block->no_shutdown_error_log)) {
        Test::More::ok(!(grep { line_matches($pat, $_) } @$lines),
            "$name - pattern \"$pat\" does not match a line in error.log (shutdown)");
    }
}

# ---------------------------------------------------------------------------
# Requests (doc 2.4).  Each entry of the returned list is one connection:
# { pieces => [...], count => <responses expected>, methods => [...] }.

sub build_requests {
    my ($block, $rand_ports) = @_;
    my $more = $block->more_headers;

    if (defined(my $pr = $block->pipelined_requests)) {
        my @specs = ref $pr eq 'ARRAY' ? @$pr : ($pr);
        my ($data, @methods) = ('');
        for my $j (0 .. $#specs) {
            # all but the last ask for keep-alive, all in one write
            my ($req, $m) = build_http_request(expand_env($specs[$j], $rand_ports),
                pick($more, $j), $j < $#specs ? 'keep-alive' : 'close');
            $data .= $req;
            push @methods, $m;
        }
        return { pieces => [$data], count => scalar @specs,
                 methods => \@methods };
    }

    if (defined(my $raw = $block->raw_request)) {
        # exact bytes, nothing added; an array is sent in pieces
        my @pieces = ref $raw eq 'ARRAY' ? @$raw : ($raw);
        my $first = ref $pieces[0] ? $pieces[0]{value} : $pieces[0];
        my ($m) = ($first // '') =~ /^\s*(\S+)/;
        return { pieces => \@pieces, count => 1, methods => [$m // 'GET'] };
    }

    my $r = $block->request;
    return () unless defined $r;
    my @reqs = ref $r eq 'ARRAY' ? @$r : ($r);
    my @out;
    for my $i (0 .. $#reqs) {
        if (ref $reqs[$i] eq 'ARRAY') {
            # packet-splitting form: sent as raw pieces (approximation)
            my @pieces = @{ $reqs[$i] };
            my $first = ref $pieces[0] ? $pieces[0]{value} : $pieces[0];
            my ($m) = ($first // '') =~ /^\s*(\S+)/;
            push @out, { pieces => \@pieces, count => 1,
                         methods => [$m // 'GET'] };
            next;
        }
        my ($req, $m) = build_http_request($reqs[$i], pick($more, $i), 'close');
        push @out, { pieces => [$req], count => 1, methods => [$m] };
    }
    return @out;
}

# "METHOD [URI [VERSION]]\n<body>" -> (bytes, METHOD)
sub build_http_request {
    my ($spec, $more, $conn) = @_;
    $spec //= '';
    $spec =~ s/^\s+//;
    $spec =~ s/^\s+// while $spec =~ s/^#[^\n]*(?:\n|\z)//;  # comment lines
    my ($first, $body) = split /\n/, $spec, 2;
    my ($method, $uri, $ver) = split ' ', $first // '';
    $method //= 'GET';
    $uri    //= '/';
    $ver    //= 'HTTP/1.1';

    my @hdrs = map { trim($_) } grep { /\S/ && !/^\s*#/ } split /\n/, $more // '';
    my $has = sub { my $h = shift; scalar grep { /^\Q$h\E\s*:/i } @hdrs };

    my $req = "$method $uri $ver\r\n";
    $req .= "Host: localhost\r\n" unless $has->('Host');
    $req .= "Connection: $conn\r\n" unless $has->('Connection');
    $body = trim($body) // '';
    utf8::encode($body) if utf8::is_utf8($body);
    if (length $body && !$has->('Content-Length')
        && !grep { /^Transfer-Encoding\s*:.*chunked/i } @hdrs) {
        $req .= "Content-Length: " . length($body) . "\r\n";
    }
    $req .= "$_\r\n" for @hdrs;
    return ("$req\r\n$body", $method);
}

# Connect (retrying while nginx comes up), write, read until the server
# closes the connection or nothing arrives for $timeout seconds.
sub send_request {
    my ($block, $name, $r, $timeout) = @_;
    my $port = server_port_for_client();
    my $sock;
    for (1 .. 50) {
        $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                      Proto => 'tcp', Timeout => $timeout);
        last if $sock;
        Time::HiRes::sleep(0.1);
    }
    unless ($sock) {
        Test::More::fail("$name - failed to connect to 127.0.0.1:$port: $!");
        return ('', 0);
    }
    binmode $sock;
    local $SIG{PIPE} = 'IGNORE';
    my @pieces = @{ $r->{pieces} };
    for my $j (0 .. $#pieces) {
        my ($data, $delay) = ref $pieces[$j] eq 'HASH'
            ? ($pieces[$j]{value}, $pieces[$j]{delay_before})
            : ($pieces[$j], $j ? 0.05 : 0);
        Time::HiRes::sleep($delay) if $delay;
        $data //= '';
        utf8::encode($data) if utf8::is_utf8($data);
        while (length $data) {
            my $n = syswrite $sock, $data;
            last unless $n;             # peer closed: read what we got
            substr($data, 0, $n) = '';
        }
    }
    if (defined(my $sd = $block->shutdown)) {
        $sd = trim($sd);
        shutdown $sock, length $sd ? $sd : 1;   # default SHUT_WR
    }
    my ($buf, $timed_out) = ('', 0);
    my $sel = IO::Select->new($sock);
    while (1) {
        unless ($sel->can_read($timeout)) { $timed_out = 1; last }
        my $n = sysread $sock, $buf, 65536, length $buf;
        last unless $n;                 # EOF or error (reset)
    }
    close $sock;
    return ($buf, $timed_out);
}

# ---------------------------------------------------------------------------
# Response parsing (doc 2.5): status line, headers, body; chunked bodies are
# de-chunked and bodies longer than Content-Length are cut.  Returns $count
# hashes { status, raw_headers, headers => {lc name => "v1, v2"}, body }.

sub parse_responses {
    my ($raw, $count, $methods) = @_;
    my @res;
    for my $i (0 .. $count - 1) {
        my $last = $i == $count - 1;
        my $res = { status => '', raw_headers => '', headers => {}, body => undef };
        push @res, $res;
        while (1) {
            my $hend = index $raw, "\r\n\r\n";
            if ($hend < 0) {                    # incomplete header
                ($res->{status}) = $raw =~ m{^HTTP/[\d.]+\s+(\d+)};
                $res->{status} //= '';
                $res->{raw_headers} = $raw;
                $raw = '';
                last;
            }
            my $head = substr $raw, 0, $hend + 2;
            $raw = substr $raw, $hend + 4;
            my ($sl, @lines) = split /\r\n/, $head;
            ($res->{status}) = $sl =~ m{^HTTP/[\d.]+\s+(\d+)};
            $res->{status} //= '';
            next if $res->{status} =~ /^1\d\d$/;    # skip 100 Continue etc.
            $res->{raw_headers} = $head;
            my $h = $res->{headers};
            for (@lines) {
                next unless /^([^:]+?)\s*:\s*(.*?)\s*$/;
                $h->{lc $1} = defined $h->{lc $1} ? "$h->{lc $1}, $2" : $2;
            }
            my $m  = $methods->[$i] // 'GET';
            my $cl = $h->{'content-length'};
            if ($m eq 'HEAD' || $res->{status} =~ /^(?:204|304)$/) {
                # a short or empty body is fine
                $res->{body} = $last && defined $cl
                    ? substr($raw, 0, $cl) : '';
                $raw = '' if $last;
            } elsif (($h->{'transfer-encoding'} // '') =~ /chunked/i) {
                ($res->{body}, $raw) = dechunk($raw);
            } elsif (defined $cl && $cl =~ /^\d+$/) {
                $res->{body} = substr $raw, 0, $cl;
                $raw = length $raw > $cl ? substr($raw, $cl) : '';
            } else {
                ($res->{body}, $raw) = ($raw, '');  # until close
            }
            last;
        }
    }
    return @res;
}

sub dechunk {
    my $s = shift;
    my $body = '';
    while ($s =~ s/^([0-9a-fA-F]+)[^\r\n]*\r\n//) {
        my $len = hex $1;
        if ($len == 0) {
            $s =~ s/^(?:[^\r\n]+\r\n)*(?:\r\n)?//;  # trailers
            return ($body, $s);
        }
        if (length $s < $len) { return ($body . $s, '') }
        $body .= substr $s, 0, $len;
        $s = substr $s, $len;
        $s =~ s/^\r\n//;
    }
    return ($body, $s);
}

# ---------------------------------------------------------------------------
# Response checks (doc 2.5).

sub check_responses {
    my ($block, $name, $responses, $k) = @_;
    my $repeat = $Test::Nginx::Util::RepeatEach;
    for my $i (0 .. $#$responses) {
        my $res = $responses->[$i];
        my $req = $repeat > 1 ? "(repeated req $k, req $i)" : "(req $i)";

        # status: error_code defaults to 200
        if (defined(my $like = pick(scalar $block->error_code_like, $i))) {
            Test::More::like($res->{status}, ref $like ? $like : qr/$like/,
                             "$name - status code ok");
        } else {
            my $code = defined $block->error_code
                ? trim(pick(scalar $block->error_code, $i)) : 200;
            Test::More::is($res->{status}, $code, "$name - status code ok")
                if defined $code;
        }

        # response_headers: exact values, "!Name" = absent;
        # response_headers_like only when response_headers is absent.
        if (defined(my $rh = pick(scalar $block->response_headers, $i))) {
            for my $line (grep { /\S/ } split /\n/, $rh) {
                if ($line =~ /^\s*!\s*([^:\s]+)/) {
                    my $h = $1;
                    Test::More::ok($res->{raw_headers} !~ /^\Q$h\E\s*:/mi,
                                   "$name - header $h not present");
                } elsif ($line =~ /^\s*([^:]+?)\s*:\s*(.*?)\s*$/) {
                    Test::More::is($res->{headers}{lc $1} // '', $2,
                                   "$name - header $1 ok");
                }
            }
        } elsif (defined(my $rhl = pick(scalar $block->response_headers_like, $i))) {
            for my $line (grep { /\S/ } split /\n/, $rhl) {
                next unless $line =~ /^\s*([^:]+?)\s*:\s*(.*?)\s*$/;
                my ($h, $re) = ($1, $2);
                Test::More::like($res->{headers}{lc $h} // '', qr/^(?:$re)$/,
                                 "$name - header $h like ok");
            }
        }

        for my $p (patterns(pick(scalar $block->raw_response_headers_like, $i))) {
            Test::More::like($res->{raw_headers}, ref $p ? $p : qr/$p/s,
                             "$name - raw resp headers like");
        }
        for my $p (patterns(pick(scalar $block->raw_response_headers_unlike, $i))) {
            Test::More::unlike($res->{raw_headers}, ref $p ? $p : qr/$p/s,
                               "$name - raw resp headers unlike");
        }

        # body: response_body (exact, or qr// via eval) wins over _like
        if (defined $block->response_body) {
            my $exp = pick(scalar $block->response_body, $i);
            if (ref $exp eq 'Regexp') {
                Test::More::like($res->{body}, $exp,
                    "$name - response_body - like $req");
            } elsif (defined $exp) {
                $exp = expand_env($exp);
                my $port = Test::Nginx::Util::server_port();
                $exp =~ s/\$ServerPortForClient\b/server_port_for_client()/ge;
                $exp =~ s/\$ServerPort\b/$port/g;
                is_str($res->{body}, $exp,
                       "$name - response_body - response is expected $req");
            }
        } elsif (defined(my $like = pick(scalar $block->response_body_like, $i))) {
            Test::More::like($res->{body}, ref $like ? $like : qr/$like/s,
                "$name - response_body_like - response is expected $req");
        }
        if (defined(my $unlike = pick(scalar $block->response_body_unlike, $i))) {
            Test::More::unlike($res->{body} // '', ref $unlike ? $unlike : qr/$unlike/s,
                "$name - response_body_unlike - response is expected $req");
        }
    }
}

# ---------------------------------------------------------------------------
# Error-log checks (doc 2.6) over the lines logged since the last read.

sub check_error_log {
    my ($block, $name, $lines, $k, $must_die) = @_;
    my @want    = patterns(scalar $block->error_log);
    my @notwant = patterns(scalar $block->no_error_log);

    for my $pat (@want) {
        Test::More::ok((grep { line_matches($pat, $_) } @$lines),
            "$name - pattern \"$pat\" matches a line in error.log");
    }
    for my $pat (@notwant) {
        my ($hit) = grep { line_matches($pat, $_) } @$lines;
        Test::More::ok(!defined $hit,
            "$name - pattern \"$pat\" does not match a line in error.log")
            or Test::More::diag("matched line: $hit");
    }
    return if $must_die;

    if (defined(my $g = $block->grep_error_log)) {
        # every matching fragment, each followed by "\n"
        my $out = '';
        for my $line (@$lines) {
            if (ref $g eq 'Regexp') {
                $out .= "$&\n" while $line =~ /$g/g;
            } else {
                my $p = 0;
                while (length $g && ($p = index($line, $g, $p)) >= 0) {
                    $out .= "$g\n";
                    $p += length $g;
                }
            }
        }
        my $exp = pick(scalar $block->grep_error_log_out, $k);
        if (ref $exp eq 'Regexp') {
            Test::More::like($out, $exp, "$name - grep_error_log_out (req $k)");
        } elsif (defined $exp) {
            is_str($out, expand_env($exp), "$name - grep_error_log_out (req $k)");
        }
    }

    # Implicit checks: [alert]/[crit]/[emerg] only warn unless a pattern
    # mentions that level; a failed C assertion is a failure.
    my $mentioned = join "\n", map { "$_" } @want, @notwant;
    for my $line (@$lines) {
        if ($line =~ /\[(alert|crit|emerg)\]/ && $mentioned !~ /\Q$1\E/) {
            warn "WARNING: $name - $line\n";
        }
        if ($line =~ /Assertion .* failed/) {
            Test::More::fail("$name - $line");
        }
    }
}

1;
